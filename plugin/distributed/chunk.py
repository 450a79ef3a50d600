"""One chunk on disk: rendering it (:func:`write_chunk`), and telling a finished one (:func:`finished`).

A chunk holds the frames exactly as ``render`` feeds its encoder, stored losslessly (Ut Video or
FFV1 in Matroska) under a temporary name and renamed into place, then a sidecar (``*.json``) with
the range, a checksum per frame, the file's size and hash and the versions used. The sidecar is
written last: a chunk without one does not exist. A render run again skips every chunk whose
sidecar verifies under its key.
"""

from __future__ import annotations

import hashlib
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import vapoursynth as vs

from ..render import (
    CODECS,
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
    "finished",
    "forget",
    "frame_checksum",
    "tidy",
    "video_file",
    "write_chunk",
]

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


def video_file(folder: Path, chunk: Chunk) -> Path:
    """Where ``chunk``'s frames are in ``folder``."""
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
    chunk, folder, codec = job.chunk, Path(job.folder), job.settings.codec
    clip = open_video(job.source)
    if chunk.last >= clip.num_frames:
        raise RenderError(f"{job.source}: {chunk.describe()} are past its end ({clip.num_frames})")
    colored = job.settings.colorize(clip, job.hints)[chunk.first : chunk.last + 1]
    encoded = encoder_input(colored, codec)
    pix_fmt = CODECS[codec][2]
    picture = Picture(clip.width, clip.height, frame_rate(clip) or Fraction(25), pix_fmt)
    checksums: list[str] = []
    size = 0
    output = video_file(folder, chunk)
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


def finished(folder: Path, chunk: Chunk, key: str) -> dict[str, Any] | None:
    """The sidecar of ``chunk`` if the chunk is finished under ``key``: the sidecar is whole and
    names this key and range, and the chunk file has the size and modification time it records."""
    sidecar = read_json(_sidecar(folder, chunk))
    if not isinstance(sidecar, dict) or sidecar.get("format") != CHUNK_FORMAT:
        return None
    if sidecar.get("version") != CHUNK_VERSION:
        return None
    if (sidecar.get("key"), sidecar.get("first"), sidecar.get("last")) != (key, chunk.first, chunk.last):
        return None
    if len(sidecar.get("checksums", ())) != chunk.frames:
        return None
    # the file as it was written (hashing every chunk again would read a film's worth of lossless
    # video at each resume; the join verifies every frame's checksum anyway)
    record = sidecar.get("file", {})
    try:
        stat = video_file(folder, chunk).stat()
    except OSError:
        return None
    if (stat.st_size, stat.st_mtime_ns) != (record.get("size"), record.get("mtime_ns")):
        return None
    return sidecar


def forget(folder: Path, chunk: Chunk) -> None:
    """Remove a chunk (its sidecar first: without it, the chunk does not count)."""
    _sidecar(folder, chunk).unlink(missing_ok=True)
    video_file(folder, chunk).unlink(missing_ok=True)


def tidy(folder: Path, plan: Plan) -> None:
    """Remove what is not part of ``plan``: chunks of another plan, files half written."""
    keep = {p(folder, c).name for c in plan.chunks for p in (_sidecar, video_file)}
    keep.add(MANIFEST)
    for path in folder.iterdir():
        if (
            path.is_file()
            and path.name not in keep
            and (path.name.startswith(("frames-", ".frames-")) or path.name.endswith(".partial"))
        ):
            path.unlink(missing_ok=True)
