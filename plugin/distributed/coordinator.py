"""The coordinator of a render: one plan, run on a Dask cluster (:func:`render_distributed`) or in
this process (:func:`render_here`, what ``render`` without ``--cluster`` runs).

It reads no frame on a cluster: the workers check the job, find the shots, render the chunks in
the output's codec; it plans, and joins the chunks by a stream copy once they are in.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vscolorize.core.errors import HintError, VscolorizeError
from vscolorize.core.hints import HintsLike, check_frames, resolve_hints

from ..render import Progress, RenderError, RenderSettings, check_output, frame_range
from .chunk import ChunkJob, finished, tidy
from .executor import Executor, InProcess
from .join import join_chunks
from .plan import CHUNK_FRAMES, Chunk, Plan, known_shots, save_plan, settings_identity

__all__ = ["BarFactory", "DistributedResult", "render_distributed", "render_here"]

log = logging.getLogger(__name__)

BarFactory = Callable[[int, str], Any]  # (total, label) -> a bar (see submit.Bar)


@dataclass(frozen=True)
class DistributedResult:
    output: Path
    frames: int
    seconds: float
    chunks: int  # in the plan
    rendered: int  # rendered by this run (the others were finished already)
    workers: int
    # seconds spent on each stage: "cluster" (start or connect, check the workers, probe the
    # source), "plan" (find the shots), "chunks" (render them), "join" (verify and copy)
    stages: dict[str, float] = dataclasses.field(default_factory=dict)
    # the chunks rendered now, summed over them: see ChunkRecord.times
    chunk_times: dict[str, float] = dataclasses.field(default_factory=dict)
    # CPU seconds of this process and its children (ffmpeg) during the join
    join_cpu: float = 0.0

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


def _cpu() -> float:
    """CPU seconds of this process and of its children that were waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


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
    :func:`~vscolorize.distributed.submit.connect`): the same file as
    :func:`vscolorize.render.render` with the same settings, range and ``chunk_frames``.

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
    if retries < 0:
        raise RenderError(f"--retries must be 0 or more, not {retries}")

    @contextmanager
    def on_cluster() -> Iterator[Executor]:
        from .submit import DaskExecutor, connect

        with connect(cluster) as (client, threads):
            yield DaskExecutor(client, threads, retries, progress)

    path = None if hints is None else Path(hints)
    return _render(
        on_cluster(), source, output, path, settings, start, end, chunk_frames, folder, keep_chunks, force
    )


def render_here(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    hints: HintsLike | None = None,
    settings: RenderSettings | None = None,
    start: int = 0,
    end: int | None = None,
    chunk_frames: int = CHUNK_FRAMES,
    folder: str | os.PathLike[str] | None = None,
    keep_chunks: bool = False,
    force: bool = False,
    progress: Progress | None = None,
) -> DistributedResult:
    """:func:`render_distributed`'s plan, run in this process (see
    :class:`~vscolorize.distributed.executor.InProcess`): the same file. ``hints`` may be any form
    :func:`vscolorize.colorize` takes; ``progress`` wraps the iterator of the frames rendered."""

    @contextmanager
    def here() -> Iterator[Executor]:
        yield InProcess(hints, progress)

    return _render(
        here(), source, output, hints, settings, start, end, chunk_frames, folder, keep_chunks, force
    )


def _render(
    runner: AbstractContextManager[Executor],
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    hints: HintsLike | None,
    settings: RenderSettings | None,
    start: int,
    end: int | None,
    chunk_frames: int,
    folder: str | os.PathLike[str] | None,
    keep_chunks: bool,
    force: bool,
) -> DistributedResult:
    began = time.perf_counter()
    settings = settings if settings is not None else RenderSettings()
    source, output = Path(source).resolve(), Path(output)
    check_output(output, settings.codec, force, source)
    if not source.is_file():
        raise RenderError(f"{source}: no such file")
    if chunk_frames < 1:
        raise RenderError(f"--chunk-frames must be at least 1, not {chunk_frames}")
    hints_path = str(Path(hints).resolve()) if isinstance(hints, str | os.PathLike) else None
    loaded = resolve_hints(hints_path if hints_path is not None else hints)  # refused here if broken
    default = folder is None
    where = (Path(folder) if folder is not None else output.with_name(f".{output.name}.chunks")).resolve()
    made = not where.exists()
    stages = _Stages()
    suffix = output.suffix.lower()
    with runner as executor:
        try:
            where.mkdir(parents=True, exist_ok=True)  # the workers are asked whether they see it
            workers, agreed = executor.check(source, hints_path, where, settings)
            # "auto" as the workers resolved it
            settings = RenderSettings(settings.pipeline.replace(model=agreed["model"]), settings.codec)
            clip = executor.probe(source)
            last = frame_range(start, end, clip["frames"])
            try:
                check_frames(loaded, clip["frames"])
            except HintError as e:
                raise RenderError(f"colorize: {e}") from None
        except BaseException:
            if made:  # refused before any work: nothing left behind
                shutil.rmtree(where, ignore_errors=True)
            raise
        from vscolorize import __version__

        identity = {
            "vscolorize": __version__,
            "source": agreed["source"],
            "frames": clip["frames"],
            "weights": agreed["weights"],
            "settings": settings_identity(settings),
            "container": suffix,
        }
        stages.done("cluster")
        starts = known_shots(where, identity, start, last)
        if starts is None:
            shots_began = time.perf_counter()
            starts = executor.find_shots(source, start, last, settings.pipeline.propagation.motion)
            log.info("%d shots found in %.1f s", len(starts) - 1, time.perf_counter() - shots_began)
        plan = Plan.make(
            str(source),
            suffix,
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
        jobs = _jobs(plan, where, settings, executor.threads, agreed, source=str(source), hints=hints_path)
        log.info("%d chunks, %d to render, on %d workers", len(plan.chunks), len(jobs), workers)
        times: dict[str, float] = {}
        try:
            failed = executor.render(jobs, times) if jobs else {}
        except BaseException:
            _stopped(where, plan, default)
            raise
    stages.done("chunks")  # with closing the cluster
    tidy(where, plan)  # what killed workers left half written
    if failed:
        _report(failed, len(plan.chunks), where)
    cpu = _cpu()
    frames = join_chunks(where, plan, output, audio=source)
    join_cpu = _cpu() - cpu
    stages.done("join")
    if not keep_chunks:
        shutil.rmtree(where, ignore_errors=True)
    seconds = time.perf_counter() - began
    return DistributedResult(
        output, frames, seconds, len(plan.chunks), len(jobs), workers, stages.seconds, times, join_cpu
    )


def _stopped(folder: Path, plan: Plan, default: bool) -> None:
    """After an interruption: tell where the finished chunks are, or, when none is and the folder
    is the default one, remove it (there is nothing to resume)."""
    tidy(folder, plan)
    if any(p.name.startswith("frames-") for p in folder.iterdir()):
        log.warning(
            "stopped: finished chunks are kept in %s; run the same command again to render the rest", folder
        )
    elif default:
        shutil.rmtree(folder, ignore_errors=True)


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
            source,
            hints,
            settings,
            chunk,
            key,
            str(folder),
            plan.suffix,
            agreed["source"],
            agreed["hints"],
            threads,
        )
        for chunk, key in zip(plan.chunks, plan.keys, strict=True)
        if finished(folder, chunk, key, plan.suffix) is None
    }


def _report(failed: dict[Chunk, BaseException], chunks: int, folder: Path) -> None:
    """Raise what the chunks that failed for good say: a RuntimeError if any failed on a bug of
    ours, else a RenderError."""
    from distributed.scheduler import KilledWorker

    from .submit import failure

    lines = [failure(c, e) for c, e in sorted(failed.items(), key=lambda x: x[0].first)]
    summary = (
        f"{len(failed)} of {chunks} chunks failed (the others are kept in {folder}; run again to "
        "retry): " + "; ".join(lines)
    )
    if any(not isinstance(e, VscolorizeError | KilledWorker) for e in failed.values()):
        raise RuntimeError(summary)
    raise RenderError(summary)
