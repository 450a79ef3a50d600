"""``vscolorize render --cluster``: one render split across the workers of a Dask cluster.

The coordinator (this process) reads no frame: it asks the workers to find the shots
(:func:`vscolorize.chunks.scan`, a slice each), packs whole shots into chunks, and submits one Dask
task per chunk. A worker reads the source itself, renders its range into a lossless chunk with a
sidecar of per-frame checksums beside the output (a folder every machine sees at the same path),
and returns a small record; it reports its progress as Dask events while it works. Dask retries a
chunk that raised (``retries``) and reschedules the chunk of a worker that died; a chunk that
keeps failing is reported by its range while the others finish. Finished chunks stay: running the
same command again renders only what is missing (and after a hint edit, only the chunks of the
edited shots). Once every chunk is there, :func:`vscolorize.chunks.join` verifies and joins them
into the output, encoded as ``render`` encodes: the frames equal the plain render's, bit for bit,
when the workers compute alike (the same versions and the same kind of device).

Scheduling, retries and worker recovery are Dask's (``distributed``); nothing here schedules.
"""

from __future__ import annotations

import ctypes
import dataclasses
import importlib.metadata
import itertools
import logging
import os
import platform
import secrets
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import dask
from distributed import Client, Future, LocalCluster, as_completed, get_worker
from distributed.scheduler import KilledWorker

from vscolorize.core.errors import HintError, VscolorizeError
from vscolorize.core.hints import check_frames, load_hints

from . import chunks
from .chunks import Chunk, ChunkJob, ChunkRecord, Plan
from .render import RenderError, RenderSettings, check_output, frame_range

__all__ = ["ClusterError", "DistributedResult", "render_distributed"]

log = logging.getLogger(__name__)

PROGRESS_TOPIC = "vscolorize-progress"
SCAN_FRAMES = 1000  # frames per shot-finding task
_EVENT_EVERY = 0.5  # seconds between a worker's progress events
_CONNECT_TIMEOUT = "10s"
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_WORKER_WAIT = 60  # seconds to wait for a scheduler's first worker


class ClusterError(VscolorizeError):
    """The cluster cannot render: unreachable, no workers, or workers unfit for the job."""


class Bar(Protocol):
    """A progress bar (tqdm's interface)."""

    n: int

    def refresh(self) -> Any: ...

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> Any: ...

    def close(self) -> Any: ...


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


def _local_config(share: int) -> dict[str, Any]:
    """Dask's settings for a cluster on this machine, whose cores the render needs.

    - The nanny's spawn environment (read once, when the cluster starts): no
      ``MALLOC_TRIM_THRESHOLD_`` (see :func:`_heap_as_usual`), and the thread-count variables at
      the worker's share of the cores, not 1.
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


@contextmanager
def connect(address: str) -> Iterator[tuple[Client, int | None]]:
    """A client of the cluster ``address`` names, and the threads each chunk may use (None: the
    worker machine's).

    ``local:N``: a cluster of N worker processes on this machine, bound to loopback, closed on
    leaving; ``tcp://HOST:PORT`` or ``tls://HOST:PORT``: a running scheduler (TLS settings from
    Dask's configuration).

    Raises:
        ClusterError: a malformed address, or no scheduler there.
    """
    if address.startswith("local:"):
        count = address.removeprefix("local:")
        if not count.isdigit() or not 1 <= int(count) <= 256:
            raise ClusterError(f"--cluster {address}: local:N needs N workers, 1 to 256")
        workers = int(count)
        share = max(1, (os.cpu_count() or 1) // workers)
        # each worker renders one chunk at a time, on its share of the cores; memory is bounded by
        # a shot, not by Dask's per-worker budget (which would kill a worker that loads a model).
        with dask.config.set(_local_config(share)):
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
                memory_limit=0,
                silence_logs=logging.CRITICAL,
            )
            try:
                with Client(cluster) as client:
                    yield client, share
            finally:
                cluster.close()
        return
    if not address.startswith(("tcp://", "tls://")):
        raise ClusterError(f"--cluster {address!r}: expected local:N, tcp://HOST:PORT or tls://HOST:PORT")
    try:
        client = Client(address, timeout=_CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ClusterError(f"--cluster {address}: cannot reach the Dask scheduler ({reason})") from None
    with client:
        yield client, None


# --- on the workers ------------------------------------------------------------------------


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
    facts["source"] = chunks.fingerprint(path) if path.is_file() else None
    if hints is not None:
        facts["hints"] = chunks.hints_digest(hints) if Path(hints).is_file() else None
    try:
        facts["model"], facts["weights"] = _model_identity(settings)
    except VscolorizeError as e:
        facts["model_error"] = str(e)
    return facts


def _model_identity(settings: RenderSettings) -> tuple[str, str]:
    """The model ``settings`` use on this machine (``auto`` resolved) and a hash of its weights."""
    if settings.method != "model":
        return settings.model, ""
    from vscolorize.core.engine import resolve_device
    from vscolorize.core.inference import MODEL_NAMES, pick_model, variant_paths

    model = settings.model
    if model == "auto" or model in MODEL_NAMES:
        model = pick_model(model, resolve_device(settings.device))
        paths = variant_paths(model)
    else:
        paths = [Path(model)]
    if not all(p.is_file() for p in paths):
        raise RenderError(f"model {model!r}: no weights file on {platform.node()}")
    return model, chunks._digest(*(chunks.file_digest(p).encode() for p in paths))


def probe(source: str) -> dict[str, Any]:
    """The source's frame count, size and frame rate (opening it indexes it on this machine)."""
    _heap_as_usual()
    from .render import open_video

    clip = open_video(source)
    rate = (clip.fps.numerator, clip.fps.denominator) if clip.fps.numerator > 0 else None
    return {"frames": clip.num_frames, "width": clip.width, "height": clip.height, "rate": rate}


def scan_slice(source: str, first: int, last: int, back: bool, forward: bool) -> dict[str, Any]:
    _heap_as_usual()
    return chunks.scan(Path(source), first, last, back=back, forward=forward)


def _heap_as_usual() -> None:
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


def render_chunk(job: ChunkJob) -> ChunkRecord:
    """Render one chunk on a worker, telling the coordinator how far it got as it goes."""
    _heap_as_usual()
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

    return chunks.write_chunk(job, on_frame)


# --- on the coordinator --------------------------------------------------------------------


def _check_workers(
    client: Client, source: Path, hints: str | None, folder: Path, settings: RenderSettings
) -> tuple[int, dict[str, Any]]:
    """Ask every worker what it sees; refuse a worker that lacks vscolorize (or has another
    version), the source, the hints or the chunk folder, or would use other weights.

    Returns:
        The number of workers, and the facts they agree on.
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
    own_source = chunks.fingerprint(source)
    own_hints = chunks.hints_digest(hints)
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


def _find_shots(client: Client, source: str, start: int, end: int) -> list[int]:
    """Shot starts around frames ``start`` .. ``end`` (see ``plan_chunks``), found by the workers
    a slice each (a slice's cuts are those after its first frame: slices meet on a frame)."""
    slices = list(itertools.pairwise([*range(start, end, SCAN_FRAMES), end])) or [(start, end)]
    futures = [
        client.submit(
            scan_slice,
            source,
            a,
            b,
            i == 0,
            i == len(slices) - 1,
            retries=1,
            key=f"vscolorize-scan-{a}-{secrets.token_hex(4)}",
        )
        for i, (a, b) in enumerate(slices)
    ]
    found = client.gather(futures)
    cuts = sorted({n for part in found for n in part["cuts"]})
    return [found[0]["shot_start"], *cuts, found[-1]["shot_end"] + 1]


def _plan(
    client: Client,
    folder: Path,
    source: Path,
    identity: dict[str, Any],
    start: int,
    end: int,
    target: int,
    rate: tuple[int, int] | None,
    size: tuple[int, int],
    hints: str | None,
) -> Plan:
    """The plan: the manifest's shots when it was made for this source and range, else found."""
    old = chunks.load_plan(folder)
    if old is not None and (
        old["identity"].get("source"),
        old["identity"].get("vscolorize"),
        old["start"],
        old["end"],
    ) == (identity["source"], identity["vscolorize"], start, end):
        starts = [int(n) for n in old["starts"]]
        log.info("shots from %s", folder / chunks.MANIFEST)
    else:
        began = time.perf_counter()
        starts = _find_shots(client, str(source), start, end)
        log.info("%d shots found in %.1f s", len(starts) - 1, time.perf_counter() - began)
    planned = chunks.plan_chunks(starts, start, end, target)
    loaded = load_hints(hints) if hints is not None else None
    keys = tuple(chunks.chunk_key(identity, c, loaded) for c in planned)
    named = None if hints is None else {"path": hints, "hash": str(chunks.hints_digest(hints))}
    plan = Plan(
        str(source), identity, named, start, end, target, rate, size, tuple(starts), tuple(planned), keys
    )
    chunks.save_plan(folder, plan)
    return plan


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


def _failure(chunk: Chunk, error: BaseException) -> str:
    if isinstance(error, KilledWorker):
        return f"{chunk.describe()}: the workers rendering it died ({error})"
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if not isinstance(error, VscolorizeError):
        text = f"{type(error).__name__}: {text}"
    return f"{chunk.describe()}: {text}"


def _render_chunks(
    client: Client,
    jobs: dict[Chunk, ChunkJob],
    retries: int,
    resources: dict[str, float] | None,
    bar: Bar | None,
    join: chunks.Join,
    times: dict[str, float],
) -> dict[Chunk, BaseException]:
    """Run the jobs; returns the chunks that failed for good, with why. ``times`` gathers the
    finished chunks' :attr:`ChunkRecord.times`."""
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
                    join.ready(chunk)
                    finished += 1
                    log.info("%s done on %s in %.1f s", chunk.describe(), record.worker, record.seconds)
                else:
                    error = future.exception()
                    failed[chunk] = error if error is not None else RuntimeError(future.status)
                    log.warning("%s", _failure(chunk, failed[chunk]))
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


def render_distributed(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    cluster: str,
    hints: str | os.PathLike[str] | None = None,
    settings: RenderSettings | None = None,
    start: int = 0,
    end: int | None = None,
    chunk_frames: int = chunks.CHUNK_FRAMES,
    retries: int = 2,
    folder: str | os.PathLike[str] | None = None,
    keep_chunks: bool = False,
    force: bool = False,
    progress: BarFactory | None = None,
) -> DistributedResult:
    """Render ``source`` into ``output`` on the Dask cluster ``cluster`` (see :func:`connect`);
    the same frames as :func:`vscolorize.render.render` with the same settings and range.

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
    where = Path(folder) if folder is not None else output.with_name(f".{output.name}.chunks")
    where = where.resolve()
    where.mkdir(parents=True, exist_ok=True)
    stages: dict[str, float] = {}
    clock = time.perf_counter()

    def stage(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = now - clock
        clock = now

    with connect(cluster) as (client, threads):
        workers, agreed = _check_workers(client, source, hints_path, where, settings)
        settings = dataclasses.replace(settings, model=agreed["model"])  # "auto" as resolved
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
            "settings": dataclasses.asdict(settings),
        }
        identity["settings"].pop("device")  # where it runs is not what it computes
        stage("cluster")
        plan = _plan(
            client,
            where,
            source,
            identity,
            start,
            last,
            chunk_frames,
            clip["rate"],
            (clip["width"], clip["height"]),
            hints_path,
        )
        stage("plan")
        chunks.tidy(where, plan)
        todo = [
            c for c, k in zip(plan.chunks, plan.keys, strict=True) if chunks.finished(where, c, k) is None
        ]
        log.info("%d chunks, %d to render, on %d workers", len(plan.chunks), len(todo), workers)
        jobs = {
            c: ChunkJob(
                str(source),
                hints_path,
                settings,
                c,
                k,
                str(where),
                agreed["source"],
                agreed["hints"],
                threads,
            )
            for c, k in zip(plan.chunks, plan.keys, strict=True)
            if c in set(todo)
        }
        gpu = settings.device is not None and settings.device.startswith("cuda")
        offered = client.scheduler_info().get("workers", {}).values()
        resources = {"GPU": 1.0} if gpu and any("GPU" in w.get("resources", {}) for w in offered) else None
        # the join runs beside the render, each chunk once those before it are in
        join = chunks.Join(where, plan, output, audio=source)
        times: dict[str, float] = {}
        for chunk in plan.chunks:
            if chunk not in jobs:
                join.ready(chunk)
        bar = progress(sum(c.frames for c in todo), "colorizing") if progress and todo else None
        try:
            failed = _render_chunks(client, jobs, retries, resources, bar, join, times) if jobs else {}
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
    stage("chunks")  # with closing the cluster
    chunks.tidy(where, plan)  # what killed workers left half written
    if failed:
        join.cancel()
        lines = [_failure(c, e) for c, e in sorted(failed.items(), key=lambda x: x[0].first)]
        summary = (
            f"{len(failed)} of {len(plan.chunks)} chunks failed (the others are kept in "
            f"{where}; run again to retry): " + "; ".join(lines)
        )
        ours = [e for e in failed.values() if not isinstance(e, VscolorizeError | KilledWorker)]
        if ours:
            raise RuntimeError(summary)
        raise RenderError(summary)
    total = last - start + 1
    joining = progress(total, "joining") if progress and join.written < total else None

    def joined(n: int) -> None:
        if joining is not None:
            joining.n = n
            joining.refresh()

    try:
        frames = join.wait(joined)
    finally:
        if joining is not None:
            joining.close()
    stage("join")  # what was left of it once the chunks were in
    if not keep_chunks:
        shutil.rmtree(where, ignore_errors=True)
    return DistributedResult(
        output, frames, time.perf_counter() - began, len(plan.chunks), len(todo), workers, stages, times
    )
