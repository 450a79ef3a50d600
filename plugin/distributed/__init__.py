"""``vscolorize render --cluster``: one render split across the workers of a Dask cluster.

The coordinator (this process) reads no frame: it asks the workers to find the shots (a slice
each), packs whole shots into chunks, and submits one Dask task per chunk. A worker reads the
source itself, renders its range and encodes it in the output's codec and container (a stream of
its own, starting with a keyframe), with a sidecar of per-frame checksums and the file's hash,
beside the output (a folder every machine sees at the same path), and returns a small record; it
reports its progress as Dask events while it works. Finished chunks stay: running the same command
again renders only what is missing (and after a hint edit, only the chunks of the edited shots).
The join verifies every chunk file's hash and copies their streams into the output, decoding
nothing: the coordinator stays idle whatever the number of workers. The plain ``render`` runs the
same plan in its own process (:class:`.executor.InProcess`): the file equals the plain render's,
bit for bit, when the workers compute alike (the same versions and the same kind of device).

- :mod:`.plan`: the shots, the chunks of whole shots, their keys, the manifest.
- :mod:`.chunk`: one chunk rendered into its files, and telling a finished one.
- :mod:`.join`: the chunks verified and copied into the output.
- :mod:`.executor`: where the work runs; in this process.
- :mod:`.workers`: the tasks that run on the workers.
- :mod:`.submit`: the cluster, the workers' fitness, the tasks and their retries.
- :mod:`.coordinator`: :func:`render_distributed` and :func:`render_here`, all of it in order.

Scheduling, retries and worker recovery are Dask's (``distributed``); nothing here schedules.
"""

from __future__ import annotations

from .chunk import ChunkJob, ChunkRecord, finished, write_chunk
from .coordinator import DistributedResult, render_distributed, render_here
from .executor import Executor, InProcess
from .join import DamagedChunk, join_chunks
from .plan import CHUNK_FRAMES, Chunk, Plan, chunk_key, fingerprint, plan_chunks, scan
from .submit import ClusterError, DaskExecutor, check_workers, connect, local_cluster
from .workers import worker_facts

__all__ = [
    "CHUNK_FRAMES",
    "Chunk",
    "ChunkJob",
    "ChunkRecord",
    "ClusterError",
    "DamagedChunk",
    "DaskExecutor",
    "DistributedResult",
    "Executor",
    "InProcess",
    "Plan",
    "check_workers",
    "chunk_key",
    "connect",
    "fingerprint",
    "finished",
    "join_chunks",
    "local_cluster",
    "plan_chunks",
    "render_distributed",
    "render_here",
    "scan",
    "worker_facts",
    "write_chunk",
]
