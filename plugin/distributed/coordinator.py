""":func:`render_distributed`: the coordinator of one render split across a Dask cluster.

It reads no frame: the workers check the job, find the shots, render the chunks; it plans, hands
every finished chunk to the join as it comes, and reports.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distributed.scheduler import KilledWorker

from vscolorize.core.errors import HintError, VscolorizeError
from vscolorize.core.hints import check_frames, load_hints

from ..render import RenderError, RenderSettings, check_output, frame_range
from .chunk import ChunkJob, finished, tidy
from .join import Join
from .plan import CHUNK_FRAMES, Chunk, Plan, known_shots, save_plan, settings_identity
from .submit import Bar, check_workers, connect, failure, find_shots, render_chunks
from .workers import probe

__all__ = ["BarFactory", "DistributedResult", "render_distributed"]

log = logging.getLogger(__name__)

BarFactory = Callable[[int, str], Bar]  # (total, label) -> a bar


@dataclass(frozen=True)
class DistributedResult:
    output: Path
    frames: int
    seconds: float
    chunks: int  # in the plan
    rendered: int  # rendered by this run (the others were finished already)
    workers: int
    # seconds spent on each stage: "cluster" (start or connect, check the workers, probe the
    # source), "plan" (find the shots), "chunks" (render them), "join" (verify, join, encode)
    stages: dict[str, float] = dataclasses.field(default_factory=dict)
    # the chunks rendered now, summed over them: see ChunkRecord.times
    chunk_times: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else float("inf")


class _Stages:
    """Seconds spent on each stage, each measured from the end of the one before."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._clock = time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = now - self._clock
        self._clock = now


def render_distributed(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    cluster: str,
    hints: str | os.PathLike[str] | None = None,
    settings: RenderSettings | None = None,
    start: int = 0,
    end: int | None = None,
    chunk_frames: int = CHUNK_FRAMES,
    retries: int = 2,
    folder: str | os.PathLike[str] | None = None,
    keep_chunks: bool = False,
    force: bool = False,
    progress: BarFactory | None = None,
) -> DistributedResult:
    """Render ``source`` into ``output`` on the Dask cluster ``cluster`` (see
    :func:`~vscolorize.distributed.submit.connect`); the same frames as
    :func:`vscolorize.render.render` with the same settings and range.

    Args:
        hints: a hints file every worker reads at this same path.
        chunk_frames: chunks hold whole shots up to this many frames (longer shots are split).
        retries: how many times a chunk that raised is tried again.
        folder: where chunks go, a folder every worker sees at the same path (default: hidden
            beside the output); it is removed after the join unless ``keep_chunks``.
        keep_chunks: keep the chunks, so that a render with edited hints renders again only the
            chunks of the edited shots.
        progress: makes progress bars, given their total and label.

    Raises:
        RenderError: a bad input, output, range or setting; chunks that failed for good (named
            by their ranges, after the others have finished); a damaged chunk at the join.
        ClusterError: the cluster cannot be reached or its workers cannot do the job.
        RuntimeError: a chunk failed on a bug of ours.
    """
    began = time.perf_counter()
    settings = settings if settings is not None else RenderSettings()
    source, output = Path(source).resolve(), Path(output)
    check_output(output, settings.codec, force, source)
    if not source.is_file():
        raise RenderError(f"{source}: no such file")
    if chunk_frames < 1:
        raise RenderError(f"--chunk-frames must be at least 1, not {chunk_frames}")
    if retries < 0:
        raise RenderError(f"--retries must be 0 or more, not {retries}")
    hints_path = None if hints is None else str(Path(hints).resolve())
    loaded = load_hints(hints_path) if hints_path is not None else None  # refused here if broken
    where = (Path(folder) if folder is not None else output.with_name(f".{output.name}.chunks")).resolve()
    where.mkdir(parents=True, exist_ok=True)
    stages = _Stages()

    with connect(cluster) as (client, threads):
        workers, agreed = check_workers(client, source, hints_path, where, settings)
        # "auto" as the workers resolved it
        settings = RenderSettings(settings.pipeline.replace(model=agreed["model"]), settings.codec)
        clip = client.submit(probe, str(source), pure=False).result()
        last = frame_range(start, end, clip["frames"])
        try:
            check_frames(loaded, clip["frames"])
        except HintError as e:
            raise RenderError(f"colorize: {e}") from None
        from vscolorize import __version__

        identity = {
            "vscolorize": __version__,
            "source": agreed["source"],
            "frames": clip["frames"],
            "weights": agreed["weights"],
            "settings": settings_identity(settings),
        }
        stages.done("cluster")
        starts = known_shots(where, identity, start, last)
        if starts is None:
            shots_began = time.perf_counter()
            motion = settings.pipeline.propagation.motion
            starts = find_shots(client, str(source), start, last, motion)
            log.info("%d shots found in %.1f s", len(starts) - 1, time.perf_counter() - shots_began)
        plan = Plan.make(
            str(source),
            identity,
            starts,
            hints_path=hints_path,
            hints=loaded,
            start=start,
            end=last,
            target=chunk_frames,
            rate=clip["rate"],
            size=(clip["width"], clip["height"]),
        )
        save_plan(where, plan)
        stages.done("plan")
        tidy(where, plan)
        jobs = _jobs(plan, where, settings, threads, agreed, source=str(source), hints=hints_path)
        log.info("%d chunks, %d to render, on %d workers", len(plan.chunks), len(jobs), workers)
        gpu = settings.pipeline.device is not None and settings.pipeline.device.startswith("cuda")
        offered = client.scheduler_info().get("workers", {}).values()
        resources = {"GPU": 1.0} if gpu and any("GPU" in w.get("resources", {}) for w in offered) else None
        # the join runs beside the render, each chunk once those before it are in
        join = Join(where, plan, output, audio=source)
        times: dict[str, float] = {}
        for chunk in plan.chunks:
            if chunk not in jobs:
                join.ready(chunk)
        bar = progress(sum(c.frames for c in jobs), "colorizing") if progress and jobs else None
        try:
            failed = render_chunks(client, jobs, retries, resources, bar, join, times) if jobs else {}
        except BaseException:
            join.cancel()
            log.warning(
                "stopped: finished chunks are kept in %s; run the same command again to render the rest",
                where,
            )
            raise
        finally:
            if bar is not None:
                bar.close()
    stages.done("chunks")  # with closing the cluster
    tidy(where, plan)  # what killed workers left half written
    if failed:
        join.cancel()
        _report(failed, len(plan.chunks), where)
    frames = _finish_join(join, last - start + 1, progress)
    stages.done("join")  # what was left of it once the chunks were in
    if not keep_chunks:
        shutil.rmtree(where, ignore_errors=True)
    return DistributedResult(
        output,
        frames,
        time.perf_counter() - began,
        len(plan.chunks),
        len(jobs),
        workers,
        stages.seconds,
        times,
    )


def _jobs(
    plan: Plan,
    folder: Path,
    settings: RenderSettings,
    threads: int | None,
    agreed: dict[str, Any],
    *,
    source: str,
    hints: str | None,
) -> dict[Chunk, ChunkJob]:
    """A job for every chunk of ``plan`` not finished already, in the plan's order."""
    return {
        chunk: ChunkJob(
            source, hints, settings, chunk, key, str(folder), agreed["source"], agreed["hints"], threads
        )
        for chunk, key in zip(plan.chunks, plan.keys, strict=True)
        if finished(folder, chunk, key) is None
    }


def _report(failed: dict[Chunk, BaseException], chunks: int, folder: Path) -> None:
    """Raise what the chunks that failed for good say: a RuntimeError if any failed on a bug of
    ours, else a RenderError."""
    lines = [failure(c, e) for c, e in sorted(failed.items(), key=lambda x: x[0].first)]
    summary = (
        f"{len(failed)} of {chunks} chunks failed (the others are kept in {folder}; run again to "
        "retry): " + "; ".join(lines)
    )
    if any(not isinstance(e, VscolorizeError | KilledWorker) for e in failed.values()):
        raise RuntimeError(summary)
    raise RenderError(summary)


def _finish_join(join: Join, total: int, progress: BarFactory | None) -> int:
    """Wait for the join, with a bar for what is left of it; returns the frames written."""
    bar = progress(total, "joining") if progress and join.written < total else None

    def joined(n: int) -> None:
        if bar is not None:
            bar.n = n
            bar.refresh()

    try:
        return join.wait(joined)
    finally:
        if bar is not None:
            bar.close()
