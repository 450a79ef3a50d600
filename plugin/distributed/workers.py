"""What runs on the Dask workers: what a worker sees of a job, the source's shape, a slice of the
shots, and one chunk, with its progress sent back to the coordinator as Dask events."""

from __future__ import annotations

import ctypes
import os
import platform
import secrets
import sys
import time
from pathlib import Path
from typing import Any

from distributed import get_worker

from vscolorize.core.errors import VscolorizeError
from vscolorize.core.motion import MotionSettings

from ..render import RenderError, RenderSettings
from ..sources import open_video
from . import chunk as chunk_files
from .chunk import ChunkJob, ChunkRecord
from .plan import digest, file_digest, fingerprint, hints_digest, scan

__all__ = [
    "PROGRESS_TOPIC",
    "heap_as_usual",
    "model_identity",
    "probe",
    "render_chunk",
    "scan_slice",
    "worker_facts",
]

PROGRESS_TOPIC = "vscolorize-progress"
_EVENT_EVERY = 0.5  # seconds between a worker's progress events
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


def heap_as_usual() -> None:
    """Undo what Dask's nanny does to glibc's allocator in the workers it starts.

    It sets ``MALLOC_TRIM_THRESHOLD_`` (``distributed.nanny.pre-spawn-environ``) to hand memory
    back to the system early; that also turns off glibc's adaptive mmap threshold, so every frame's
    large arrays are mapped, faulted in page by page and unmapped again: renders ran at half speed
    (240 frames at 854x480: 126 s of chunks instead of 66 s; finding the shots of 2,000 frames,
    10.2 s instead of 4.8). Frames reuse memory of the same sizes, so a heap that keeps it is
    what they want. Every task that reads frames calls this first: a local cluster's workers
    start without the setting, but a remote cluster's are started by others.
    """
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return
    libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)
    libc.mallopt(_M_TRIM_THRESHOLD, 256 << 20)


def worker_facts(source: str, hints: str | None, probe: str, settings: RenderSettings) -> dict[str, Any]:
    """What a worker sees of a job: the source's and hints' identities, whether the chunk folder is
    shared, and the model it would use (run on every worker before anything is rendered)."""
    from vscolorize import __version__

    facts: dict[str, Any] = {
        "host": platform.node(),
        "vscolorize": __version__,
        "folder": Path(probe).is_file(),
    }
    path = Path(source)
    facts["source"] = fingerprint(path) if path.is_file() else None
    if hints is not None:
        facts["hints"] = hints_digest(hints) if Path(hints).is_file() else None
    try:
        facts["model"], facts["weights"] = model_identity(settings)
    except VscolorizeError as e:
        facts["model_error"] = str(e)
    return facts


def model_identity(settings: RenderSettings) -> tuple[str, str]:
    """The model ``settings`` use on this machine (``auto`` resolved) and a hash of its weights."""
    pipeline = settings.pipeline
    if pipeline.method != "model":
        return pipeline.model, ""
    from vscolorize.core.engines.learned import MODEL_NAMES, pick_model, variant_paths
    from vscolorize.core.pipeline import resolve_device

    model = pipeline.model
    if model == "auto" or model in MODEL_NAMES:
        model = pick_model(model, resolve_device(pipeline.device))
        paths = variant_paths(model)
    else:
        paths = [Path(model)]
    if not paths or not all(p.is_file() for p in paths):
        raise RenderError(f"model {model!r}: no weights file on {platform.node()}")
    return model, digest(*(file_digest(p).encode() for p in paths))


def probe(source: str) -> dict[str, Any]:
    """The source's frame count, size and frame rate (opening it indexes it on this machine)."""
    heap_as_usual()
    clip = open_video(source)
    rate = (clip.fps.numerator, clip.fps.denominator) if clip.fps.numerator > 0 else None
    return {"frames": clip.num_frames, "width": clip.width, "height": clip.height, "rate": rate}


def scan_slice(
    source: str, first: int, last: int, back: bool, forward: bool, motion: MotionSettings
) -> dict[str, Any]:
    """:func:`~vscolorize.distributed.plan.scan` as a task."""
    heap_as_usual()
    return scan(Path(source), first, last, motion=motion, back=back, forward=forward)


def render_chunk(job: ChunkJob) -> ChunkRecord:
    """Render one chunk on a worker, telling the coordinator how far it got as it goes."""
    heap_as_usual()
    worker = get_worker()
    run = secrets.token_hex(4)  # tells this attempt from an earlier one of the same chunk
    name = job.chunk.name
    worker.log_event(PROGRESS_TOPIC, {"chunk": name, "run": run, "frames": 0})
    last = time.monotonic()

    def on_frame(done: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= _EVENT_EVERY:
            last = now
            worker.log_event(PROGRESS_TOPIC, {"chunk": name, "run": run, "frames": done})

    # looked up on the module at each call: a worker preload may stand in for it (fault tests)
    return chunk_files.write_chunk(job, on_frame)
