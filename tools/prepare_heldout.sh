#!/bin/sh
# Held-out photos for benchmarks: Ubuntu Touch wallpapers (lomiri-wallpapers-16.04 and -20.04),
# packages never used for training or tuning, cropped to 854x480 PNGs in data/heldout/.
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 >/dev/null)
for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/x"; done
mkdir -p data/heldout
.venv/bin/python - "$work/x" <<'PY'
import pathlib, sys
import cv2
for f in sorted(pathlib.Path(sys.argv[1]).rglob("*.jpg")):
    im = cv2.imread(str(f))
    h, w = im.shape[:2]
    s = max(854 / w, 480 / h)
    im = cv2.resize(im, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    h, w = im.shape[:2]
    y, x = (h - 480) // 2, (w - 854) // 2
    cv2.imwrite(f"data/heldout/{f.stem}.png", im[y : y + 480, x : x + 854])
PY
ls data/heldout | wc -l
