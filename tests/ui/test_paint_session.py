"""tools/paint_session.py's session, offscreen on a tiny generated clip: the window driven by
synthesized input paints, corrects a carried frame and saves; the render carries the correction."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest
from pytestqt.qtbot import QtBot

from vscolorize.core.footage import MemoryStore
from vscolorize.core.hints import load_hints

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "paint_session.py"


@pytest.fixture(scope="module")
def session() -> ModuleType:
    spec = importlib.util.spec_from_file_location("paint_session", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["paint_session"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_session_corrects_a_carried_frame_and_the_render_shows_it(
    session: ModuleType, qtbot: QtBot, tmp_path: Path
) -> None:
    clip = session.generated_clip(6, 160, 96)
    hints = tmp_path / "session.hints.json"
    result = session.run_session(clip, hints, frame=3, shots=tmp_path / "shots", store=MemoryStore())
    assert result.ok, "\n".join(result.lines())
    saved = load_hints(hints)
    assert saved.frames == (0, 3)
    assert len(saved.keyframe(0).strokes) == 2 and len(saved.keyframe(0).points) == 3  # type: ignore[union-attr]
    assert sorted(result.measured) == [2, 3, 4]  # the corrected frame and its neighbors
    for frame, (_, before, after, shown) in result.measured.items():
        assert before[1] < -15  # blue before the correction
        if frame >= 3:
            assert after == pytest.approx(shown, abs=10)  # orange from the corrected frame on
        else:  # between keyframes 0 and 3: two thirds of the way from blue to orange
            assert math.dist(after, shown) < math.dist(after, before) / 1.5
    assert [p.name for p in result.shots] == [
        "01-frame0-painted.png",
        "02-frame3-carried.png",
        "03-frame3-corrected.png",
        "04-saved.png",
    ]
    assert all(p.stat().st_size > 1000 for p in result.shots)


def test_the_session_refuses_to_start_from_an_existing_file(
    session: ModuleType, qtbot: QtBot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hints = tmp_path / "old.hints.json"
    hints.write_text("{}")
    with pytest.raises(SystemExit) as exit_:
        session.main(["--frames", "4", "--size", "64x48", "--frame", "2", "--hints", str(hints)])
    assert exit_.value.code == 2 and "exists" in capsys.readouterr().err
