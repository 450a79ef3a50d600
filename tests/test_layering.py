"""The layering of DESIGN.md: core imports neither VapourSynth nor Qt; only ui/ imports Qt; only
plugin/ imports VapourSynth; ui/ imports no module of plugin/ (the plugin opens the paint window,
never the other way). Checked in the source (every import statement) and at run time."""

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


# the packages of vscolorize that are not plugin/ (whose modules are vscolorize.<name>)
NOT_PLUGIN = {"core", "ui"}


def plugin_imports(source: str, package: str = "vscolorize.ui") -> set[str]:
    """The modules of plugin/ that ``source`` (a module of ``package``) imports: ``vscolorize``
    itself or ``vscolorize.X`` for any X but core and ui, however the import is spelled
    (absolute, relative, or a constant given to ``importlib.import_module``)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            # from vscolorize import paint: a name of the plugin package, or a module of it
            names = [f"{module}.{alias.name}" if module == "vscolorize" else module for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "vscolorize" and (len(parts) == 1 or parts[1] not in NOT_PLUGIN):
                found.add(name)
    return found


def test_ui_imports_no_plugin_module() -> None:
    files = sorted((ROOT / "ui").rglob("*.py"))
    assert files
    offenders = {
        f"{path.relative_to(ROOT)}: {name}" for path in files for name in plugin_imports(path.read_text())
    }
    assert not offenders


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import vscolorize.node", {"vscolorize.node"}),
        ("from vscolorize.sources import ClipSource", {"vscolorize.sources"}),
        ("from vscolorize import paint", {"vscolorize.paint"}),
        ("import vscolorize", {"vscolorize"}),
        ("from .. import sources", {"vscolorize.sources"}),
        ("from ..node import colorize", {"vscolorize.node"}),
        ("importlib.import_module('vscolorize.render')", {"vscolorize.render"}),
        ("from vscolorize.core.hints import Hints", set()),
        ("from vscolorize import core", set()),
        ("import vscolorize.ui.window", set()),
        ("from .window import PaintWindow", set()),
        ("from . import jobs", set()),
    ],
)
def test_the_plugin_import_check_sees_every_spelling(source: str, found: set[str]) -> None:
    assert plugin_imports(source) == found
