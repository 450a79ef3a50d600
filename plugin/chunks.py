"""A render in chunks of whole shots: the plan, the chunk files and the lossless join.

Every output frame of :func:`vscolorize.colorize` is a pure function of the clip, the hints of its
shot and the settings, so a render splits into ranges that can be computed anywhere and joined
without a seam. This module holds the parts that know nothing of where a chunk is computed (the
distributed renderer, ``vscolorize.distributed``, sends them to Dask workers):

- :func:`scan` finds the shots of a range of frames with the very detector that resets propagation
  and the temporal filter, and :func:`plan_chunks` packs whole shots into chunks of about a target
  length (a longer shot is split evenly).
- :func:`write_chunk` renders one chunk: the frames exactly as ``render`` feeds its encoder,
  stored losslessly (Ut Video or FFV1 in Matroska) under a temporary name and renamed into
  place, then a sidecar (``*.json``) with the range, a checksum per frame, the file's size and
  hash and the versions used. The sidecar is written last: a chunk without one does not exist.
- :func:`chunk_key` names what a chunk's frames depend on: the source, the settings, the weights
  and the keyframes of the shots it meets, nothing else. A render run again skips every chunk
  whose sidecar verifies under its key (:func:`finished`), so after a hint edit only the chunks of
  the edited shots are rendered again.
- :class:`Join` checks that the chunks cover every frame once, decodes them in order, verifies
  every frame's checksum and feeds the frames to the same encoder ``render`` uses, with the
  source's audio; the output appears atomically. Given the same frames, the output is the plain
  render's, bit for bit.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import platform
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any

import vapoursynth as vs

from vscolorize.core.errors import VscolorizeError
from vscolorize.core.footage import Footage, MemoryStore
from vscolorize.core.hints import Hints
from vscolorize.core.propagation import PropagationSettings

from .frames import check_format
from .render import (
    CODECS,
    ENCODER_ARGS,
    Encoder,
    Picture,
    RenderError,
    RenderSettings,
    _audio_args,
    _ffmpeg,
    check_frames,
    encoder_input,
    frame_rate,
    open_video,
    raw_frame,
)
from .tracks import ClipSource, source_frame

__all__ = [
    "CHUNK_FRAMES",
    "Chunk",
    "ChunkJob",
    "ChunkRecord",
    "Join",
    "Plan",
    "chunk_key",
    "fingerprint",
    "finished",
    "plan_chunks",
    "scan",
    "write_chunk",
]

log = logging.getLogger(__name__)

CHUNK_FRAMES = 1000  # the default target length: ~4 minutes of render at 854x480 on 2 cores
PLAN_FORMAT = "vscolorize.render-plan"
CHUNK_FORMAT = "vscolorize.chunk"
CHUNK_VERSION = 2  # 1 hashed frames with BLAKE2b
# Chunks are lossless and intra-only, in a Matroska written bit-exactly (the same frames make the
# same file). 8-bit 4:2:0 (what an H.264 render encodes) in Ut Video: encoding and decoding a
# chunk's frame cost 2.5 ms of CPU at 854x480, against 13.5 ms in FFV1 (a pan over a held-out
# photo, 288 frames, one thread each), for files 1.5x the size; on one machine the render, the
# chunks and the join share the same cores. Its left prediction: 0.61 + 0.22 s of CPU to encode
# and decode 300 such frames, against 0.69 + 0.68 s for median, in files 4 % larger. 16-bit RGB
# (an FFV1 render) in FFV1 with CRCs.
_CHUNK_CODECS = {
    "yuv420p": ["-c:v", "utvideo", "-pred", "left"],
    "gbrp16le": ["-c:v", "ffv1", "-level", "3", "-g", "1", "-slicecrc", "1"],
}
_BITEXACT = ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact"]
_SAMPLES = 16  # blocks of the source hashed for its fingerprint
_SAMPLE = 1 << 16


def _digest(*parts: bytes) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part)
    return h.hexdigest()


def frame_checksum(raw: bytes) -> str:
    """A raw frame's checksum in a chunk's sidecar (SHA-256 runs on the CPU's SHA instructions:
    0.35 ms for an 854x480 4:2:0 frame, BLAKE2b 0.69 ms; every frame is hashed twice)."""
    return hashlib.sha256(raw).hexdigest()[:32]


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def fingerprint(path: Path) -> str:
    """A file's identity, read cheaply: its size and a hash of its first and last MiB and of
    blocks spread over it (a film is many GB, possibly on a network share)."""
    size = path.stat().st_size
    ends = 1 << 20
    blocks = [
        (0, ends),
        *((size * k // _SAMPLES, _SAMPLE) for k in range(1, _SAMPLES)),
        (max(size - ends, 0), ends),
    ]
    h = hashlib.blake2b(str(size).encode(), digest_size=16)
    with path.open("rb") as f:
        for offset, length in blocks:
            f.seek(offset)
            h.update(f.read(length))
    return h.hexdigest()


def file_digest(path: Path) -> str:
    """The hash of a whole file."""
    h = hashlib.blake2b(digest_size=16)
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def write_json(path: Path, value: object) -> None:
    """Write ``value`` as JSON atomically (a temporary file renamed into place)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    temporary.write_text(json.dumps(value, indent=1, sort_keys=True) + "\n")
    os.replace(temporary, path)


def read_json(path: Path) -> Any:
    """``path``'s JSON, or None when it is missing or damaged."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class Chunk:
    """Frames ``first`` .. ``last`` (inclusive) of the output; ``reach_first`` .. ``reach_last``
    are the shots they meet, whose keyframes they depend on."""

    first: int
    last: int
    reach_first: int
    reach_last: int

    @property
    def name(self) -> str:
        return f"frames-{self.first:07d}-{self.last:07d}"

    @property
    def frames(self) -> int:
        return self.last - self.first + 1

    def describe(self) -> str:
        return f"frames {self.first}-{self.last}"


def plan_chunks(starts: Sequence[int], first: int, last: int, target: int) -> list[Chunk]:
    """Frames ``first`` .. ``last`` in chunks of whole shots, about ``target`` frames each.

    Args:
        starts: the first frame of every shot that meets the range, in order (the first may lie
            before ``first``), and after them the frame after the last shot's end.
        target: chunks hold whole shots up to this many frames; a longer shot is split into
            the fewest even pieces of at most ``target`` frames.
    """
    shots = [range(a, b) for a, b in itertools.pairwise(starts)]
    chunks: list[Chunk] = []
    group: list[range] = []  # shots gathered for the next chunk

    def close() -> None:
        if group:
            a, b = max(group[0].start, first), min(group[-1].stop - 1, last)
            chunks.append(Chunk(a, b, group[0].start, group[-1].stop - 1))
            group.clear()

    for shot in shots:
        inside = min(shot.stop - 1, last) - max(shot.start, first) + 1
        if inside <= 0:
            continue
        if inside > target:
            close()
            a, _b = max(shot.start, first), min(shot.stop - 1, last)
            pieces = -(-inside // target)
            cuts = [a + inside * k // pieces for k in range(pieces + 1)]
            chunks += [Chunk(p, q - 1, shot.start, shot.stop - 1) for p, q in itertools.pairwise(cuts)]
            continue
        held = sum(min(s.stop - 1, last) - max(s.start, first) + 1 for s in group)
        if held + inside > target:
            close()
        group.append(shot)
    close()
    return chunks


def scan(source: Path, first: int, last: int, *, back: bool = False, forward: bool = False) -> dict[str, Any]:
    """The shots of frames ``first`` .. ``last`` of the video ``source``.

    Returns:
        ``cuts``: the frames in ``first + 1`` .. ``last`` that start a shot; with ``back``,
        ``shot_start``: where the shot of ``first`` begins, and with ``forward``, ``shot_end``:
        where the shot of ``last`` ends (frames outside a render's range still share their
        shot's hints).

    Cuts are decided exactly as colorizing decides them (the same :class:`Footage` detector:
    the clip's scene-change props, else the luma-histogram test), from pictures alone.
    """
    clip = open_video(source)
    check_format(clip, caller="render")
    footage = Footage(ClipSource(clip), PropagationSettings().motion, MemoryStore(0))
    cuts = []
    for n, frame in enumerate(clip[first : last + 1].frames(close=True), first):
        footage.offer(n, partial(source_frame, frame))
        if n > first and footage.cut_before(n):
            cuts.append(n)
    found: dict[str, Any] = {"cuts": cuts}
    if back:
        found["shot_start"] = footage.shot_start(first)
    if forward:
        found["shot_end"] = footage.shot_end(last)
    return found


@dataclass(frozen=True)
class Plan:
    """A render's chunks and what they are made from (the manifest beside the output)."""

    source: str  # the source's path, as the workers see it
    identity: dict[str, Any]  # source fingerprint, settings, weights, versions: every chunk's base
    hints: dict[str, str] | None  # the hints file's path and hash (chunk keys hold their share)
    start: int
    end: int
    target: int
    rate: tuple[int, int] | None  # frame rate (None: variable)
    size: tuple[int, int]  # width, height
    starts: tuple[int, ...]  # shot starts (see plan_chunks)
    chunks: tuple[Chunk, ...]
    keys: tuple[str, ...]  # chunk_key of each chunk

    def to_json(self) -> dict[str, Any]:
        listed = [{**asdict(c), "key": k} for c, k in zip(self.chunks, self.keys, strict=True)]
        return {
            "format": PLAN_FORMAT,
            "version": 1,
            "source": self.source,
            "identity": self.identity,
            "hints": self.hints,
            "start": self.start,
            "end": self.end,
            "target": self.target,
            "rate": self.rate,
            "size": self.size,
            "starts": list(self.starts),
            "chunks": listed,
        }


def chunk_key(identity: dict[str, Any], chunk: Chunk, hints: Hints | None) -> str:
    """What a chunk's frames depend on, as a hash: the render's identity, its range and the
    keyframes within the shots it meets (propagation and the temporal filter stop at cuts)."""
    keyframes = (
        []
        if hints is None
        else [k.to_json() for k in hints.keyframes if chunk.reach_first <= k.frame <= chunk.reach_last]
    )
    return _digest(_canonical([identity, chunk.first, chunk.last, keyframes]))


@dataclass(frozen=True)
class ChunkJob:
    """All a worker needs to render a chunk (small: it travels to the worker)."""

    source: str
    hints: str | None  # the hints file's path
    settings: RenderSettings
    chunk: Chunk
    key: str
    folder: str  # where chunks go (seen by every worker and by the coordinator)
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
    # "finish" (the encoder's end, hashing the file)
    times: dict[str, float] = field(default_factory=dict)


def hints_digest(path: str | None) -> str | None:
    return None if path is None else file_digest(Path(path))


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


def _video(folder: Path, chunk: Chunk) -> Path:
    return folder / f"{chunk.name}.mkv"


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
    """Render ``job.chunk`` into its folder: the lossless chunk, then its sidecar.

    Args:
        on_frame: called with the number of frames written so far, after each frame.

    Raises:
        RenderError: the input is unusable, a frame failed, or the encoder failed.
    """
    began = time.perf_counter()
    check_inputs(job)
    if job.threads is not None:
        _set_threads(job.threads)
    chunk, folder = job.chunk, Path(job.folder)
    clip = open_video(job.source)
    if chunk.last >= clip.num_frames:
        raise RenderError(f"{job.source}: {chunk.describe()} are past its end ({clip.num_frames})")
    colored = job.settings.colorize(clip, job.hints)[chunk.first : chunk.last + 1]
    encoded = encoder_input(colored, job.settings.codec)
    pix_fmt = CODECS[job.settings.codec][2]
    picture = Picture(clip.width, clip.height, frame_rate(clip) or Fraction(25), pix_fmt)
    checksums: list[str] = []
    size = 0
    output = _video(folder, chunk)
    times = {"setup": time.perf_counter() - began, "frames": 0.0, "write": 0.0}
    with Encoder(output, picture, [*_CHUNK_CODECS[pix_fmt], *_BITEXACT]) as encoder:
        clock = time.perf_counter()
        for frame in check_frames(encoded.frames(close=True)):
            wrote = time.perf_counter()
            times["frames"] += wrote - clock
            raw = raw_frame(frame)
            size = len(raw)
            checksums.append(frame_checksum(raw))
            encoder.write(raw)
            if on_frame is not None:
                on_frame(len(checksums))
            clock = time.perf_counter()
            times["write"] += clock - wrote
        encoder.finish(chunk.frames)
    stat = output.stat()
    record = {
        "name": output.name,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "hash": file_digest(output),
    }
    seconds = time.perf_counter() - began
    times["finish"] = seconds - sum(times.values())
    device = job.settings.device or "auto"
    write_json(
        _sidecar(folder, chunk),
        {
            "format": CHUNK_FORMAT,
            "version": CHUNK_VERSION,
            "key": job.key,
            "first": chunk.first,
            "last": chunk.last,
            "width": clip.width,
            "height": clip.height,
            "pix_fmt": pix_fmt,
            "frame_bytes": size,
            "checksums": checksums,
            "file": record,
            "versions": _versions(),
            "worker": platform.node(),
            "device": device,
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


def finished(folder: Path, chunk: Chunk, key: str) -> dict[str, Any] | None:
    """The sidecar of ``chunk`` if the chunk is finished under ``key``: the sidecar is whole and
    names this key and range, and the chunk file has the size and modification time it records."""
    sidecar = read_json(_sidecar(folder, chunk))
    if not isinstance(sidecar, dict) or sidecar.get("format") != CHUNK_FORMAT:
        return None
    if sidecar.get("version") != CHUNK_VERSION:
        return None
    if (sidecar.get("key"), sidecar.get("first"), sidecar.get("last")) != (
        key,
        chunk.first,
        chunk.last,
    ):
        return None
    if len(sidecar.get("checksums", ())) != chunk.frames:
        return None
    # the file as it was written (hashing every chunk again would read a film's worth of lossless
    # video at each resume; the join verifies every frame's checksum anyway)
    record = sidecar.get("file", {})
    try:
        stat = _video(folder, chunk).stat()
    except OSError:
        return None
    if (stat.st_size, stat.st_mtime_ns) != (record.get("size"), record.get("mtime_ns")):
        return None
    return sidecar


def forget(folder: Path, chunk: Chunk) -> None:
    """Remove a chunk (its sidecar first: without it, the chunk does not count)."""
    _sidecar(folder, chunk).unlink(missing_ok=True)
    _video(folder, chunk).unlink(missing_ok=True)


def tidy(folder: Path, plan: Plan) -> None:
    """Remove what is not part of ``plan``: chunks of another plan, files half written."""
    keep = {p(folder, c).name for c in plan.chunks for p in (_sidecar, _video)}
    keep.add(MANIFEST)
    for path in folder.iterdir():
        if (
            path.is_file()
            and path.name not in keep
            and (path.name.startswith(("frames-", ".frames-")) or path.name.endswith(".partial"))
        ):
            path.unlink(missing_ok=True)


MANIFEST = "manifest.json"


def save_plan(folder: Path, plan: Plan) -> None:
    write_json(folder / MANIFEST, plan.to_json())


def load_plan(folder: Path) -> dict[str, Any] | None:
    """The manifest's JSON, if there is a whole one."""
    data = read_json(folder / MANIFEST)
    if isinstance(data, dict) and data.get("format") == PLAN_FORMAT and data.get("version") == 1:
        return data
    return None


class DamagedChunk(RenderError):
    """A chunk's frames do not match its sidecar (it is removed, to be rendered again)."""


def _decoded(video: Path, frame_bytes: int, pix_fmt: str) -> Iterator[bytes]:
    command = [
        _ffmpeg(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin",
        "-i",
        str(video),
        "-map",
        "0:v:0",
        "-f",
        "rawvideo",
        "-pix_fmt",
        pix_fmt,
        "-",
    ]
    decoder = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert decoder.stdout is not None and decoder.stderr is not None
    try:
        while frame := decoder.stdout.read(frame_bytes):
            yield frame
        if decoder.wait() != 0:
            raise DamagedChunk(
                f"{video}: cannot be decoded: {decoder.stderr.read().decode(errors='replace').strip()}"
            )
    finally:
        if decoder.poll() is None:
            decoder.kill()
            decoder.wait()
        decoder.stdout.close()
        decoder.stderr.close()


class Join:
    """Joins a plan's chunks into ``output`` on a thread of its own, in order, each as soon as it
    is :meth:`ready`, so that the join of a long render runs while its last chunks render: each
    chunk is decoded, every frame checked against its checksum and fed to the encoder ``render``
    uses, with ``audio``'s audio cut to the plan's range. The output appears only when every
    chunk is in (:meth:`wait`); :meth:`cancel` leaves no output.

    Raises:
        VscolorizeError: the plan does not cover its range once (a bug: raised at once).
    """

    def __init__(self, folder: Path, plan: Plan, output: Path, *, audio: Path | None) -> None:
        expected = plan.start
        for chunk in plan.chunks:
            if chunk.first != expected:
                raise VscolorizeError(f"the plan leaves frames {expected}-{chunk.first - 1} out")
            expected = chunk.last + 1
        if expected != plan.end + 1:
            raise VscolorizeError(f"the plan leaves frames {expected}-{plan.end} out")
        self.folder, self.plan, self.output, self.audio = folder, plan, output, audio
        self.written = 0  # frames joined so far
        self._ready: set[int] = set()
        self._cancelled = False
        self._error: BaseException | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="vscolorize-join", daemon=True)
        self._thread.start()

    def ready(self, chunk: Chunk) -> None:
        """``chunk`` is finished: it may be joined."""
        with self._changed:
            self._ready.add(self.plan.chunks.index(chunk))
            self._changed.notify_all()

    def cancel(self) -> None:
        """Stop, leaving no output (the chunks stay)."""
        with self._changed:
            self._cancelled = True
            self._changed.notify_all()
        self._thread.join()

    def wait(self, tick: Callable[[int], None] | None = None) -> int:
        """Wait until every chunk is joined (all must be :meth:`ready`); returns the frames
        written. ``tick`` is called with the frames joined so far, now and then.

        Raises:
            RenderError: a chunk is missing.
            DamagedChunk: a chunk's frames differ from its checksums (it was removed).
        """
        while self._thread.is_alive():
            self._thread.join(0.25)
            if tick is not None:
                tick(self.written)
        if self._error is not None:
            raise self._error
        return self.written

    def _next(self, index: int) -> bool:
        """Wait for chunk ``index``; False when cancelled."""
        with self._changed:
            self._changed.wait_for(lambda: index in self._ready or self._cancelled)
            return not self._cancelled

    def _run(self) -> None:
        try:
            self._join()
        except BaseException as e:  # handed to wait()
            self._error = e

    def _join(self) -> None:
        plan, folder = self.plan, self.folder
        codec = plan.identity["settings"]["codec"]
        rate = Fraction(*plan.rate) if plan.rate else None
        picture = Picture(*plan.size, rate, CODECS[codec][2])
        total = plan.end - plan.start + 1
        whole = total == plan.identity["frames"]
        audio_args = _audio_args(
            self.audio, None if whole else plan.start, total, rate, self.output.suffix.lower()
        )
        with Encoder(self.output, picture, ENCODER_ARGS[codec], audio_args) as encoder:
            for index, (chunk, key) in enumerate(zip(plan.chunks, plan.keys, strict=True)):
                if not self._next(index):
                    return  # leaving the encoder removes what it wrote
                sidecar = finished(folder, chunk, key)
                if sidecar is None:
                    raise RenderError(f"{chunk.describe()}: the chunk is missing or incomplete")
                for raw in self._frames(chunk, sidecar):
                    encoder.write(raw)
                    self.written += 1
            encoder.finish(total)

    def _frames(self, chunk: Chunk, sidecar: dict[str, Any]) -> Iterator[bytes]:
        """The chunk's raw frames, each checked against its checksum."""
        frames = 0
        video = _video(self.folder, chunk)
        for frames, raw in enumerate(_decoded(video, sidecar["frame_bytes"], sidecar["pix_fmt"]), 1):
            if frames > chunk.frames or frame_checksum(raw) != sidecar["checksums"][frames - 1]:
                forget(self.folder, chunk)
                raise DamagedChunk(
                    f"{chunk.describe()}: frame {chunk.first + frames - 1} differs from its "
                    "checksum; the chunk was removed (run again to render it anew)"
                )
            yield raw
        if frames != chunk.frames:
            forget(self.folder, chunk)
            raise DamagedChunk(
                f"{chunk.describe()}: the chunk holds {frames} frames, not {chunk.frames}; it was "
                "removed (run again to render it anew)"
            )
