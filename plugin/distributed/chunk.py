"""One chunk on disk: rendering it (:func:`write_chunk`), and telling a finished one (:func:`finished`).

A chunk holds its frames encoded as the output is (the render's codec and container, the encoder
``render`` uses, threads pinned, muxed bit-exactly: the same frames make the same file), as a
stream of its own that starts with a keyframe, so that the join is a stream copy. It is written
under a temporary name and renamed into place, then a sidecar (``*.json``) with the range, a
checksum of every raw frame fed to the encoder, the file's size and hash and the versions used.
The sidecar is written last: a chunk without one does not exist. A render run again skips every
chunk whose sidecar and file hash verify under its key.
"""

from __future__ import annotations

import hashlib
import os
import platform
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import vapoursynth as vs

from ..render import (
    BITEXACT_ARGS,
    CODECS,
    ENCODER_ARGS,
    Encoder,
    Picture,
    RenderError,
    RenderSettings,
    check_frames,
    encoder_input,
    frame_rate,
    raw_frame,
)
from ..sources import open_video
from .plan import MANIFEST, Chunk, Plan, file_digest, fingerprint, hints_digest, read_json, write_json

__all__ = [
    "ChunkJob",
    "ChunkRecord",
    "check_inputs",
    "file_matches",
    "finished",
    "forget",
    "frame_checksum",
    "sidecar_of",
    "tidy",
    "video_file",
    "write_chunk",
    "writing",
]

CHUNK_FORMAT = "vscolorize.chunk"
CHUNK_VERSION = 3  # 1 hashed frames with BLAKE2b; 2 held lossless frames (Ut Video or FFV1)


def frame_checksum(raw: bytes) -> str:
    """A raw frame's checksum in a chunk's sidecar (SHA-256 runs on the CPU's SHA instructions:
    0.35 ms for an 854x480 4:2:0 frame, BLAKE2b 0.69 ms; every frame is hashed twice)."""
    return hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True)
class ChunkJob:
    """All a worker needs to render a chunk (small: it travels to the worker)."""

    source: str
    hints: str | None  # the hints file's path
    settings: RenderSettings
    chunk: Chunk
    key: str
    folder: str  # where chunks go (seen by every worker and by the coordinator)
    suffix: str  # the output's container (".mp4", ".mkv", ...): the chunk's too
    source_fingerprint: str
    hints_digest: str | None
    threads: int | None = None  # VapourSynth / torch / OpenCV threads; None: the machine's


@dataclass(frozen=True)
class ChunkRecord:
    """What a finished chunk's task returns (its sidecar holds the per-frame checksums)."""

    name: str
    frames: int
    seconds: float
    worker: str
    # seconds in: "setup" (checks, opening the source, building the node, loading the model),
    # "frames" (waiting for colorized frames), "write" (checksums, feeding the chunk's encoder),
    # "finish" (the encoder's end, hashing the file); and CPU seconds: "cpu" (all of the chunk's,
    # the encoder's included), "encode_cpu" (the encoder's process alone)
    times: dict[str, float] = field(default_factory=dict)


def _versions() -> dict[str, str]:
    import cv2
    import numpy
    import torch

    from vscolorize import __version__

    return {
        "vscolorize": __version__,
        "vapoursynth": str(vs.__version__),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "opencv": cv2.__version__,
        "python": platform.python_version(),
    }


def _sidecar(folder: Path, chunk: Chunk) -> Path:
    return folder / f"{chunk.name}.json"


def video_file(folder: Path, chunk: Chunk, suffix: str) -> Path:
    """Where ``chunk``'s frames are in ``folder``, in the container ``suffix`` names."""
    return folder / f"{chunk.name}{suffix}"


def check_inputs(job: ChunkJob) -> None:
    """Refuse to render from a source or hints that differ from the coordinator's.

    Raises:
        RenderError: naming the file and this machine.
    """
    host = platform.node()
    source = Path(job.source)
    if not source.is_file():
        raise RenderError(f"{job.source}: no such file on {host}")
    if fingerprint(source) != job.source_fingerprint:
        raise RenderError(f"{job.source}: the file on {host} differs from the coordinator's")
    if job.hints is not None:
        if not Path(job.hints).is_file():
            raise RenderError(f"{job.hints}: no such file on {host}")
        if hints_digest(job.hints) != job.hints_digest:
            raise RenderError(f"{job.hints}: the hints on {host} differ from the coordinator's")


def write_chunk(job: ChunkJob, on_frame: Callable[[int], None] | None = None) -> ChunkRecord:
    """Render ``job.chunk`` into its folder: the encoded chunk, then its sidecar.

    Args:
        on_frame: called with the number of frames written so far, after each frame.

    Raises:
        RenderError: the input is unusable, a frame failed, or the encoder failed.
    """
    frames = writing(job)
    try:
        done = 0
        while True:
            next(frames)
            done += 1
            if on_frame is not None:
                on_frame(done)
    except StopIteration as end:
        record: ChunkRecord = end.value
        return record


def _cpu() -> tuple[float, float]:
    """CPU seconds of this process, and of its children that have been waited for."""
    t = os.times()
    return t.user + t.system, t.children_user + t.children_system


def writing(
    job: ChunkJob, colored: vs.VideoNode | None = None
) -> Generator[vs.VideoFrame, None, ChunkRecord]:
    """:func:`write_chunk`, yielding each frame once it is fed to the encoder.

    Args:
        colored: the whole clip colorized with ``job.settings`` (a render in this process builds
            it once for all its chunks); None: opened and colorized here, with ``job.hints``.
    """
    began, cpu = time.perf_counter(), _cpu()
    check_inputs(job)
    if job.threads is not None:
        _set_threads(job.threads)
    chunk, folder, codec = job.chunk, Path(job.folder), job.settings.codec
    if colored is None:
        colored = job.settings.colorize(open_video(job.source), job.hints)
    if chunk.last >= colored.num_frames:
        raise RenderError(f"{job.source}: {chunk.describe()} are past its end ({colored.num_frames})")
    encoded = encoder_input(colored[chunk.first : chunk.last + 1], codec)
    pix_fmt = CODECS[codec][2]
    picture = Picture(colored.width, colored.height, frame_rate(colored) or Fraction(25), pix_fmt)
    checksums: list[str] = []
    size = 0
    output = video_file(folder, chunk, job.suffix)
    times = {"setup": time.perf_counter() - began, "frames": 0.0, "write": 0.0}
    with Encoder(output, picture, [*ENCODER_ARGS[codec], *BITEXACT_ARGS]) as encoder:
        clock = time.perf_counter()
        for frame in check_frames(encoded.frames(close=True), first=chunk.first):
            wrote = time.perf_counter()
            times["frames"] += wrote - clock
            raw = raw_frame(frame)
            size = len(raw)
            checksums.append(frame_checksum(raw))
            encoder.write(raw)
            yield frame
            clock = time.perf_counter()
            times["write"] += clock - wrote
        encoder.finish(chunk.frames)
    record = {"name": output.name, "size": output.stat().st_size, "hash": file_digest(output)}
    seconds = time.perf_counter() - began
    times["finish"] = seconds - sum(times.values())
    spent = _cpu()
    times["cpu"] = spent[0] - cpu[0] + spent[1] - cpu[1]
    times["encode_cpu"] = spent[1] - cpu[1]  # the encoder is the only child waited for
    write_json(
        _sidecar(folder, chunk),
        {
            "format": CHUNK_FORMAT,
            "version": CHUNK_VERSION,
            "key": job.key,
            "first": chunk.first,
            "last": chunk.last,
            "width": colored.width,
            "height": colored.height,
            "pix_fmt": pix_fmt,
            "frame_bytes": size,
            "checksums": checksums,
            "file": record,
            "versions": _versions(),
            "worker": platform.node(),
            "device": job.settings.pipeline.device or "auto",
            "seconds": round(seconds, 3),
            "times": {k: round(v, 3) for k, v in times.items()},
        },
    )
    return ChunkRecord(chunk.name, chunk.frames, seconds, platform.node(), times)


def _set_threads(threads: int) -> None:
    import cv2
    import torch

    vs.core.num_threads = threads
    cv2.setNumThreads(threads)
    torch.set_num_threads(threads)


def sidecar_of(folder: Path, chunk: Chunk, key: str) -> dict[str, Any] | None:
    """The sidecar of ``chunk`` if it is whole and names ``key`` and this range (the file it
    records is not checked: see :func:`file_matches`)."""
    sidecar = read_json(_sidecar(folder, chunk))
    if not isinstance(sidecar, dict) or sidecar.get("format") != CHUNK_FORMAT:
        return None
    if sidecar.get("version") != CHUNK_VERSION:
        return None
    if (sidecar.get("key"), sidecar.get("first"), sidecar.get("last")) != (key, chunk.first, chunk.last):
        return None
    if len(sidecar.get("checksums", ())) != chunk.frames or not isinstance(sidecar.get("file"), dict):
        return None
    return sidecar


def file_matches(video: Path, sidecar: dict[str, Any]) -> bool:
    """Whether ``video`` is the file ``sidecar`` records: its name, size and hash (its bytes are
    read; nothing is decoded)."""
    record = sidecar["file"]
    try:
        return (
            record.get("name") == video.name
            and video.stat().st_size == record.get("size")
            and file_digest(video) == record.get("hash")
        )
    except OSError:
        return False


def finished(folder: Path, chunk: Chunk, key: str, suffix: str) -> dict[str, Any] | None:
    """The sidecar of ``chunk`` if the chunk is finished under ``key``: the sidecar is whole and
    names this key and range, and the chunk file (in the container ``suffix`` names) has the name,
    size and hash it records (reading an encoded chunk costs little beside rendering it)."""
    sidecar = sidecar_of(folder, chunk, key)
    if sidecar is None or not file_matches(video_file(folder, chunk, suffix), sidecar):
        return None
    return sidecar


def forget(folder: Path, chunk: Chunk, suffix: str) -> None:
    """Remove a chunk (its sidecar first: without it, the chunk does not count)."""
    _sidecar(folder, chunk).unlink(missing_ok=True)
    video_file(folder, chunk, suffix).unlink(missing_ok=True)


def tidy(folder: Path, plan: Plan) -> None:
    """Remove what is not part of ``plan``: chunks of another plan, files half written."""
    keep = {_sidecar(folder, c).name for c in plan.chunks}
    keep |= {video_file(folder, c, plan.suffix).name for c in plan.chunks}
    keep.add(MANIFEST)
    for path in folder.iterdir():
        if (
            path.is_file()
            and path.name not in keep
            and (path.name.startswith(("frames-", ".frames-")) or path.name.endswith(".partial"))
        ):
            path.unlink(missing_ok=True)
