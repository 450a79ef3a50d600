"""The README's screenshot of the paint window (run by hand, on a display or under Xvfb):

    xvfb-run -s "-screen 0 1600x900x24" python tools/screenshot_paint.py [docs/paint-window.png]

It opens the window on the demo clip with the demo hints on frame 0, waits for the preview and
grabs the screen where the window is.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from vscolorize.core.hints import save_hints
from vscolorize.core.pipeline import Settings
from vscolorize.demo import sample_clip
from vscolorize.sources import ClipSource
from vscolorize.ui.window import PaintWindow


def main() -> None:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/paint-window.png")
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    gray, _, hints = sample_clip()
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "astronaut.hints.json"
        save_hints(hints, path)
        window = PaintWindow(ClipSource(gray), path, settings=Settings(method="optimization"), recover="no")
        window.resize(1500, 640)
        window.show()
        window.look_at(150, 235)  # on the suit
        for _ in range(20):
            app.processEvents()
            QtCore.QThread.msleep(50)
        window.wait_for_previews()
        app.processEvents()
        QtCore.QThread.msleep(300)
        app.processEvents()
        screen = window.screen() or app.primaryScreen()
        shot = screen.grabWindow(0, window.x(), window.y(), window.width(), window.height())
        if shot.isNull() or shot.width() == 0:
            shot = window.grab()
        target.parent.mkdir(parents=True, exist_ok=True)
        shot.save(str(target))
        print(f"wrote {target} ({shot.width()}x{shot.height()})")
        window.close()


if __name__ == "__main__":
    main()
