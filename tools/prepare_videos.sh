#!/bin/sh
# Real color video for the propagation benchmark (run by hand, once): opencv-doc's vtest.avi
# (768x576, people walking) into data/video/. Never used for training or tuning.
set -eu
out="${1:-data/video}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download opencv-doc >/dev/null && dpkg -x opencv-doc_*.deb x)
mkdir -p "$out"
cp "$work/x/usr/share/doc/opencv-doc/examples/data/vtest.avi" "$out/"
echo "wrote $out/vtest.avi"
