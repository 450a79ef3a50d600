#!/bin/sh
# Print the path of a Python >= 3.12: PATH first, then pyenv's installed versions.
# Exits 1 with one line on stderr saying how to get one when there is none.
ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; }
for name in python3.12 python3.13 python3.14 python3 python; do
    p=$(command -v "$name" 2>/dev/null) || continue
    # pyenv shims answer for versions that are installed but not selected: skip them here
    case "$p" in */shims/*) continue ;; esac
    if ok "$p"; then echo "$p"; exit 0; fi
done
root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for p in $(ls -d "$root"/versions/3.* 2>/dev/null | sort -t. -k2,2n -k3,3n); do
    if [ -x "$p/bin/python3" ] && ok "$p/bin/python3"; then echo "$p/bin/python3"; exit 0; fi
done
echo "vscolorize needs Python >= 3.12: install it (e.g. 'pyenv install 3.12' or your system's python3.12 package) and run make again" >&2
exit 1
