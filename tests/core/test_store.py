from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import skimage.data

from vscolorize.core.color import srgb_to_lab
from vscolorize.core.footage import MemoryStore
from vscolorize.core.motion import MotionSettings, Pair, flow_image
from vscolorize.core.store import MotionStore, parse_size

TEXTURE = srgb_to_lab(skimage.data.astronaut() / 255.0)[..., 0].astype(np.float32)


def pan(n: int) -> np.ndarray:
    """Frame n of a pan: content moves left 2 px per frame."""
    return np.ascontiguousarray(TEXTURE[150:330, 40 + 2 * n : 360 + 2 * n])


def a_pair(n: int = 0) -> Pair:
    return Pair.compute(flow_image(pan(n), 360), flow_image(pan(n + 1), 360), MotionSettings())


def same(a: Pair, b: Pair) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a.arrays(), b.arrays(), strict=True))


def test_a_pair_comes_back_bit_for_bit(tmp_path: Path) -> None:
    store = MotionStore(tmp_path)
    pair = a_pair()
    key = MotionStore.key(MotionSettings(), b"a" * 16, b"b" * 16)
    assert store.get(key) is None
    store.put(key, pair)
    loaded = store.get(key)
    assert loaded is not None and same(loaded, pair)
    # the pan moves 2 px per frame: content moves left
    assert abs(float(np.median(loaded.flow(True)[..., 0])) + 2) < 0.3
    assert store.size() == store.path(key).stat().st_size


def test_keys_depend_on_content_order_and_settings() -> None:
    key = MotionStore.key(MotionSettings(), b"a" * 16, b"b" * 16)
    assert key != MotionStore.key(MotionSettings(), b"b" * 16, b"a" * 16)
    assert key != MotionStore.key(MotionSettings(short_side=240), b"a" * 16, b"b" * 16)
    assert key == MotionStore.key(MotionSettings(), b"a" * 16, b"b" * 16)


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_a_damaged_entry_is_removed_with_a_warning_never_used(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = MotionStore(tmp_path)
    key = MotionStore.key(MotionSettings(), b"a" * 16, b"b" * 16)
    store.put(key, a_pair())
    path = store.path(key)
    data = path.read_bytes()
    damaged = {
        "truncate": data[: len(data) // 2],
        "flip": data[:1000] + bytes([data[1000] ^ 1]) + data[1001:],
        "garbage": os.urandom(len(data)),
        "empty": b"",
    }[damage]
    path.write_bytes(damaged)
    assert store.get(key) is None
    assert "damaged" in caplog.text
    assert not path.exists()


def test_least_recently_used_pairs_are_pruned(tmp_path: Path) -> None:
    pair = a_pair()
    probe = MotionStore(tmp_path / "probe")
    probe.put("0" * 40, pair)
    size = probe.size()
    store = MotionStore(tmp_path / "store", limit=int(size * 3.5))
    keys = [f"{i:040x}" for i in range(3)]
    for i, key in enumerate(keys):
        store.put(key, pair)
        os.utime(store.path(key), (1000 + i, 1000 + i))
    assert store.get(keys[0]) is not None  # used now: the most recent
    store.put(f"{9:040x}", pair)  # over the limit: prune to 90 % of it
    left = {key for key in [*keys, f"{9:040x}"] if store.path(key).exists()}
    assert keys[1] not in left and keys[0] in left and f"{9:040x}" in left
    assert store.size() <= store.limit


def test_sizes_parse() -> None:
    assert parse_size("20G") == 20 * 1024**3
    assert parse_size("1.5M") == int(1.5 * 1024**2)
    assert parse_size("4096") == 4096
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")


def test_an_unwritable_store_warns_once_and_goes_on(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    store = MotionStore(blocker / "motion")
    store.put("ab" * 20, a_pair())
    store.put("cd" * 20, a_pair())
    assert caplog.text.count("cannot write") == 1
    assert store.get("ab" * 20) is None


WRITER = textwrap.dedent(
    """
    import sys
    from vscolorize.core.motion import MotionSettings, Pair
    from vscolorize.core.store import MotionStore
    import numpy as np
    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, (360, 640), dtype=np.uint8)
    pair = Pair.compute(a, np.roll(a, 2, axis=1), MotionSettings())
    store = MotionStore(sys.argv[1])
    print("ready", flush=True)
    i = 0
    while True:
        store.put(f"{i:040x}", pair)
        i += 1
    """
)


def test_a_process_killed_while_writing_leaves_nothing_trusted(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(folder)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    time.sleep(1.0)  # a few dozen pairs written, one being written now
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    store = MotionStore(folder)
    finished = sorted(folder.rglob("*.motion"))
    assert finished, "the writer wrote nothing before it was killed"
    for path in finished:  # every file that has its final name is whole and intact
        assert store.get(path.stem) is not None
    # what was being written has a temporary name: never read as a pair, removed when stale
    for partial in folder.rglob("*.partial"):
        os.utime(partial, (0, 0))
    store.prune()
    assert not list(folder.rglob("*.partial"))


def test_memory_store_keeps_at_most_its_limit_least_recently_used_first() -> None:
    pair = a_pair()
    other = a_pair(1)
    store = MemoryStore(limit=2 * pair.nbytes)
    store.put("a", pair)
    store.put("b", pair)
    store.put("a", other)  # the first stored stays
    assert store.get("a") is pair  # a use: b is now the oldest
    store.put("c", pair)
    assert store.get("b") is None and store.get("a") is pair and store.get("c") is pair
    lone = MemoryStore(0)  # keeps the pair stored last, whatever its size
    lone.put("a", pair)
    lone.put("b", other)
    assert lone.get("a") is None and lone.get("b") is other
