"""Where a plan's work runs: the :class:`Executor` protocol, and :class:`InProcess`, which runs it
in this process (``render`` without ``--cluster``).

A render is the same plan wherever it runs (:mod:`.coordinator`): the source checked and probed,
its shots found, the chunks rendered, the join. An executor does the middle part, on a Dask
cluster (:class:`~vscolorize.distributed.submit.DaskExecutor`) or here, one chunk after another
on all of this machine's threads; the chunks, and so the output, are the same bits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import vapoursynth as vs

from vscolorize.core.hints import HintsLike
from vscolorize.core.motion import MotionSettings

from ..render import Progress, RenderSettings
from ..sources import open_video
from .chunk import ChunkJob, writing
from .plan import Chunk, fingerprint, hints_digest, scan, scan_slices, shot_starts
from .workers import model_identity

__all__ = ["Executor", "InProcess"]


class Executor(Protocol):
    """What runs a plan's work (see :mod:`.coordinator` for the order of the calls)."""

    threads: int | None  # threads a chunk may use (None: the machine's)

    def check(
        self, source: Path, hints: str | None, folder: Path, settings: RenderSettings
    ) -> tuple[int, dict[str, Any]]:
        """The workers' number and what they agree on: the source's fingerprint ("source"), the
        hints file's hash ("hints"), the model ("model", ``auto`` resolved) and its weights'
        hash ("weights"). ``folder`` (which exists) is where the chunks go.

        Raises:
            RenderError or ClusterError: the job cannot run there.
        """
        ...

    def probe(self, source: Path) -> dict[str, Any]:
        """The source's "frames", "width", "height" and "rate" ((num, den), None: variable)."""
        ...

    def find_shots(self, source: Path, start: int, end: int, motion: MotionSettings) -> list[int]:
        """The shot starts around frames ``start`` .. ``end`` (see ``plan_chunks``)."""
        ...

    def render(self, jobs: dict[Chunk, ChunkJob], times: dict[str, float]) -> dict[Chunk, BaseException]:
        """Render the chunks; returns those that failed for good, with why. ``times`` gathers
        the finished chunks' ``ChunkRecord.times``, summed."""
        ...


class InProcess:
    """Runs a plan in this process: the clip is colorized once (one VapourSynth node, all of this
    machine's threads) and the chunks are rendered from it one after another; a failure is raised
    at once (there is no worker to retry on).

    Args:
        hints: as :func:`vscolorize.colorize` takes them.
        progress: wraps the iterator of every frame rendered (a progress bar), given its total.
    """

    threads: int | None = None

    def __init__(self, hints: HintsLike | None, progress: Progress | None = None) -> None:
        self.hints, self.progress = hints, progress
        self._clip: vs.VideoNode | None = None
        self._colored: vs.VideoNode | None = None

    def check(
        self, source: Path, hints: str | None, folder: Path, settings: RenderSettings
    ) -> tuple[int, dict[str, Any]]:
        self._clip = open_video(source)
        self._colored = settings.colorize(self._clip, self.hints)  # bad hints or model: refused here
        model, weights = model_identity(settings)
        found = {
            "source": fingerprint(source),
            "hints": hints_digest(hints),
            "model": model,
            "weights": weights,
        }
        return 1, found

    def probe(self, source: Path) -> dict[str, Any]:
        clip = self._clip if self._clip is not None else open_video(source)
        rate = (clip.fps.numerator, clip.fps.denominator) if clip.fps.numerator > 0 else None
        return {"frames": clip.num_frames, "width": clip.width, "height": clip.height, "rate": rate}

    def find_shots(self, source: Path, start: int, end: int, motion: MotionSettings) -> list[int]:
        slices = scan_slices(start, end)
        found = [
            scan(source, a, b, motion=motion, back=i == 0, forward=i == len(slices) - 1)
            for i, (a, b) in enumerate(slices)
        ]
        return shot_starts(found)

    def render(self, jobs: dict[Chunk, ChunkJob], times: dict[str, float]) -> dict[Chunk, BaseException]:
        colored = self._colored
        if colored is None:
            raise RuntimeError("InProcess.render before check")

        def frames() -> Any:
            for job in jobs.values():
                record = yield from writing(job, colored)
                for name, seconds in record.times.items():
                    times[name] = times.get(name, 0.0) + seconds

        rendered = frames()
        if self.progress is not None:
            rendered = self.progress(rendered, sum(c.frames for c in jobs))
        for _ in rendered:
            pass
        return {}
