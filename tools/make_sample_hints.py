"""Make the demo's bundled hints: one point per large region of a sample picture, colored from it.

The demo shows what an artist's sparse hints do, so the hints are what an artist would paint: a
point near the middle of each big region (Felzenszwalb segments of the lightness), with the
region's median a*b*. Run from the repository root:

    python tools/make_sample_hints.py astronaut plugin/data/astronaut.hints.json
"""

from __future__ import annotations

import sys

import numpy as np
import skimage.data
from skimage.segmentation import felzenszwalb

from vscolorize.core.color import srgb_to_lab
from vscolorize.core.hints import Color, Hints, Keyframe, Point, save_hints

REGIONS = 40
RADIUS = 0.008


def sample_hints(rgb: np.ndarray, regions: int = REGIONS) -> Hints:
    lab = srgb_to_lab(rgb.astype(np.float32) / 255)
    height, width = lab.shape[:2]
    labels = felzenszwalb(lab[..., 0] / 100, scale=300, sigma=0.8, min_size=200)
    sizes = np.bincount(labels.ravel())
    points = []
    for label in np.argsort(sizes)[::-1][:regions]:
        rows, cols = np.nonzero(labels == label)
        # the region pixel nearest its centroid, so that concave regions still get a point inside
        k = np.argmin((rows - rows.mean()) ** 2 + (cols - cols.mean()) ** 2)
        a, b = np.median(lab[rows, cols, 1:], axis=0)
        points.append(
            Point(
                x=round((cols[k] + 0.5) / width, 4),
                y=round((rows[k] + 0.5) / height, 4),
                color=Color.from_ab(round(float(a), 1), round(float(b), 1)),
                radius=RADIUS,
            )
        )
    return Hints(keyframes=(Keyframe(frame=0, points=tuple(points)),))


if __name__ == "__main__":
    name, out = sys.argv[1], sys.argv[2]
    save_hints(sample_hints(getattr(skimage.data, name)()), out)
