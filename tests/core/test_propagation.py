from __future__ import annotations

import numpy as np
import pytest
import skimage.data

from vscolorize.core.color import srgb_to_lab
from vscolorize.core.hints import Color, Hints, Keyframe, Point, Stroke
from vscolorize.core.motion import MotionSettings, flow_image, optical_flow, scene_cut
from vscolorize.core.propagation import propagate

WIDTH, HEIGHT = 320, 180
TEXTURE = srgb_to_lab(skimage.data.astronaut() / 255.0)[..., 0].astype(np.float32)  # 512x512
OTHER = srgb_to_lab(skimage.data.coffee() / 255.0)[..., 0].astype(np.float32)  # 400x600


def pan(n: int, speed: float = 2.0) -> np.ndarray:
    """Frame n of a camera panning right at ``speed`` px per frame: content moves left."""
    x = 40 + round(speed * n)
    return np.ascontiguousarray(TEXTURE[150 : 150 + HEIGHT, x : x + WIDTH])


def point(x: float, y: float, ab: tuple[float, float] = (20, -20)) -> Point:
    return Point(x=x, y=y, color=Color(ab=ab))


def one_keyframe(frame: int, *points: Point, strokes: tuple[Stroke, ...] = ()) -> Hints:
    return Hints(keyframes=(Keyframe(frame=frame, points=points, strokes=strokes),))


def px(p: Point) -> tuple[float, float]:
    return p.x * WIDTH - 0.5, p.y * HEIGHT - 0.5


def test_flow_measures_a_pan() -> None:
    a, b = flow_image(pan(0), 360), flow_image(pan(3), 360)
    for method in ("dis", "farneback"):
        flow = optical_flow(a, b, method)
        inner = flow[20:-20, 20:-20]
        assert abs(np.median(inner[..., 0]) + 6) < 0.3 and abs(np.median(inner[..., 1])) < 0.3


def test_a_flow_is_the_same_whatever_was_measured_before() -> None:
    import cv2

    a, b = flow_image(pan(0), 360), flow_image(pan(3), 360)
    first = optical_flow(a, b)
    small = [flow_image(pan(k)[::2, ::3].copy(), 360) for k in (1, 2)]
    optical_flow(small[0], small[1])  # another size, on the thread's same DIS
    optical_flow(b, a)
    np.testing.assert_array_equal(optical_flow(a, b), first)
    fresh = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    np.testing.assert_array_equal(fresh.calc(a, b, np.zeros((*a.shape, 2), np.float32)), first)


def test_points_and_strokes_follow_the_picture_both_ways() -> None:
    stroke = Stroke(path=((0.3, 0.3), (0.5, 0.4)), color=Color(ab=(0, 40)), width=0.02)
    hints = one_keyframe(10, point(0.5, 0.5), strokes=(stroke,))
    out, cuts = propagate(hints, 31, pan)
    assert cuts == set()
    assert out.keyframe(10) == hints.keyframes[0]  # the artist's keyframe is untouched
    for n in (0, 5, 20, 30):
        frame = out.keyframe(n)
        assert frame is not None and len(frame.points) == 1
        x, y = px(frame.points[0])
        assert abs(x - (159.5 - 2 * (n - 10))) < 1.0 and abs(y - 89.5) < 1.0
        # the light around it changes only as much as a small light map resamples (a few % in
        # this dark place): so does its color (see chroma_scales)
        assert np.allclose(frame.points[0].color.ab, hints.keyframes[0].points[0].color.ab, rtol=0.05)
        assert frame.points[0].extra["propagated_from"] == 10
        (moved,) = frame.strokes
        start = (moved.path[0][0] * WIDTH - 0.5, moved.path[0][1] * HEIGHT - 0.5)
        assert abs(start[0] - (0.3 * WIDTH - 0.5 - 2 * (n - 10))) < 1.0
        assert moved.width == stroke.width
        assert np.allclose(moved.color.ab, stroke.color.ab, rtol=0.05)


def test_hints_leaving_the_frame_are_dropped() -> None:
    out, _ = propagate(one_keyframe(0, point(0.03, 0.5), point(0.6, 0.5)), 12, pan)
    assert len(out.keyframe(1).points) == 2  # type: ignore[union-attr]
    assert len(out.keyframe(11).points) == 1  # type: ignore[union-attr]
    assert out.keyframe(11).points[0].x < 0.6  # type: ignore[union-attr]


def test_occluded_hints_leave_while_covered_and_come_back() -> None:
    """A textured block slides over a static background and covers one of two hints for a few
    frames: it is never painted on the block, and it is back where it was once the block has
    gone."""
    rng = np.random.default_rng(0)
    block = (rng.random((60, 60)) * 100).astype(np.float32)
    block = np.kron(block[::4, ::4], np.ones((4, 4), np.float32))  # coarse texture, trackable

    def frame(n: int) -> np.ndarray:
        picture = pan(0).copy()
        x = 10 + 8 * n
        picture[60:120, x : x + 60] = block[:, : WIDTH - x]
        return picture

    # hint A at x=200 is covered from frame 18 to 23; hint B (y=150) never is
    a, b = point(200.5 / WIDTH, 90.5 / HEIGHT), point(200.5 / WIDTH, 150.5 / HEIGHT)
    out, _ = propagate(one_keyframe(0, a, b), 34, frame)
    for n in range(1, 34):
        carried = out.keyframe(n)
        assert carried is not None
        block_x = 10 + 8 * n
        on_block = [
            p for p in carried.points if block_x <= p.x * WIDTH <= block_x + 60 and 60 <= p.y * HEIGHT <= 120
        ]
        assert not on_block, n
        assert any(abs(p.y - b.y) < 2 / HEIGHT for p in carried.points), n
    back = out.keyframe(33)
    assert back is not None
    assert any(abs(px(p)[0] - 200) <= 1.5 and abs(px(p)[1] - 90) <= 1.5 for p in back.points)


def test_propagation_stops_at_scene_cuts() -> None:
    def clip(n: int) -> np.ndarray:
        return pan(n) if n < 8 else np.ascontiguousarray(OTHER[100 : 100 + HEIGHT, 100 : 100 + WIDTH])

    out, cuts = propagate(one_keyframe(2, point(0.5, 0.5)), 14, clip)
    assert cuts == {8}
    assert [k.frame for k in out.keyframes] == list(range(8))
    # cuts the clip reports are used instead of detecting them
    out, cuts = propagate(one_keyframe(2, point(0.5, 0.5)), 8, pan, known_cut=lambda n: n == 5)
    assert cuts == {5} and [k.frame for k in out.keyframes] == [0, 1, 2, 3, 4]
    out, cuts = propagate(one_keyframe(2, point(0.5, 0.5)), 14, clip, known_cut=lambda n: False)
    assert cuts == set()  # the clip says: no cut (the flow check still drops what cannot match)


def test_scene_cut_detector() -> None:
    assert not scene_cut(flow_image(pan(0), 360), flow_image(pan(5), 360))
    other = np.ascontiguousarray(OTHER[:HEIGHT, :WIDTH])
    assert scene_cut(flow_image(pan(0), 360), flow_image(other, 360))


def test_frames_of_another_size_are_refused() -> None:
    with pytest.raises(ValueError, match="frame 3 is"):
        propagate(one_keyframe(0, point(0.5, 0.5)), 5, lambda n: pan(n) if n < 3 else pan(n)[:, :200])


def test_between_keyframes_both_sides_arrive_weighted_by_distance() -> None:
    hints = Hints(
        keyframes=(
            # on pixel centers: a patch test takes the nearest pixel, and a point on a border
            # between two flips between them with the flow's last hundredth of a pixel
            Keyframe(frame=0, points=(point(96.5 / WIDTH, 90.5 / HEIGHT, (30, 0)),)),
            Keyframe(frame=10, points=(point(224.5 / WIDTH, 90.5 / HEIGHT, (0, 30)),)),
        )
    )
    out, _ = propagate(hints, 11, pan)
    confidence = {}
    for n in range(1, 10):
        frame = out.keyframe(n)
        assert frame is not None
        for p in frame.points:
            confidence[p.extra["propagated_from"], n] = p.extra["confidence"]
        # the more confident side comes last, so it wins where they overlap
        first = [p.extra["propagated_from"] for p in frame.points]
        assert first == ([10, 0] if n < 5 else [0, 10])
    for n in range(1, 10):  # tracking weighs at most 1, times the share of the distance
        assert 0.5 * (10 - n) / 10 <= confidence[0, n] <= (10 - n) / 10 + 1e-4
        assert 0.5 * n / 10 <= confidence[10, n] <= n / 10 + 1e-4


def test_after_an_edit_the_paint_windows_carrier_reads_no_frame_again() -> None:
    from vscolorize.core.footage import MemoryStore
    from vscolorize.core.propagation import CARRIER_PICTURES, HintCarrier, _Lightness

    count = 120  # a shot longer than a renderer keeps pictures for, shorter than the window's
    assert count <= CARRIER_PICTURES
    carrier = HintCarrier(_Lightness(count, lambda n: pan(n, 1.0), None), store=MemoryStore())
    before = one_keyframe(0, point(0.8, 0.5, (30, 0)))
    after = one_keyframe(0, point(0.8, 0.5, (-10, 40)))
    first = carrier.keyframe(before, count - 1)
    reads = carrier.footage.reads
    edited = carrier.keyframe(after, count - 1)
    assert carrier.footage.reads == reads  # every picture tracking wants is still in memory
    assert first is not None and edited is not None
    # the same places and light, so the same share of the new color (see chroma_scales)
    (scale,) = [p.color.ab[0] / 30 for p in first.points]
    assert [p.color.ab for p in edited.points] == [(-10 * scale, 40 * scale)]
    assert [(p.x, p.y) for p in edited.points] == [(p.x, p.y) for p in first.points]


def test_nothing_to_propagate() -> None:
    out, _ = propagate(Hints(), 5, pan)
    assert out.keyframes == ()
    late = one_keyframe(9, point(0.5, 0.5))
    out, _ = propagate(late, 5, pan)  # a keyframe past the end carries nowhere
    assert out.keyframes == ()


def test_bad_settings() -> None:
    with pytest.raises(ValueError, match="flow must be one of"):
        MotionSettings(flow="magic")
