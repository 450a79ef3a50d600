"""Hints with lifetimes: a hint that ends at a frame, starts after its keyframe, is muted on
ranges of frames, or carries one way only; and files without lifetimes give the same hints."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_carry import COUNT, HINTS, film

from vscolorize.core.errors import HintError
from vscolorize.core.hints import (
    Color,
    Hints,
    Keyframe,
    Lifetime,
    Point,
    Stroke,
    load_hints,
    parse_hints,
    save_hints,
)
from vscolorize.core.propagation import propagate

RED, BLUE = Color(ab=(40.0, 20.0)), Color(ab=(-10.0, -40.0))
KEY = 10  # the keyframe, in the first shot (frames 0-33 of test_carry's film)


def doc(**life: Any) -> dict[str, Any]:
    point = {"x": 0.5, "y": 0.5, "ab": [40, 20], **life}
    return {"format": "vscolorize.hints", "version": 1, "keyframes": [{"frame": KEY, "points": [point]}]}


def carried(*lives: Lifetime) -> dict[int, Keyframe]:
    """Frame -> hints of a shot whose keyframe has a red point with each lifetime (and a blue
    point that always lives), carried both ways."""
    points = tuple(Point(x=0.35 + 0.1 * i, y=0.5, color=RED, life=life) for i, life in enumerate(lives))
    keyframe = Keyframe(frame=KEY, points=(*points, Point(x=0.6, y=0.6, color=BLUE)))
    whole, _ = propagate(Hints(keyframes=(keyframe,)), 34, film)
    return {k.frame: k for k in whole.keyframes}


def reds(frames: dict[int, Keyframe], n: int) -> list[tuple[Point, dict[str, Any]]]:
    """The red points carried to frame n, each with its extra (which points compare without),
    their lifetimes left out."""
    points = frames[n].points if n in frames else ()
    return [(replace(p, life=Lifetime()), dict(p.extra)) for p in points if p.color.ab[0] > 0]


def test_lifetime_fields_load_save_and_are_written_only_when_used(tmp_path: Path) -> None:
    hints = parse_hints(doc(until=40, mute=[[15, 18], [22, 22]], carry="forward", **{"from": 10}))
    (point,) = hints.keyframes[0].points
    assert point.life == Lifetime(first=10, last=40, mute=((15, 18), (22, 22)), carry="forward")
    assert not point.extra  # the fields are the lifetime's, not unknown keys
    save_hints(hints, tmp_path / "h.json")
    assert load_hints(tmp_path / "h.json") == hints
    written = json.loads((tmp_path / "h.json").read_text())["keyframes"][0]["points"][0]
    assert written["until"] == 40 and written["from"] == 10 and written["carry"] == "forward"
    plain = parse_hints(doc())
    assert plain.keyframes[0].points[0].life.always
    assert plain.to_json()["keyframes"][0]["points"][0].keys() == {"x", "y", "ab", "radius"}
    assert parse_hints(doc(until=40)) != plain  # a lifetime changes what a hint does


@pytest.mark.parametrize(
    ("life", "message"),
    [
        ({"until": -1}, "keyframes[0].points[0].until: -1 is outside"),
        ({"until": 5, "from": 9}, "keyframes[0].points[0].until: 5 is before 'from' (9)"),
        ({"mute": [[4]]}, "keyframes[0].points[0].mute[0]: must be [first, last], not 1 numbers"),
        ({"mute": [[9, 4]]}, "keyframes[0].points[0].mute[0]: [9, 4] ends before it starts"),
        ({"mute": [[1.5, 4]]}, "keyframes[0].points[0].mute[0][0]: must be an integer, not 1.5"),
        ({"carry": "sideways"}, "keyframes[0].points[0].carry: \"sideways\" is not one of 'both'"),
    ],
)
def test_malformed_lifetimes_are_refused_in_one_line(life: dict[str, Any], message: str) -> None:
    with pytest.raises(HintError, match=None) as caught:
        parse_hints(doc(**life), source="h.json")
    assert str(caught.value).startswith(f"h.json: {message}")


def test_lifetimes_apply_to_strokes_too() -> None:
    stroke = {"path": [[0.1, 0.1], [0.3, 0.2]], "rgb": "#c83c28", "width": 0.01, "mute": [[3, 5]]}
    hints = parse_hints(
        {"format": "vscolorize.hints", "version": 1, "keyframes": [{"frame": 0, "strokes": [stroke]}]}
    )
    assert hints.keyframes[0].strokes[0].life.mute == ((3, 5),)
    assert hints.to_json()["keyframes"][0]["strokes"][0]["mute"] == [[3, 5]]


def test_a_hint_that_ends_colors_no_frame_after_its_end_and_the_others_are_untouched() -> None:
    always = carried(Lifetime())
    ends = carried(Lifetime(last=20))
    assert all(reds(ends, n) for n in range(KEY, 18))
    assert not any(reds(ends, n) for n in range(21, 34))
    assert reds(always, 25)  # it would have lived on
    # it fades out by its end rather than popping, and lives as before up to there
    assert reds(ends, 20)[0][1]["confidence"] < 0.5 * reds(always, 20)[0][1]["confidence"]
    assert reds(ends, 14) == reds(always, 14)
    # the hint that always lives is the same bits, and nothing changed before the keyframe
    for n in range(34):
        blues = [p for p in ends.get(n, Keyframe(frame=n)).points if p.color == BLUE]
        assert blues == [p for p in always.get(n, Keyframe(frame=n)).points if p.color == BLUE]
    assert all(reds(ends, n) == reds(always, n) for n in range(KEY))


def test_a_muted_hint_leaves_and_comes_back_in_its_place() -> None:
    always = carried(Lifetime())
    muted = carried(Lifetime(mute=((15, 19),)))
    assert not any(reds(muted, n) for n in range(15, 20))
    assert reds(muted, 11) == reds(always, 11)  # it fades out over the frames after
    back = [n for n in range(20, 34) if reds(muted, n)]
    assert back and back[0] == 20  # fading in from the first frame after the mute
    # tracked while muted: where it comes back is where it would have been
    assert reds(muted, 26) == reds(always, 26)  # faded in fully by then, at the same confidence


def test_one_way_hints_and_hints_that_start_later() -> None:
    forward = carried(Lifetime(carry="forward"))
    assert reds(forward, KEY) and reds(forward, KEY + 5) and not any(reds(forward, n) for n in range(KEY))
    backward = carried(Lifetime(carry="backward"))
    assert reds(backward, KEY - 5) and not any(reds(backward, n) for n in range(KEY + 1, 34))
    later = carried(Lifetime(first=16))
    assert not any(reds(later, n) for n in range(16)) and reds(later, 16) and reds(later, 25)
    # on the keyframe itself, the hints that start later are left out
    assert [p.color for p in later[KEY].points] == [BLUE]


def test_hints_without_lifetimes_and_with_lifetimes_that_never_bite_give_the_same_bits() -> None:
    whole, _ = propagate(HINTS, COUNT, film)
    lasting = Lifetime(first=0, last=10**6, mute=((COUNT + 5, COUNT + 9),))

    def live_long(keyframe: Keyframe) -> Keyframe:
        points = tuple(replace(p, life=lasting) for p in keyframe.points)
        strokes = tuple(replace(s, life=lasting) for s in keyframe.strokes)
        return replace(keyframe, points=points, strokes=strokes)

    lived, _ = propagate(Hints(keyframes=tuple(map(live_long, HINTS.keyframes))), COUNT, film)

    def plain(hints: Hints) -> list[tuple[int, list[Any]]]:
        return [
            (
                k.frame,
                [(p.x, p.y, p.color, dict(p.extra)) for p in k.points]
                + [(s.path, dict(s.extra)) for s in k.strokes],
            )
            for k in hints.keyframes
        ]

    assert plain(lived) == plain(whole)


def test_a_lifetime_is_checked_when_made_in_code() -> None:
    with pytest.raises(HintError, match="carry 'up'"):
        Lifetime(carry="up")
    with pytest.raises(HintError, match="from 9 is after until 4"):
        Lifetime(first=9, last=4)
    assert Stroke(path=((0, 0),), color=RED).life.always and np.isfinite(KEY)
