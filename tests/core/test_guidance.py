from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vscolorize.core import Color, Hints, Keyframe, Point, suggest_points
from vscolorize.core.errors import HintError, ImageError, SettingError

HEIGHT, WIDTH = 48, 80


def tiles() -> np.ndarray:
    """Gray, four side-by-side tiles of different lightness, each with a little texture."""
    rng = np.random.default_rng(0)
    levels = np.repeat([0.35, 0.55, 0.45, 0.65], WIDTH // 4)
    return np.clip(levels[None, :] + 0.01 * rng.standard_normal((HEIGHT, WIDTH)), 0, 1)


def tile_of(x: float) -> int:
    return int(x * 4)


def hinted(*places: tuple[float, float]) -> Hints:
    points = tuple(Point(x=x, y=y, color=Color(ab=(30.0, -20.0))) for x, y in places)
    return Hints(keyframes=(Keyframe(frame=0, points=points),))


def test_gives_count_distinct_spread_places_in_the_picture() -> None:
    places = suggest_points(tiles(), count=5)
    assert len(places) == 5
    points = np.array(places)
    assert ((points > 0) & (points < 1)).all()
    gaps = np.linalg.norm(points[:, None] - points[None], axis=-1)[~np.eye(5, dtype=bool)]
    assert gaps.min() > 0.1  # not five neighbouring pixels
    assert len({tile_of(x) for x, _ in places}) >= 3  # spread over the tiles


def test_the_best_place_comes_first_whatever_the_count() -> None:
    assert suggest_points(tiles(), count=3)[0] == suggest_points(tiles())[0]


def test_the_one_region_without_hints_comes_first() -> None:
    for empty in range(4):
        others = [((t + 0.5) / 4, y) for t in range(4) if t != empty for y in (0.3, 0.7)]
        [(x, y)] = suggest_points(tiles(), hinted(*others))
        assert tile_of(x) == empty, (empty, x, y)


def test_a_hinted_place_is_not_suggested_again() -> None:
    [first] = suggest_points(tiles())
    [second] = suggest_points(tiles(), hinted(first))
    assert np.hypot(first[0] - second[0], first[1] - second[1]) > 0.1


def test_a_color_picture_is_reduced_to_its_lightness() -> None:
    gray = tiles()
    rgb = np.repeat(gray[..., None], 3, -1).astype(np.float32)
    assert suggest_points(rgb, count=2) == suggest_points(gray.astype(np.float32), count=2)


def test_hints_as_a_file_and_the_classical_engine(tmp_path: Path) -> None:
    path = tmp_path / "a.hints.json"
    path.write_text(json.dumps(hinted((0.1, 0.5), (0.4, 0.5)).to_json()))
    places = suggest_points(tiles(), path, count=2, method="optimization")
    assert all(tile_of(x) in (2, 3) for x, _ in places)  # the tiles no hint reaches


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: suggest_points(tiles(), count=0), SettingError, "suggest_points: count"),
        (lambda: suggest_points(tiles(), count=True), SettingError, "suggest_points: count"),
        (lambda: suggest_points(np.zeros((4, 4, 2))), ImageError, "suggest_points: image"),
        (lambda: suggest_points(tiles() * 2), ImageError, r"\[0, 1\]"),
        (lambda: suggest_points(tiles(), method="paint"), SettingError, "suggest_points: method"),
        (lambda: suggest_points(tiles(), colour=1), SettingError, "unknown setting 'colour'"),
        (
            lambda: suggest_points(tiles(), Hints(keyframes=(Keyframe(frame=3),))),
            HintError,
            "no keyframe for frame 0",
        ),
        (lambda: suggest_points(tiles(), {"format": "nope"}), HintError, "suggest_points: "),
    ],
)
def test_bad_input_is_one_line_naming_it(call: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message) as caught:
        call()  # type: ignore[operator]
    assert "\n" not in str(caught.value)
