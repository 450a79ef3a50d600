"""Hints carried outward from their keyframe, as far as asked: the wait is the distance, and the
answer is the same bits however it was reached."""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest
from test_propagation import HEIGHT, OTHER, WIDTH, pan

from vscolorize.core import propagation
from vscolorize.core.carry import Walk
from vscolorize.core.footage import Footage, MemoryStore
from vscolorize.core.hints import Color, Hints, Keyframe, Point, Stroke
from vscolorize.core.motion import MotionSettings
from vscolorize.core.propagation import CarriedHints, HintCarrier, _Lightness, propagate

CUT = 34  # frame 34 starts a second shot


def film(n: int) -> np.ndarray:
    if n < CUT:
        return pan(n, 1.5)
    x = 60 + 2 * (n - CUT)
    return np.ascontiguousarray(OTHER[120 : 120 + HEIGHT, x : x + WIDTH])


def keyframe(frame: int, *spots: tuple[float, float, float, float]) -> Keyframe:
    points = tuple(Point(x=x, y=y, color=Color(ab=(a, b))) for x, y, a, b in spots)
    return Keyframe(frame=frame, points=points)


HINTS = Hints(
    keyframes=(
        Keyframe(
            frame=4,
            points=keyframe(4, (0.5, 0.5, 20, -20), (0.2, 0.7, -30, 10)).points,
            strokes=(Stroke(path=((0.3, 0.3), (0.6, 0.35)), color=Color(ab=(0, 40)), width=0.02),),
        ),
        keyframe(22, (0.6, 0.4, 40, 10)),
        keyframe(45, (0.4, 0.5, -10, -30), (0.8, 0.2, 5, 5)),
        Keyframe(frame=52),  # no hints from here: those of frame 45 fade out towards it
    )
)
COUNT = 60


def carried(store: MemoryStore | None = None) -> CarriedHints:
    footage = Footage(_Lightness(COUNT, film, None), MotionSettings(), store or MemoryStore())
    return CarriedHints(footage, HINTS)


def test_hints_are_the_same_bits_whole_in_pieces_in_any_order_and_on_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    whole, cuts = propagate(HINTS, COUNT, film)
    assert cuts == {CUT}
    expected = {k.frame: k for k in whole.keyframes}
    assert {4, 5, 21, 22, 23, CUT - 1, 44, 46, 51} <= set(expected)  # both ways, both shots
    assert not set(range(53, COUNT)) & set(expected)  # a keyframe without hints carries none
    # the first shot's keyframes stop at the cut; the second's carries back to it
    assert {p.extra["propagated_from"] for p in expected[CUT].points} == {45}
    assert expected[52] == Keyframe(frame=52)
    assert expected[51].points[0].extra["confidence"] < 0.2  # 1/7 of the way to frame 52
    frames = list(range(COUNT))
    backwards = carried()
    assert {n: backwards.keyframe(n) for n in reversed(frames)} == {n: expected.get(n) for n in frames}
    # in a random order, walks dropped and walked again from their keyframes (one kept at a time)
    monkeypatch.setattr(propagation, "_KEEP_WALKS", 1)
    shuffled = random.Random(0).sample(frames, len(frames))
    hopping = carried()
    assert {n: hopping.keyframe(n) for n in shuffled} == {n: expected.get(n) for n in frames}
    monkeypatch.undo()
    # four threads at once, each asking for every frame in its own order
    shared = carried()
    results: list[dict[int, Keyframe | None]] = [{} for _ in range(4)]

    def ask(i: int) -> None:
        for n in random.Random(i).sample(frames, len(frames)):
            results[i][n] = shared.keyframe(n)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(result == {n: expected.get(n) for n in frames} for result in results)


def test_a_frame_near_its_keyframe_waits_for_the_distance_not_the_shot() -> None:
    count = 400  # one shot, one keyframe at its start
    footage = Footage(_Lightness(count, lambda n: pan(n, 0.5), None), MotionSettings(), MemoryStore())
    hints = Hints(keyframes=(keyframe(0, (0.5, 0.5, 20, -20)),))
    near = CarriedHints(footage, hints).keyframe(10)
    assert near is not None and near.points
    # frame 10 and the look-ahead the fade and the light need: no scan to the shot's end
    assert footage.measured <= 10 + Walk.AHEAD
    assert footage.reads <= 10 + Walk.AHEAD + 1
    (walk, _) = CarriedHints(footage, hints).walks(10)
    assert walk is not None and walk.reached == 0  # a new walk has not moved yet


def test_a_later_keyframe_is_waited_for_and_hands_over() -> None:
    count = 200
    footage = Footage(_Lightness(count, lambda n: pan(n, 0.5), None), MotionSettings(), MemoryStore())
    hints = Hints(keyframes=(keyframe(0, (0.5, 0.5, 20, -20)), keyframe(40, (0.5, 0.5, -20, 20))))
    hints_at = CarriedHints(footage, hints).keyframe(10)
    assert hints_at is not None
    sources = sorted(p.extra["propagated_from"] for p in hints_at.points)
    assert sources == [0, 40]  # both reach frame 10; frames past the later keyframe were not read
    assert footage.reads <= 41 + Walk.AHEAD and footage.measured <= 40 + Walk.AHEAD
    # the nearer keyframe weighs more: 30 frames away against 10
    confidence = {p.extra["propagated_from"]: p.extra["confidence"] for p in hints_at.points}
    assert confidence[0] > 2 * confidence[40]


def test_a_frame_in_a_shot_without_keyframes_reads_back_only_to_its_shot_start() -> None:
    def clip(n: int) -> np.ndarray:
        return pan(n, 0.5) if n < 150 else film(CUT + (n - 150) % 20)

    footage = Footage(_Lightness(300, clip, None), MotionSettings(), MemoryStore())
    carried_hints = CarriedHints(footage, Hints(keyframes=(keyframe(2, (0.5, 0.5, 20, -20)),)))
    assert carried_hints.keyframe(160) is None
    assert footage.measured <= 1  # no walk through the first shot: the cut was found first
    assert footage.reads <= 30
    # the rest of the shot reads its cuts back no more: the walk remembers the one at frame 150
    asked = []
    read_back = footage.shot_start
    footage.shot_start = lambda n, **kw: asked.append(n) or read_back(n, **kw)  # type: ignore[method-assign]
    assert all(carried_hints.keyframe(n) is None for n in range(161, 300))
    assert asked == []


def test_the_paint_windows_carrier_says_how_far_the_carrying_has_come() -> None:
    carrier = HintCarrier(_Lightness(80, lambda n: pan(n, 0.5), None), store=MemoryStore())
    hints = Hints(keyframes=(keyframe(5, (0.5, 0.5, 20, -20)),))
    assert carrier.progress(hints, 30) == (5, 30)  # nothing carried yet: at the keyframe
    carrier.keyframe(hints, 30)
    reached, target = carrier.progress(hints, 30)
    assert target == 30 and reached >= 30
    assert carrier.progress(hints, 2) == (5, 2)  # carried backwards too
    assert HintCarrier(_Lightness(8, pan, None), store=MemoryStore()).progress(Hints(), 3) is None
    assert carrier.progress(hints, 5) is None  # a keyframe's own
