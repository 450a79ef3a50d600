"""Film-scale behavior of the node: pure frames whatever the order, threads and store; nothing
read or measured that a frame does not need; hint edits never measure motion again."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import skimage.data
import vapoursynth as vs

import vscolorize
import vscolorize.core.motion as motion
from vscolorize.analyze import analyze
from vscolorize.core.color import srgb_to_lab
from vscolorize.core.footage import _RUN as RUN

core = vs.core

WIDTH, HEIGHT = 160, 96
PHOTOS = [
    srgb_to_lab(photo / 255.0)[..., 0].astype(np.float32)
    for photo in (skimage.data.astronaut(), skimage.data.coffee(), skimage.data.rocket())
]
SHOTS = [(0, 14), (14, 26), (26, 36)]  # three pans, cut at 14 and 26
HINTS = {
    "format": "vscolorize.hints",
    "version": 1,
    "keyframes": [
        {"frame": 3, "points": [{"x": 0.5, "y": 0.5, "ab": [50, 40], "radius": 0.06}]},
        {"frame": 10, "points": [{"x": 0.3, "y": 0.6, "ab": [-30, 40], "radius": 0.06}]},
        {"frame": 20, "strokes": [{"path": [[0.2, 0.2], [0.7, 0.6]], "ab": [10, -40]}]},
    ],
}


def film(reads: list[int] | None = None) -> vs.VideoNode:
    """Three shots of 160x96 gray pans; ``reads`` collects the frames made."""
    blank = core.std.BlankClip(width=WIDTH, height=HEIGHT, format=vs.GRAY8, length=SHOTS[-1][1])

    def fill(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        if reads is not None:
            reads.append(n)
        shot = next(i for i, (a, b) in enumerate(SHOTS) if a <= n < b)
        x = 20 + 2 * (n - SHOTS[shot][0])
        picture = np.clip(PHOTOS[shot][100 : 100 + HEIGHT, x : x + WIDTH] * 2.55, 0, 255)
        out = f.copy()
        np.copyto(np.asarray(out[0]), picture.astype(np.uint8))
        out.props["_Range"] = vs.ColorRange.RANGE_FULL
        return out

    return blank.std.ModifyFrame(clips=blank, selector=fill)


def frames(node: vs.VideoNode, order: list[int]) -> dict[int, np.ndarray]:
    return {n: np.stack([np.asarray(node.get_frame(n)[i]).copy() for i in range(3)]) for n in order}


def colorized(**kwargs: object) -> vs.VideoNode:
    return vscolorize.colorize(film(), HINTS, method="optimization", temporal=2, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def threads() -> Iterator[None]:
    before = core.num_threads
    yield
    core.num_threads = before


@pytest.fixture
def flow_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    measure = motion.optical_flow

    def counted(a: np.ndarray, b: np.ndarray, method: str = "dis") -> np.ndarray:
        calls.append(1)
        return measure(a, b, method)

    monkeypatch.setattr(motion, "optical_flow", counted)
    return calls


@pytest.mark.slow
def test_frames_are_the_same_bits_in_any_order_threads_and_store(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch, threads: None
) -> None:
    every = list(range(SHOTS[-1][1]))
    core.num_threads = 1
    reference = frames(colorized(), every)  # cold store, in order, one thread
    shuffled = every[:]
    random.Random(0).shuffle(shuffled)
    for count in (2, 4):
        core.num_threads = count
        warm = frames(colorized(), shuffled)
        assert all(np.array_equal(warm[n], reference[n]) for n in every), count
    # a cold store, frames backwards, several in flight at once
    monkeypatch.setenv("VSCOLORIZE_CACHE", str(private_cache / "cold"))
    core.num_threads = 4
    node = colorized()
    requests = [node.get_frame_async(n) for n in reversed(every)]
    for n, request in zip(reversed(every), requests, strict=True):
        got = np.stack([np.asarray(request.result()[i]) for i in range(3)])
        assert np.array_equal(got, reference[n]), n
    # a store filled ahead by analyze
    monkeypatch.setenv("VSCOLORIZE_CACHE", str(private_cache / "analyzed"))
    result = analyze(film())
    assert [(s.start, s.stop) for s in result.shots] == SHOTS
    assert result.measured == sum(b - a - 1 for a, b in SHOTS)
    analyzed = frames(colorized(), shuffled)
    assert all(np.array_equal(analyzed[n], reference[n]) for n in every)


def test_building_the_node_reads_no_frame() -> None:
    reads: list[int] = []
    vscolorize.colorize(film(reads), HINTS, method="optimization")
    assert reads == []


def test_a_frame_reads_only_its_span(threads: None) -> None:
    core.num_threads = 1
    reads: list[int] = []
    node = vscolorize.colorize(film(reads), HINTS, method="optimization", temporal=0)
    node.get_frame(30)  # the last shot has no keyframe: its hints need frames 26-35 only
    # (walking back, frames are read in short forward runs: a few before the cut)
    assert set(reads) <= set(range(SHOTS[2][0] - RUN, SHOTS[2][1]))
    reads.clear()
    node.get_frame(12)  # after keyframe 10, up to the cut at 14
    assert set(reads) <= set(range(10 - RUN, 15))


def test_editing_hints_measures_no_motion_again(flow_calls: list[int]) -> None:
    shot = range(*SHOTS[0])
    frames(colorized(), list(shot))
    assert flow_calls, "the first render measures motion"
    flow_calls.clear()
    edited = {
        **HINTS,
        "keyframes": [
            {
                **HINTS["keyframes"][0],
                "points": [  # type: ignore[dict-item]
                    {"x": 0.4, "y": 0.4, "ab": [0, 60], "radius": 0.05}
                ],
            },
            *HINTS["keyframes"][1:],
        ],
    }  # type: ignore[misc]
    node = vscolorize.colorize(film(), edited, method="optimization", temporal=2)
    again = frames(node, list(shot))
    assert flow_calls == []  # the hints changed, the pictures did not
    before = frames(colorized(), [5])
    assert not np.array_equal(again[5], before[5])  # and the edit shows


def test_analyze_reports_shots_of_a_range() -> None:
    result = analyze(film(), first=10, last=30)
    assert [(s.start, s.stop) for s in result.shots] == [(10, 14), (14, 26), (26, 31)]
    assert "shot 2: frames 14-25 (12 frames)" in result.summary()


def test_internal_errors_are_not_user_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    import vscolorize.core.pipeline as pipeline_module

    def broken(*args: object, **kwargs: object) -> np.ndarray:
        raise TypeError("a bug")

    node = vscolorize.colorize(film(), HINTS, method="optimization", temporal=0)
    monkeypatch.setattr(pipeline_module, "lab_planes_to_srgb", broken)
    with pytest.raises(vs.Error, match=r"vscolorize internal error: frame 4: TypeError: a bug"):
        node.get_frame(4)


def test_output_frames_are_tagged_srgb() -> None:
    frame = colorized().get_frame(0)
    assert frame.props["_Primaries"] == vs.ColorPrimaries.PRIMARIES_BT709
    assert frame.props["_Transfer"] == vs.TransferCharacteristics.TRANSFER_IEC_61966_2_1
    assert frame.props["_Matrix"] == vs.MatrixCoefficients.MATRIX_RGB
