"""The allocator's thresholds: a frame's freed arrays stay with the process for the next one."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import threading

import pytest

from vscolorize.core import allocator

glibc = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's"
)

# A fresh process frees a 24 MB array that it touched and says how much of it left its memory.
# glibc maps a block that large on its own by default and unmaps it when freed; below the
# thresholds the block comes from the heap and stays there after the free.
_GIVEN_BACK = """
import sys
import numpy as np
from vscolorize.core.allocator import keep_freed_memory

def resident():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

if sys.argv[1] == "set":
    print("set", keep_freed_memory())
block = np.ones(24 << 17)  # 24 MB, every page touched
before = resident()
del block
print("given back", (before - resident()) >> 20)
"""


def _given_back(*args: str, env: dict[str, str] | None = None) -> tuple[str, int]:
    clean = {k: v for k, v in os.environ.items() if k not in allocator._USER_SETTINGS}
    out = subprocess.run(
        [sys.executable, "-c", _GIVEN_BACK, *args],
        capture_output=True,
        text=True,
        check=True,
        env={**clean, **(env or {})},
    ).stdout
    words = out.split()
    return out, int(words[-1])


@glibc
def test_freed_memory_stays_with_the_process() -> None:
    control, given_back = _given_back("leave")
    assert given_back >= 20, control  # glibc's default: the block goes back to the system
    out, given_back = _given_back("set")
    assert "set True" in out
    assert given_back <= 1, out


# A fresh process asks for 1 MB more than its heap has free and says by how much the heap grew
# (glibc's mallinfo2: the bytes the main heap has from the system).
_GROWTH = """
import ctypes, sys
from vscolorize.core.allocator import keep_freed_memory

class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
if sys.argv[1] == "set":
    keep_freed_memory()
before = libc.mallinfo2()
libc.malloc(before.fordblks + (1 << 20))
print("grew", (libc.mallinfo2().arena - before.arena) >> 20)
"""


@glibc
def test_a_heap_grows_by_the_top_pad_at_a_time() -> None:
    def grown(*args: str) -> int:
        out = subprocess.run(
            [sys.executable, "-c", _GROWTH, *args], capture_output=True, text=True, check=True
        )
        return int(out.stdout.split()[-1])

    assert grown("leave") <= 2  # glibc's default pad: 128 KB
    assert grown("set") >= allocator.TOP_PAD >> 20


@glibc
def test_the_users_own_thresholds_are_left_alone() -> None:
    out, given_back = _given_back("set", env={"MALLOC_TRIM_THRESHOLD_": "0"})
    assert "set False" in out
    assert given_back >= 20, out


def test_set_once_whatever_the_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def counted() -> bool:
        calls.append(1)
        return True

    monkeypatch.setattr(allocator, "_done", None)
    monkeypatch.setattr(allocator, "_set_thresholds", counted)
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(allocator.keep_freed_memory())) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 8
    assert len(calls) == 1


def test_other_c_libraries_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "libc_ver", lambda: ("musl", "1.2"))
    assert allocator._set_thresholds() is False
