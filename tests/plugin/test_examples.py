"""Every example script renders through vspipe to a valid y4m stream, and nothing else reaches
stdout (vspipe owns it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import HINTS

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.vpy"))
VSPIPE = Path(sys.executable).parent / "vspipe"
# bytes per pixel, summed over planes, for the y4m colorspaces VapourSynth writes
_PIXEL_BYTES = {
    "C444p10": 6,
    "C444p16": 6,
    "C444": 3,
    "C420jpeg": 1.5,
    "C420": 1.5,
    "C420p10": 3,
    "Cmono": 1,
}


def vspipe(script: Path, *args: str) -> bytes:
    result = subprocess.run(
        [str(VSPIPE), "-c", "y4m", *args, str(script), "-"], capture_output=True, timeout=600
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


def check_y4m(stream: bytes) -> tuple[int, int, int]:
    """(width, height, frames) of a y4m stream that holds nothing but its header and frames."""
    header, _, _ = stream.partition(b"\n")
    fields = header.decode().split()
    assert fields[0] == "YUV4MPEG2"
    values = {f[0]: f[1:] for f in fields[1:]}
    width, height = int(values["W"]), int(values["H"])
    frame = int(width * height * _PIXEL_BYTES["C" + values["C"]]) + len(b"FRAME\n")
    body = len(stream) - len(header) - 1
    assert body % frame == 0, "stdout holds more than the video"
    frames = body // frame
    assert all(stream[len(header) + 1 + i * frame :].startswith(b"FRAME") for i in range(frames))
    return width, height, frames


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_renders_to_y4m(script: Path) -> None:
    width, height, frames = check_y4m(vspipe(script))
    assert width > 0 and height > 0 and frames > 1


def test_colorize_example_takes_a_film_and_hints(film: Path, tmp_path: Path) -> None:
    hints = tmp_path / "film.hints.json"
    hints.write_text(json.dumps(HINTS))
    stream = vspipe(
        EXAMPLES[0].with_name("colorize.vpy"),
        "-a",
        f"src={film}",
        "-a",
        f"hints={hints}",
        "-a",
        "method=optimization",
    )
    assert check_y4m(stream) == (160, 96, 12)
