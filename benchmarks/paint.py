"""How fast the paint window's preview follows a hint change at 1280x720 (run by hand, offscreen).

For each colorizer: a point is moved (a draft preview, small, as while dragging) and then released
(the full-quality preview); prints the time from the change to the preview on screen, median of
10, and the colorizer's own share; and how long the model's color suggestions for a click take.

    QT_QPA_PLATFORM=offscreen python benchmarks/paint.py [--photo PICTURE] [--model auto|FILE]
        [--methods optimization model] [--size 1280x720] [--carry-shot 3000 [--carry-at 10 100 1000]]

With ``--carry-shot N``, also: a new window on film.py's film of one N-frame shot, a keyframe
painted (film.py's 20 points), then a jump to the frame ``d`` frames after it (each d of
``--carry-at``): the time until its carried hints and their preview are on screen, on an empty
motion store and again in a new window on the store that filled.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import cv2
import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6 import QtWidgets
from record import recorded

from vscolorize.core.hints import Color
from vscolorize.core.images import image_lightness, read_image
from vscolorize.core.pipeline import Settings
from vscolorize.core.sources import LightnessSource
from vscolorize.ui.jobs import suggest_colors
from vscolorize.ui.window import PaintWindow


class Still(LightnessSource):
    """One frame, 1280x720 unless told."""

    count = 1

    def __init__(self, photo: Path, size: tuple[int, int] = (1280, 720)) -> None:
        rgb = cv2.resize(read_image(photo), size, interpolation=cv2.INTER_AREA)
        self._lightness = image_lightness(rgb)
        self.height, self.width = self._lightness.shape

    def lightness(self, n: int) -> np.ndarray:
        return self._lightness


def wait_shown(window: PaintWindow, before: int) -> float:
    """Seconds until a preview newer than ``before`` results has been shown."""
    start = time.perf_counter()
    while len(window.preview_seconds) <= before:
        QtWidgets.QApplication.processEvents()
        time.sleep(0.001)
    shown = time.perf_counter() - start
    window.wait_for_previews()
    return shown


def carried_previews(shot: int, distances: list[int], size: tuple[int, int], model: str) -> None:
    """See the module's doc (``--carry-shot``)."""
    import tempfile

    from film import make_clip

    from vscolorize.core.propagation import HintCarrier
    from vscolorize.sources import ClipSource

    clip, _, hints = make_clip(shot, size, (shot, shot))
    (keyframe,) = hints["keyframes"]
    key, (width, height) = keyframe["frame"], size
    for distance in distances:
        os.environ["VSCOLORIZE_CACHE"] = tempfile.mkdtemp(prefix="paint-carry-")
        times = []
        for _store in ("empty", "warm"):
            source = ClipSource(clip)
            window = PaintWindow(
                source, None, settings=Settings(model=model), recover="no", propagated=HintCarrier(source)
            )
            window.show()
            window.go_to(key)
            window.wait_for_previews()
            for point in keyframe["points"]:
                window.doc.add_point(
                    key, point["x"] * width, point["y"] * height, Color(ab=(point["ab"][0], point["ab"][1]))
                )
            window.changed()
            began = time.perf_counter()
            window.go_to(key + distance)  # as soon as the keyframe is painted
            while window.carried_pending():
                QtWidgets.QApplication.processEvents()
                time.sleep(0.005)
            arrived = time.perf_counter() - began
            window.wait_for_previews()
            times.append((arrived, time.perf_counter() - began))
            window.close()
        (cold, cold_shown), (warm, warm_shown) = times
        print(
            f"carried hints {distance} frames after the keyframe of a {shot}-frame shot: in {cold:.2f} s, "
            f"preview on screen {cold_shown:.2f} s (empty motion store); {warm:.2f} s, {warm_shown:.2f} s (warm)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photo", type=Path)
    parser.add_argument("--model", default="auto")
    parser.add_argument("--methods", nargs="+", default=["optimization", "model"])
    parser.add_argument("--size", default="1280x720", help="the frame's size, WxH")
    parser.add_argument(
        "--record", type=Path, help="also put the results at the top of this file (docs/results/)"
    )
    parser.add_argument("--carry-shot", type=int, default=0, help="see the doc (0: skip)")
    parser.add_argument("--carry-at", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()
    with recorded(args.record):
        width, height = map(int, args.size.split("x"))
        photo = args.photo or sorted(Path("data/heldout").glob("*.png"))[0]
        app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
        source = Still(photo, (width, height))
        for method in args.methods:
            model = args.model if method == "model" else "auto"
            window = PaintWindow(source, None, settings=Settings(method=method, model=model), recover="no")
            window.show()
            window._rest.setInterval(10**6)  # the drafts' follow-up full preview is timed on its own
            rng = np.random.default_rng(0)
            for _ in range(20):
                window.doc.add_point(0, *rng.uniform((0, 0), (width, height)), Color(ab=(30.0, 20.0)))
            window.changed()
            window.wait_for_previews()
            drafts, fulls = [], []
            for i in range(10):
                before = len(window.preview_seconds)
                window.doc.move_point(0, 0, (100 + 10 * i) % width, 100 % height)
                window.changed(draft=True)
                drafts.append((wait_shown(window, before), window.preview_seconds[-1][1]))
                before = len(window.preview_seconds)
                window.changed()
                fulls.append((wait_shown(window, before), window.preview_seconds[-1][1]))
            for name, runs in (("while dragging (draft)", drafts), ("after release (full)", fulls)):
                shown, computed = np.median(np.array(runs), axis=0) * 1000
                print(
                    f"{method:12s} {name:24s} preview on screen {shown:6.0f} ms (colorizer {computed:4.0f} ms)"
                )
            suggester = window.jobs.suggester
            if suggester is not None and method == "model":
                times, keyframe = [], window.doc.hints.keyframe(0)
                for i in range(10):
                    start = time.perf_counter()
                    suggest_colors(
                        suggester, source.lightness(0), keyframe, (100 + 50 * i) % width, 300 % height
                    )
                    times.append(time.perf_counter() - start)
                print(f"{'':12s} {'color suggestions':24s} {np.median(times) * 1000:6.0f} ms per click")
            window.close()
        if args.carry_shot:
            carried_previews(args.carry_shot, args.carry_at, (width, height), args.model)
        app.quit()


if __name__ == "__main__":
    main()
