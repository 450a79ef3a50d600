"""What importing vscolorize costs a process: the collector waits for torch's objects, and the
modules only a rare path needs are not loaded."""

from __future__ import annotations

import json
import subprocess
import sys

# A fresh process imports vscolorize and says what the garbage collector did meanwhile.
_IMPORT = """
import gc, json, sys
full = []
gc.callbacks.append(lambda phase, info: full.append(1) if phase == "start" and info["generation"] == 2 else None)
if sys.argv[1] == "off":
    gc.disable()
before = gc.get_freeze_count()  # Python starts with a few hundred
import vscolorize
print(json.dumps({
    "full_collections": len(full),
    "enabled": gc.isenabled(),
    "frozen": gc.get_freeze_count() - before,
    "superlu": "scipy.sparse.linalg" in sys.modules,
}))
"""


def _import(collector: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT, collector], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def test_the_import_runs_no_full_collection_and_freezes_what_it_made() -> None:
    # without the pause, torch's import ran three full collections of everything it had made
    seen = _import("on")
    assert seen["full_collections"] == 0
    assert seen["enabled"] is True
    assert isinstance(seen["frozen"], int) and seen["frozen"] > 100_000
    assert seen["superlu"] is False  # only the full-size "direct" solve needs it


def test_a_host_that_turned_the_collector_off_keeps_it_off() -> None:
    seen = _import("off")
    assert seen["enabled"] is False
    assert seen["frozen"] == 0
