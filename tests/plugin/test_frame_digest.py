"""tools/frame_digest.py, the bit-identity check between two versions, at a tiny size: the same
version compares as the same, and a changed output is caught and measured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "frame_digest.py"


def run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *map(str, args)], capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_frame_digest_compares_two_runs(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    made = run("-o", first, "--frames", "2", "--threads", "1", "--arrays", tmp_path)
    assert made.returncode == 0, made.stderr
    again = run("-o", second, "--frames", "2", "--threads", "1", "--compare", first)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "node optimization: same" in again.stdout and "DIFFERS" not in again.stdout
    # another version whose picture is 3 steps brighter at one pixel
    kept = dict(np.load(tmp_path / "a.npz"))
    picture = kept["picture optimization"]
    picture.flat[0] += 3 / 255 if picture.dtype.kind == "f" else 3
    np.savez_compressed(tmp_path / "a.npz", **kept)
    changed = json.loads(first.read_text()) | {"picture optimization": "0" * 64}
    first.write_text(json.dumps(changed))
    caught = run("-o", second, "--frames", "2", "--threads", "1", "--compare", first, "--arrays", tmp_path)
    assert caught.returncode == 1, caught.stdout + caught.stderr
    assert "picture optimization: DIFFERS (max 3, mean" in caught.stdout
