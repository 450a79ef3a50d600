from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vscolorize.core.color import srgb_to_lab
from vscolorize.core.errors import HintError
from vscolorize.core.hints import (
    DEFAULT_RADIUS,
    Color,
    Hints,
    Keyframe,
    Point,
    Stroke,
    check_frames,
    load_hints,
    paint_hints,
    parse_hints,
    rasterize,
    resolve_hints,
    save_hints,
)

EXAMPLE: dict[str, Any] = {
    "format": "vscolorize.hints",
    "version": 1,
    "keyframes": [
        {
            "frame": 0,
            "points": [{"x": 0.31, "y": 0.55, "ab": [12.5, -30.0], "radius": 0.004}],
            "strokes": [{"path": [[0.10, 0.10], [0.20, 0.15]], "rgb": "#c83c28", "width": 0.01}],
        }
    ],
}


def write(tmp_path: Path, doc: Any, name: str = "hints.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_loads_the_design_example(tmp_path: Path) -> None:
    hints = load_hints(write(tmp_path, EXAMPLE))
    (kf,) = hints.keyframes
    assert kf.frame == 0
    assert kf.points[0] == Point(x=0.31, y=0.55, color=Color(ab=(12.5, -30.0)), radius=0.004)
    stroke = kf.strokes[0]
    assert stroke.path == ((0.1, 0.1), (0.2, 0.15)) and stroke.width == 0.01
    expected_ab = srgb_to_lab(np.array([0xC8, 0x3C, 0x28]) / 255)[1:]
    np.testing.assert_allclose(stroke.color.ab, expected_ab)
    assert stroke.color.rgb == "#c83c28"


def test_defaults() -> None:
    doc = {
        "format": "vscolorize.hints",
        "version": 1,
        "keyframes": [{"frame": 3, "points": [{"x": 0, "y": 1, "ab": [0, 0]}]}],
    }
    kf = parse_hints(doc).keyframes[0]
    assert kf.points[0].radius == DEFAULT_RADIUS and kf.strokes == ()


def test_round_trip_keeps_unknown_keys_and_color_form(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(EXAMPLE))
    doc["author"] = {"name": "me"}
    doc["keyframes"][0]["note"] = "sky"
    doc["keyframes"][0]["points"][0]["locked"] = True
    doc["keyframes"][0]["strokes"][0]["pressure"] = [0.2, 0.9]
    path = write(tmp_path, doc)
    save_hints(load_hints(path), tmp_path / "out.json")
    again = json.loads((tmp_path / "out.json").read_text())
    assert again["author"] == {"name": "me"}
    assert again["keyframes"][0]["note"] == "sky"
    assert again["keyframes"][0]["points"][0]["locked"] is True
    assert again["keyframes"][0]["points"][0]["ab"] == [12.5, -30.0]
    assert again["keyframes"][0]["strokes"][0]["pressure"] == [0.2, 0.9]
    assert again["keyframes"][0]["strokes"][0]["rgb"] == "#c83c28"
    assert load_hints(tmp_path / "out.json") == load_hints(path)


def test_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = write(tmp_path, EXAMPLE)
    before = target.read_bytes()
    hints = load_hints(target).with_keyframe(Keyframe(frame=9))

    def crash(src: str, dst: str) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk on fire"):
        save_hints(hints, target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hints.json"]  # no temp file left
    monkeypatch.undo()
    target.chmod(0o600)
    save_hints(hints, target)
    assert load_hints(target).frames == (0, 9)
    assert target.stat().st_mode & 0o777 == 0o600


def test_hints_sorted_and_unique() -> None:
    hints = Hints(keyframes=(Keyframe(frame=5), Keyframe(frame=1)))
    assert hints.frames == (1, 5)
    assert hints.keyframe(5) == Keyframe(frame=5) and hints.keyframe(2) is None
    with pytest.raises(HintError, match="more than one keyframe"):
        Hints(keyframes=(Keyframe(frame=1), Keyframe(frame=1)))


def _with(path: str, value: Any, delete: bool = False) -> dict[str, Any]:
    doc = json.loads(json.dumps(EXAMPLE))
    *parents, last = [int(p) if p.isdigit() else p for p in path.split("/")]
    node = doc
    for p in parents:
        node = node[p]
    if delete:
        del node[last]
    elif isinstance(node, list) and last == len(node):
        node.append(value)
    else:
        node[last] = value
    return doc


KF = "keyframes/0"
BAD = [
    (_with("format", "other"), "hints.json: format: \"other\" is not 'vscolorize.hints'"),
    (_with("version", 2), "hints.json: version: version 2 is not supported"),
    (_with("version", "1"), 'hints.json: version: must be an integer, not "1"'),
    (_with("keyframes", None, delete=True), "hints.json: is missing 'keyframes'"),
    (_with("keyframes", {}), "hints.json: keyframes: must be an array, not an object"),
    (_with(f"{KF}/points/0/x", 1.7), "hints.json: keyframes[0].points[0].x: 1.7 is outside [0, 1]"),
    (_with(f"{KF}/points/0/y", -0.1), "keyframes[0].points[0].y: -0.1 is outside [0, 1]"),
    (_with(f"{KF}/points/0/x", "0.5"), 'keyframes[0].points[0].x: must be a number, not "0.5"'),
    (_with(f"{KF}/points/0/x", True), "keyframes[0].points[0].x: must be a number, not true"),
    (
        _with(f"{KF}/points/0/radius", -0.01),
        "keyframes[0].points[0].radius: -0.01 is outside (0, 1]",
    ),
    (_with(f"{KF}/points/0/radius", 0), "keyframes[0].points[0].radius: 0 is outside (0, 1]"),
    (_with(f"{KF}/points/0/ab", None, delete=True), "keyframes[0].points[0]: has no color"),
    (_with(f"{KF}/points/0/rgb", "#fff"), "keyframes[0].points[0]: has both 'ab' and 'rgb'"),
    (_with(f"{KF}/points/0/ab", [1]), "keyframes[0].points[0].ab: must hold 2 numbers"),
    (
        _with(f"{KF}/points/0/ab", [1, 200]),
        "keyframes[0].points[0].ab[1]: 200 is outside [-128, 127]",
    ),
    (
        _with(f"{KF}/strokes/0/rgb", "#c83c2"),
        "keyframes[0].strokes[0].rgb: \"#c83c2\" is not a '#rrggbb' color",
    ),
    (
        _with(f"{KF}/strokes/0/rgb", "red"),
        "keyframes[0].strokes[0].rgb: \"red\" is not a '#rrggbb' color",
    ),
    (_with(f"{KF}/strokes/0/path", []), "keyframes[0].strokes[0].path: must hold at least one"),
    (_with(f"{KF}/strokes/0/path/1", [0.1]), "keyframes[0].strokes[0].path[1]: must be [x, y]"),
    (_with(f"{KF}/strokes/0/width", -1), "keyframes[0].strokes[0].width: -1 is outside (0, 1]"),
    (_with(f"{KF}/frame", 1.5), "keyframes[0].frame: must be an integer, not 1.5"),
    (_with(f"{KF}/frame", -1), "keyframes[0].frame: -1 is outside"),
    (_with(f"{KF}/frame", None, delete=True), "keyframes[0]: is missing 'frame'"),
    (_with(f"{KF}/points", [5]), "keyframes[0].points[0]: must be an object, not 5"),
    (_with("keyframes/1", {"frame": 0}), "keyframes[1].frame: frame 0 already has a keyframe"),
]


@pytest.mark.parametrize(("doc", "message"), BAD, ids=[m.split(": ", 1)[-1][:40] for _, m in BAD])
def test_malformed_documents_are_refused(tmp_path: Path, doc: Any, message: str) -> None:
    path = write(tmp_path, doc)
    with pytest.raises(HintError) as info:
        load_hints(path)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(f"{path}: ")
    assert message.removeprefix("hints.json: ") in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "invalid JSON at line 1 column 2"),
        ('{"format": NaN}', "invalid JSON: NaN is not valid JSON"),
        ("[" * 100_000, "invalid JSON"),
        ("[]", "must be an object, not an array"),
        ("", "invalid JSON at line 1 column 1"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(HintError, match=message):
        load_hints(write(tmp_path, text))


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(HintError, match=r"nope\.json: no such file"):
        load_hints(tmp_path / "nope.json")
    with pytest.raises(HintError, match="is a directory"):
        load_hints(tmp_path)
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(HintError, match="not UTF-8"):
        load_hints(tmp_path / "bin.json")


def test_resolve_hints_forms(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)
    hints = load_hints(path)
    assert resolve_hints(None) is None
    assert resolve_hints(hints) is hints
    assert resolve_hints(str(path)) == hints == resolve_hints(path) == resolve_hints(EXAMPLE)
    with pytest.raises(HintError, match="expected a path"):
        resolve_hints(42)  # type: ignore[arg-type]


def test_check_frames_refuses_a_keyframe_past_the_clip() -> None:
    hints = Hints(keyframes=(Keyframe(frame=12), Keyframe(frame=3), Keyframe(frame=20)))
    check_frames(None, 1)  # no hints: nothing to refuse
    check_frames(Hints(), 1)
    check_frames(hints, 21)  # the last keyframe on the last frame
    # one line, without a caller's name (callers add theirs), naming the first keyframe too late
    with pytest.raises(HintError) as caught:
        check_frames(hints, 12)
    assert str(caught.value) == "hints: keyframe 12 is past the clip's last frame (11)"
    with pytest.raises(ValueError, match=r"keyframe 3 is past the clip's last frame \(2\)"):
        check_frames(hints, 3)


# --- rasterization -----------------------------------------------------------------------------


def point(x: float, y: float, ab: tuple[float, float], radius: float) -> Point:
    return Point(x=x, y=y, color=Color(ab=ab), radius=radius)


def test_point_paints_a_disc_of_pixel_centers() -> None:
    # 100x100: radius 0.02 -> 2 px; centered on pixel (50, 50)'s center -> the 13 pixels within 2
    kf = Keyframe(frame=0, points=(point(50.5 / 100, 50.5 / 100, (10, -20), 0.02),))
    ab, mask = rasterize(kf, 100, 100)
    rows, cols = np.nonzero(mask)
    assert mask.sum() == 13
    assert ((rows - 50) ** 2 + (cols - 50) ** 2 <= 4).all()
    np.testing.assert_array_equal(ab[mask], np.tile([10, -20], (13, 1)))
    assert (ab[~mask] == 0).all() and ab.dtype == np.float32


def test_radius_is_a_fraction_of_the_shorter_side() -> None:
    kf = Keyframe(frame=0, points=(point(0.5, 0.5, (1, 1), 0.1),))
    _, wide = rasterize(kf, 100, 400)
    _, square = rasterize(kf, 100, 100)
    assert wide.sum() == square.sum()


def test_hints_survive_resizing() -> None:
    kf = Keyframe(frame=0, points=(point(0.25, 0.75, (5, 5), 0.05),))
    for size in [(40, 60), (400, 600)]:
        _, mask = rasterize(kf, *size)
        rows, cols = np.nonzero(mask)
        assert abs(rows.mean() + 0.5 - 0.75 * size[0]) < 0.5
        assert abs(cols.mean() + 0.5 - 0.25 * size[1]) < 0.5


def test_tiny_hint_paints_its_pixel() -> None:
    kf = Keyframe(frame=0, points=(point(0.999, 0.0, (3, 4), 1e-6),))
    ab, mask = rasterize(kf, 10, 10)
    assert mask.sum() == 1 and mask[0, 9]
    assert tuple(ab[0, 9]) == (3, 4)


def test_stroke_is_a_swept_disc() -> None:
    stroke = Stroke(path=((0.1, 0.5), (0.9, 0.5)), color=Color(ab=(7, 7)), width=0.1)
    _, mask = rasterize(Keyframe(frame=0, strokes=(stroke,)), 100, 100)
    # a horizontal band 5 px either side of row 50's upper edge, with round caps
    assert mask[45:55, 10:90].all()
    assert not mask[:44].any() and not mask[56:].any()
    assert not mask[:, :4].any() and not mask[:, 96:].any()


def test_later_hints_overwrite_earlier_and_points_go_on_top() -> None:
    stroke = Stroke(path=((0.0, 0.5), (1.0, 0.5)), color=Color(ab=(1, 1)), width=0.2)
    first = point(0.5, 0.5, (2, 2), 0.05)
    second = point(0.52, 0.5, (3, 3), 0.05)
    ab, mask = rasterize(Keyframe(frame=0, points=(first, second), strokes=(stroke,)), 100, 100)
    assert tuple(ab[50, 52]) == (3, 3)  # the later point wins over the earlier one
    assert tuple(ab[50, 46]) == (2, 2)  # the point wins over the stroke
    assert tuple(ab[50, 10]) == (1, 1)
    assert mask[40:60].all()


def test_rasterize_without_hints() -> None:
    ab, mask = rasterize(None, 3, 4)
    assert ab.shape == (3, 4, 2) and not mask.any()
    with pytest.raises(ValueError, match="size must be positive"):
        rasterize(None, 0, 4)


def _carried(ab: tuple[float, float], confidence: float, x: float = 0.5) -> Point:
    return Point(x=x, y=0.5, color=Color(ab=ab), radius=0.1, extra={"confidence": confidence})


def test_carried_hints_paint_at_their_confidence_and_mix_in_any_order() -> None:
    keyframe = Keyframe(frame=3, points=(_carried((40, 0), 0.25),))
    ab, weight = paint_hints(keyframe, 20, 20)
    assert weight[10, 10] == pytest.approx(0.25) and ab[10, 10].tolist() == [40, 0]
    assert rasterize(keyframe, 20, 20)[1][10, 10]  # in the mask, however weak
    for t in (0.2, 0.49, 0.51, 0.8):  # two fading hints on one place: a smooth hand-over
        a, b = _carried((40, 0), 1 - t), _carried((0, 40), t)
        one = paint_hints(Keyframe(frame=3, points=(a, b)), 20, 20)
        other = paint_hints(Keyframe(frame=3, points=(b, a)), 20, 20)
        assert np.allclose(one[0], other[0]) and np.allclose(one[1], other[1])
        assert one[0][10, 10] == pytest.approx([40 * (1 - t), 40 * t], abs=1e-4)
    # an artist's hint (strength 1) paints over what is under it, as it always did
    artist = Point(x=0.5, y=0.5, color=Color(ab=(0, -30)), radius=0.1)
    ab, weight = paint_hints(Keyframe(frame=3, points=(_carried((40, 0), 0.5), artist)), 20, 20)
    assert ab[10, 10].tolist() == [0, -30] and weight[10, 10] == 1


def test_a_hint_paints_each_pixel_once() -> None:
    """A stroke's joints and a point's center pixel are not painted twice (a weak hint would
    weigh more there)."""
    stroke = Stroke(
        path=((0.2, 0.5), (0.5, 0.5), (0.5, 0.8)),
        color=Color(ab=(10, 10)),
        width=0.1,
        extra={"confidence": 0.4},
    )
    _, weight = paint_hints(Keyframe(frame=0, strokes=(stroke,)), 40, 40)
    assert np.unique(weight).tolist() == pytest.approx([0, 0.4])
