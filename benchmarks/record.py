"""Results that write themselves down: what a benchmark prints, prepended to its results file
(``docs/results/NAME.txt``, newest first) under a header with the date, the machine and the command
that made it, so the published figures are the measured ones.

    with recorded(args.record):  # None: print only
        ...  # the benchmark's prints
"""

from __future__ import annotations

import contextlib
import datetime
import io
import os
import platform
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

__all__ = ["machine", "recorded"]


def machine() -> str:
    """The CPU (model, cores, whether it multiplies bfloat16 in hardware), the GPU, the load."""
    import torch

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    capabilities = torch.cpu.get_capabilities()
    amx = "with AMX" if capabilities.get("amx_bf16", False) else "without AMX"
    if capabilities.get("avx512_bf16", False):
        amx += ", with AVX-512 BF16"
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()}-core {cpu} {amx}, {gpu}, load {load:.2f} at the start"


class _Tee(io.StringIO):
    """Keeps what is written and passes it on."""

    def __init__(self, out: TextIO) -> None:
        super().__init__()
        self.out = out

    def write(self, s: str) -> int:
        self.out.write(s)
        return super().write(s)

    def flush(self) -> None:
        self.out.flush()


@contextlib.contextmanager
def recorded(path: Path | None) -> Iterator[None]:
    """Print as usual; with ``path``, also put the printed lines at the top of that file (below its
    own first comment lines), written whole under a temporary name."""
    if path is None:
        yield
        return
    header = [
        f"# {datetime.date.today().isoformat()}; {machine()}",
        f"# python {shlex.join(['benchmarks/' + Path(sys.argv[0]).name, *sys.argv[1:]])}",
    ]
    tee = _Tee(sys.stdout)
    with contextlib.redirect_stdout(tee):
        yield
    old = path.read_text().splitlines() if path.is_file() else []
    top = 0
    while top < len(old) and old[top].startswith("#"):
        top += 1
    lines = [*old[:top], "", *header, *tee.getvalue().rstrip("\n").splitlines(), *old[top:]]
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(lines).rstrip("\n") + "\n")
    os.replace(tmp, path)
