"""The coordinator's side of Dask: the cluster, the workers' fitness, the tasks and their retries.

Scheduling, retries and worker recovery are Dask's (``distributed``); nothing here schedules. Dask
retries a chunk that raised (``retries``) and reschedules the chunk of a worker that died; a chunk
that keeps failing is reported by its range while the others finish.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import dask
from distributed import Client, Future, LocalCluster, as_completed
from distributed.scheduler import KilledWorker

from vscolorize.core.errors import VscolorizeError
from vscolorize.core.motion import MotionSettings

from ..render import RenderSettings
from .chunk import ChunkJob
from .plan import Chunk, fingerprint, hints_digest, scan_slices, shot_starts
from .workers import PROGRESS_TOPIC, probe, render_chunk, scan_slice, worker_facts

__all__ = [
    "Bar",
    "ClusterError",
    "DaskExecutor",
    "check_workers",
    "connect",
    "failure",
    "find_shots",
    "local_cluster",
    "render_chunks",
]

log = logging.getLogger(__name__)

_CONNECT_TIMEOUT = "10s"
_WORKER_WAIT = 60  # seconds to wait for a scheduler's first worker


class ClusterError(VscolorizeError):
    """The cluster cannot render: unreachable, no workers, or workers unfit for the job."""


class Bar(Protocol):
    """A progress bar (tqdm's interface)."""

    n: int

    def refresh(self) -> Any: ...

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> Any: ...

    def close(self) -> Any: ...


def _local_config(share: int) -> dict[str, Any]:
    """Dask's settings for a cluster on this machine, whose cores the render needs.

    - The nanny's spawn environment (read once, when the cluster starts): no
      ``MALLOC_TRIM_THRESHOLD_`` (see :func:`~vscolorize.distributed.workers.heap_as_usual`),
      and the thread-count variables at the worker's share of the cores, not 1.
    - No statistical profiler: it samples a worker's stacks every 10 ms; without it a worker
      rendered 400 frames at 854x480 on 108 s of CPU instead of 113 s (in-process: 101-106 s).
    - The event loops' health check every second, not every 20 ms, and the system monitor every 5
      s, not 0.5: an idle local:1 cluster (scheduler, nanny, worker) kept 5.7 % of a core busy,
      about 1 % with these.
    """
    # the nanny hands its settings to the worker processes it starts
    return {
        "distributed.nanny.pre-spawn-environ": {
            f"{lib}_NUM_THREADS": str(share) for lib in ("OMP", "MKL", "OPENBLAS")
        },
        "distributed.worker.profile.enabled": False,
        "distributed.admin.tick.interval": "1s",
        "distributed.admin.system-monitor.interval": "5s",
    }


def _share(workers: int) -> int:
    """The threads of each of ``workers`` workers on this machine."""
    return max(1, (os.cpu_count() or 1) // workers)


def local_cluster(workers: int, **options: Any) -> LocalCluster:
    """A cluster of ``workers`` processes on this machine, bound to loopback (``options``: more of
    LocalCluster's). Each renders one chunk at a time on its share of the cores; memory is bounded
    by a shot, not by Dask's per-worker budget (which would kill a worker that loads a model)."""
    with dask.config.set(_local_config(_share(workers))):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            memory_limit=0,
            silence_logs=logging.CRITICAL,
            **options,
        )


@contextmanager
def connect(address: str) -> Iterator[tuple[Client, int | None]]:
    """A client of the cluster ``address`` names, and the threads each chunk may use (None: the
    worker machine's).

    ``local:N``: a cluster of N worker processes on this machine (:func:`local_cluster`), closed
    on leaving; ``tcp://HOST:PORT`` or ``tls://HOST:PORT``: a running scheduler (TLS settings
    from Dask's configuration).

    Raises:
        ClusterError: a malformed address, or no scheduler there.
    """
    if address.startswith("local:"):
        count = address.removeprefix("local:")
        if not count.isdigit() or not 1 <= int(count) <= 256:
            raise ClusterError(f"--cluster {address}: local:N needs N workers, 1 to 256")
        cluster = local_cluster(int(count))
        try:
            with Client(cluster) as client:
                yield client, _share(int(count))
        finally:
            cluster.close()
        return
    if not address.startswith(("tcp://", "tls://")):
        raise ClusterError(f"--cluster {address!r}: expected local:N, tcp://HOST:PORT or tls://HOST:PORT")
    try:
        client = Client(address, timeout=_CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as e:
        reason = _first_line(e)
        raise ClusterError(f"--cluster {address}: cannot reach the Dask scheduler ({reason})") from None
    with client:
        yield client, None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def check_workers(
    client: Client, source: Path, hints: str | None, folder: Path, settings: RenderSettings
) -> tuple[int, dict[str, Any]]:
    """Ask every worker what it sees; refuse a worker that lacks vscolorize (or has another
    version), the source, the hints or the chunk folder, or would use other weights.

    Returns:
        The number of workers, and the facts they agree on.

    Raises:
        ClusterError: naming the first unfit worker and why.
    """
    try:
        client.wait_for_workers(1, timeout=_WORKER_WAIT)
    except TimeoutError:
        raise ClusterError(f"the scheduler has had no worker for {_WORKER_WAIT} s") from None
    from vscolorize import __version__

    # a stdlib function: it runs on a worker that cannot import vscolorize
    versions = client.run(importlib.metadata.version, "vscolorize", on_error="return")
    for address, found in versions.items():
        if isinstance(found, BaseException):
            raise ClusterError(f"worker {address}: vscolorize is not installed there")
        if found != __version__:
            raise ClusterError(f"worker {address}: vscolorize {found}, this machine {__version__}")
    probe_file = folder / f".probe-{secrets.token_hex(4)}"
    probe_file.touch()
    try:
        facts = client.run(worker_facts, str(source), hints, str(probe_file), settings)
    finally:
        probe_file.unlink(missing_ok=True)
    own_source, own_hints = fingerprint(source), hints_digest(hints)
    models = set()
    for address, seen in facts.items():
        where = f"worker {address} ({seen['host']})"
        if seen["source"] is None:
            raise ClusterError(f"{where}: {source}: no such file there")
        if seen["source"] != own_source:
            raise ClusterError(f"{where}: {source} differs from this machine's")
        if hints is not None and seen.get("hints") is None:
            raise ClusterError(f"{where}: {hints}: no such file there")
        if hints is not None and seen["hints"] != own_hints:
            raise ClusterError(f"{where}: the hints {hints} differ from this machine's")
        if not seen["folder"]:
            raise ClusterError(
                f"{where}: does not see the chunk folder {folder} (it must be a "
                "folder every worker sees at the same path: --chunks DIR)"
            )
        if "model_error" in seen:
            raise ClusterError(f"{where}: {seen['model_error']}")
        models.add((seen["model"], seen["weights"]))
    if len(models) > 1:
        raise ClusterError(
            f"the workers would use different models ({', '.join(sorted(m for m, _ in models))}) "
            "or weights: give --model, and the same vscolorize on every worker"
        )
    model, weights = models.pop()
    return len(facts), {"source": own_source, "hints": own_hints, "model": model, "weights": weights}


def find_shots(client: Client, source: str, start: int, end: int, motion: MotionSettings) -> list[int]:
    """Shot starts around frames ``start`` .. ``end`` (see ``plan_chunks``), found by the workers
    a slice each (:func:`~vscolorize.distributed.plan.scan_slices`)."""
    slices = scan_slices(start, end)
    futures = [
        client.submit(
            scan_slice,
            source,
            a,
            b,
            i == 0,
            i == len(slices) - 1,
            motion,
            retries=1,
            key=f"vscolorize-scan-{a}-{secrets.token_hex(4)}",
        )
        for i, (a, b) in enumerate(slices)
    ]
    return shot_starts(client.gather(futures))


class _Tracker:
    """How far each chunk has got, from the workers' events (Dask calls :meth:`event` on its own
    thread)."""

    def __init__(self, todo: list[Chunk]) -> None:
        self.frames = {c.name: 0 for c in todo}
        self.runs: dict[str, set[str]] = {c.name: set() for c in todo}
        self._current: dict[str, str] = {}
        self._lock = threading.Lock()

    def event(self, event: tuple[float, dict[str, Any]]) -> None:
        _, message = event
        name, run = message.get("chunk"), message.get("run")
        with self._lock:
            if name not in self.frames or not isinstance(run, str):
                return
            if run not in self.runs[name]:  # a new attempt starts from 0
                self.runs[name].add(run)
                self._current[name] = run
            if self._current.get(name) == run:
                self.frames[name] = int(message.get("frames", 0))

    def finish(self, chunk: Chunk) -> None:
        with self._lock:
            self.frames[chunk.name] = chunk.frames
            self._current[chunk.name] = ""

    def retried(self) -> int:
        with self._lock:
            return sum(max(len(r) - 1, 0) for r in self.runs.values())

    def done(self, names: set[str]) -> int:
        with self._lock:
            return sum(self.frames[n] for n in names)


def failure(chunk: Chunk, error: BaseException) -> str:
    """Why ``chunk`` failed, in one line."""
    if isinstance(error, KilledWorker):
        return f"{chunk.describe()}: the workers rendering it died ({error})"
    text = _first_line(error)
    if not isinstance(error, VscolorizeError):
        text = f"{type(error).__name__}: {text}"
    return f"{chunk.describe()}: {text}"


def render_chunks(
    client: Client,
    jobs: dict[Chunk, ChunkJob],
    retries: int,
    resources: dict[str, float] | None,
    bar: Bar | None,
    times: dict[str, float],
) -> dict[Chunk, BaseException]:
    """Run the jobs; returns the chunks that failed for good, with why. ``times`` gathers the
    finished chunks' ``ChunkRecord.times``."""
    tracker = _Tracker(list(jobs))
    client.subscribe_topic(PROGRESS_TOPIC, tracker.event)
    futures: dict[Future, Chunk] = {
        client.submit(
            render_chunk,
            job,
            key=f"vscolorize-{chunk.name}-{job.key[:12]}",
            retries=retries,
            resources=resources,
            pure=False,
        ): chunk
        for chunk, job in jobs.items()
    }
    names = {c.name for c in jobs}
    failed: dict[Chunk, BaseException] = {}
    finished = 0
    pending = as_completed(futures)
    try:
        while pending.count():
            for future in pending.next_batch(block=False):
                chunk = futures[future]
                if future.status == "finished":
                    record = future.result()
                    for name, seconds in record.times.items():
                        times[name] = times.get(name, 0.0) + seconds
                    tracker.finish(chunk)
                    finished += 1
                    log.info("%s done on %s in %.1f s", chunk.describe(), record.worker, record.seconds)
                else:
                    error = future.exception()
                    failed[chunk] = error if error is not None else RuntimeError(future.status)
                    log.warning("%s", failure(chunk, failed[chunk]))
            if bar is not None:
                bar.n = tracker.done(names)
                bar.set_postfix_str(
                    f"chunks {finished}/{len(jobs)}, failed {len(failed)}, retried {tracker.retried()}",
                    refresh=False,
                )
                bar.refresh()
            time.sleep(0.2)
    except BaseException:  # Ctrl+C above all: no more chunks start; finished ones stay
        client.cancel(list(futures))
        raise
    finally:
        client.unsubscribe_topic(PROGRESS_TOPIC)
    return failed


BarFactory = Callable[[int, str], Bar]  # (total, label) -> a bar


class DaskExecutor:
    """Runs a plan's work on the cluster of ``client`` (see
    :class:`~vscolorize.distributed.executor.Executor`), with ``retries`` and a progress bar
    from ``progress``."""

    def __init__(
        self, client: Client, threads: int | None, retries: int, progress: BarFactory | None = None
    ) -> None:
        self.client, self.threads, self.retries, self.progress = client, threads, retries, progress
        self._gpu = False

    def check(
        self, source: Path, hints: str | None, folder: Path, settings: RenderSettings
    ) -> tuple[int, dict[str, Any]]:
        device = settings.pipeline.device
        self._gpu = device is not None and device.startswith("cuda")
        return check_workers(self.client, source, hints, folder, settings)

    def probe(self, source: Path) -> dict[str, Any]:
        found: dict[str, Any] = self.client.submit(probe, str(source), pure=False).result()
        return found

    def find_shots(self, source: Path, start: int, end: int, motion: MotionSettings) -> list[int]:
        return find_shots(self.client, str(source), start, end, motion)

    def render(self, jobs: dict[Chunk, ChunkJob], times: dict[str, float]) -> dict[Chunk, BaseException]:
        offered = self.client.scheduler_info().get("workers", {}).values()
        gpus = self._gpu and any("GPU" in w.get("resources", {}) for w in offered)
        bar = self.progress(sum(c.frames for c in jobs), "colorizing") if self.progress else None
        try:
            return render_chunks(self.client, jobs, self.retries, {"GPU": 1.0} if gpus else None, bar, times)
        finally:
            if bar is not None:
                bar.close()
