"""A Dask worker preload for the distributed tests: faults on cue, from marker files.

In the folder named by $VSCOLORIZE_FAULTS, a file ``kill-N`` makes the worker rendering the chunk
that starts at frame N exit abruptly (``os._exit``) after its third frame, once (the marker is
taken first); ``fail-N`` makes that chunk raise, every time, as a decoder would on a damaged file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import vscolorize.distributed.chunk
from vscolorize.render import RenderError


def dask_setup(worker: Any) -> None:
    folder = Path(os.environ["VSCOLORIZE_FAULTS"])
    original = vscolorize.distributed.chunk.write_chunk

    def write_chunk(job: Any, on_frame: Callable[[int], None] | None = None) -> Any:
        first = job.chunk.first
        if (folder / f"fail-{first}").exists():
            raise RenderError(f"frame {first + 2}: the decoder failed (a damaged file)")
        kill = folder / f"kill-{first}"

        def frame(done: int) -> None:
            if on_frame is not None:
                on_frame(done)
            if done == 3:
                try:
                    kill.unlink()
                except FileNotFoundError:
                    return
                os._exit(1)

        return original(job, frame)

    # the worker's task looks it up on the module at each call
    vscolorize.distributed.chunk.write_chunk = write_chunk
