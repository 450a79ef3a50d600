"""The join: a plan's chunks, verified by their files' hashes, copied one after the other into the
output.

Every chunk is a stream of its own in the output's codec and container, starting with a keyframe
(see :mod:`.chunk`), so the join decodes and encodes nothing: :func:`join_chunks` checks that the
chunks cover every frame once and that each chunk file has the size and hash its sidecar records
(reading its bytes), then has ffmpeg's concat demuxer copy their packets into the output with the
source's audio, and counts the video packets ffmpeg wrote against the frames expected. The output
appears atomically. A chunk whose file differs from its sidecar is removed, so that a render run
again renders it anew.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from fractions import Fraction
from pathlib import Path

from vscolorize.core.errors import VscolorizeError

from ..render import CONTAINER_ARGS, RenderError, _audio_args, _ffmpeg
from .chunk import file_matches, forget, sidecar_of, video_file
from .plan import Plan

__all__ = ["DamagedChunk", "check_cover", "concat_list", "join_chunks"]

_DEFAULT_RATE = Fraction(25)  # a variable-frame-rate source is written at 25 fps (as render does)


class DamagedChunk(RenderError):
    """A chunk's file differs from its sidecar (it is removed, to be rendered again)."""


def check_cover(plan: Plan) -> None:
    """Raises VscolorizeError (a bug) unless ``plan``'s chunks cover its range once, in order."""
    expected = plan.start
    for chunk in plan.chunks:
        if chunk.first != expected:
            raise VscolorizeError(f"the plan leaves frames {expected}-{chunk.first - 1} out")
        expected = chunk.last + 1
    if expected != plan.end + 1:
        raise VscolorizeError(f"the plan leaves frames {expected}-{plan.end} out")


def _quoted(path: Path) -> str:
    """A path as the concat demuxer's script quotes it."""
    return "'" + str(path).replace("'", "'\\''") + "'"


def concat_list(folder: Path, plan: Plan) -> str:
    """The concat demuxer's script of ``plan``'s chunks. Each chunk's duration is given, in
    microseconds, as the difference of the exact times of its first frame and the next chunk's,
    rounded: the chunks' own durations (a Matroska file's are in milliseconds) would let the
    rounding add up over a film."""
    rate = Fraction(*plan.rate) if plan.rate else _DEFAULT_RATE
    lines = ["ffconcat version 1.0"]
    for chunk in plan.chunks:
        begin, end = (round((n - plan.start) * 1_000_000 / rate) for n in (chunk.first, chunk.last + 1))
        lines += [f"file {_quoted(video_file(folder, chunk, plan.suffix))}", f"duration {end - begin}us"]
    return "\n".join(lines) + "\n"


def join_chunks(folder: Path, plan: Plan, output: Path, *, audio: Path | None) -> int:
    """Copy ``plan``'s finished chunks in ``folder`` into ``output``, with ``audio``'s audio cut to
    the plan's range; returns the frames written.

    Raises:
        RenderError: a chunk is missing, or ffmpeg failed or wrote another number of frames.
        DamagedChunk: a chunk file differs from its sidecar (it was removed).
        VscolorizeError: the plan does not cover its range once (a bug).
    """
    check_cover(plan)
    for chunk, key in zip(plan.chunks, plan.keys, strict=True):
        sidecar = sidecar_of(folder, chunk, key)
        if sidecar is None:
            raise RenderError(f"{chunk.describe()}: the chunk is missing or incomplete")
        if not file_matches(video_file(folder, chunk, plan.suffix), sidecar):
            forget(folder, chunk, plan.suffix)
            raise DamagedChunk(
                f"{chunk.describe()}: the chunk file differs from its sidecar (size or hash); the "
                "chunk was removed (run again to render it anew)"
            )
    listing = folder / f".join-{secrets.token_hex(4)}.ffconcat"
    listing.write_text(concat_list(folder, plan))
    total = plan.end - plan.start + 1
    whole = total == plan.identity["frames"]
    rate = Fraction(*plan.rate) if plan.rate else None
    suffix = output.suffix.lower()
    audio_input, audio_codec = _audio_args(audio, None if whole else plan.start, total, rate, suffix)
    temporary = output.with_name(
        f".{output.stem}.{os.getpid()}-{secrets.token_hex(4)}.partial{output.suffix}"
    )
    command = [
        _ffmpeg(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin",
        "-nostats",
        "-progress",
        "pipe:1",
        "-y",
        "-f",
        "concat",
        "-safe",
        "0",
        "-i",
        str(listing),
        *audio_input,
        "-c:v",
        "copy",
        *audio_codec,
        # no random identifiers (Matroska's segment UID) nor versions: the same chunks and audio
        # make the same file, wherever they are joined
        "-fflags",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        *CONTAINER_ARGS.get(suffix, []),
        str(temporary),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines()
            raise RenderError(f"{output}: the join failed: {lines[-1] if lines else done.returncode}")
        # -progress reports the video packets written (one a frame), last at "progress=end"
        counts = [
            line.removeprefix("frame=") for line in done.stdout.splitlines() if line.startswith("frame=")
        ]
        frames = int(counts[-1]) if counts else -1
        if frames != total:
            raise RenderError(f"{output}: the join wrote {frames} frames, not {total}")
        os.replace(temporary, output)
    finally:
        temporary.unlink(missing_ok=True)
        listing.unlink(missing_ok=True)
    return frames
