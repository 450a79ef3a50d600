"""``vscolorize render --cluster``: one render split across the workers of a Dask cluster.

The coordinator (this process) reads no frame: it asks the workers to find the shots (a slice
each), packs whole shots into chunks, and submits one Dask task per chunk. A worker reads the
source itself, renders its range into a lossless chunk with a sidecar of per-frame checksums beside
the output (a folder every machine sees at the same path), and returns a small record; it reports
its progress as Dask events while it works. Finished chunks stay: running the same command again
renders only what is missing (and after a hint edit, only the chunks of the edited shots). The join
verifies every chunk's frames and encodes them into the output as ``render`` encodes, while the
last chunks still render: the frames equal the plain render's, bit for bit, when the workers
compute alike (the same versions and the same kind of device).

- :mod:`.plan`: the shots, the chunks of whole shots, their keys, the manifest.
- :mod:`.chunk`: one chunk rendered into its files, and telling a finished one.
- :mod:`.join`: the chunks verified and joined into the output.
- :mod:`.workers`: the tasks that run on the workers.
- :mod:`.submit`: the cluster, the workers' fitness, the tasks and their retries.
- :mod:`.coordinator`: :func:`render_distributed`, all of it in order.

Scheduling, retries and worker recovery are Dask's (``distributed``); nothing here schedules.
"""

from __future__ import annotations

from .chunk import ChunkJob, ChunkRecord, finished, write_chunk
from .coordinator import DistributedResult, render_distributed
from .join import DamagedChunk, Join
from .plan import CHUNK_FRAMES, Chunk, Plan, chunk_key, fingerprint, plan_chunks, scan
from .submit import ClusterError, check_workers, connect, local_cluster
from .workers import worker_facts

__all__ = [
    "CHUNK_FRAMES",
    "Chunk",
    "ChunkJob",
    "ChunkRecord",
    "ClusterError",
    "DamagedChunk",
    "DistributedResult",
    "Join",
    "Plan",
    "check_workers",
    "chunk_key",
    "connect",
    "fingerprint",
    "finished",
    "local_cluster",
    "plan_chunks",
    "render_distributed",
    "scan",
    "worker_facts",
    "write_chunk",
]
