"""The layering of DESIGN.md: core imports neither VapourSynth nor Qt; only ui/ imports Qt; only
plugin/ imports VapourSynth. Checked in the source (every import statement) and at run time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QT = {"PySide6", "PyQt5", "PyQt6", "pyqtgraph", "shiboken6"}
VAPOURSYNTH = {"vapoursynth", "vsscript"}
FORBIDDEN = {"core": QT | VAPOURSYNTH, "ui": VAPOURSYNTH, "plugin": QT}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_source_imports_respect_layers(folder: str) -> None:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, f"no Python files under {folder}/"
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in files
        for name in imported_modules(path) & FORBIDDEN[folder]
    }
    assert not offenders


def test_core_never_reaches_plugin_or_ui() -> None:
    for path in sorted((ROOT / "core").rglob("*.py")):
        text = path.read_text()
        assert "vscolorize.ui" not in text and "vscolorize.cli" not in text, path


def test_importing_core_loads_neither_vapoursynth_nor_qt() -> None:
    code = (
        "import sys, vscolorize.core, vscolorize.core.pipeline, vscolorize.core.optimization;"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {sorted(QT | VAPOURSYNTH)!r});"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
