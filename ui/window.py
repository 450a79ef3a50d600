"""The paint window: a keyframe scribble tool with a live colorized preview (PySide6 + pyqtgraph).

Left: the gray frame, where hints are painted (their colors shown over it as the engine sees
them); right: the colorized preview, zoomed and panned together (wheel, middle drag). Tools: point
(click to place, drag to move, right-click to delete), brush (strokes), eraser. With the point
tool a click on a point or stroke (or on its row in the hint list) selects it: a color chosen then
(gamut plane, color dialog, typed hex or L*a*b*, eyedropper, swatch, suggestion) recolors it, the
size box resizes it, Delete removes it, Escape lets it go. Editing a frame that is not a keyframe
makes it one that starts from the hints carried there: a correction adds to them. Under the views,
a wipe between the result and the gray frame (or the original, when the source has color), and a
switch for the hint overlay (H). The preview is computed off the UI thread: small (short side 96)
while the mouse moves, at full quality once it rests. Work is autosaved every few seconds beside
the hints file and offered back after a crash.

This module only puts the panels together and wires them: the edits are ``controller.py``'s (no
Qt), the panels ``panels.py``'s, the background work ``jobs.py``'s.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from vscolorize.core.hints import Color, Hints, Keyframe, load_hints
from vscolorize.core.pipeline import Settings
from vscolorize.core.propagation import HintCarrier
from vscolorize.core.sources import FrameSource, has_color, original_frame

from .canvas import Views
from .controller import PaintController, Tool
from .document import HintDocument
from .guidance import Guidance
from .jobs import Jobs
from .lifetimes import LifeEditor
from .panels import ColorPanel, Navigation, ToolRow, ask_path, offer_recovery
from .widgets import color_to_qcolor, hint_rows, qcolor_to_color

__all__ = ["AUTOSAVE_MS", "PREVIEW_REST_MS", "PaintWindow"]

log = logging.getLogger(__name__)

AUTOSAVE_MS = 5000
PREVIEW_REST_MS = 120  # full-quality preview once the mouse has rested this long
CARRYING_MS = 250  # how often the notice says how far carrying hints to the frame has come
_START_L = 50.0  # the gamut plane's lightness until a pixel of the frame is clicked


class PaintWindow(QtWidgets.QMainWindow):
    """The paint window on ``source`` with hints from (and saved to) ``hints_path``.

    The edits are :attr:`controller`'s (a :class:`~.controller.PaintController` around
    :attr:`doc`), the background work :attr:`jobs`'; the window builds the panels, turns their
    signals into the controller's calls and redraws when it reports a change. The panels' widgets
    used most are also the window's attributes (``canvas``, ``size_spin``, ``hint_list``, ...).

    Args:
        settings: the preview's colorizer, as the render's (so that it shows what the render will).
        recover: autosaved work found for ``hints_path``: ``"ask"`` (a dialog), ``"yes"``, ``"no"``.
        propagated: hints carried from the keyframes to other frames (shown faintly, tracked
            off the UI thread, on demand, shot by shot), or None.

    Raises:
        DeviceError, ModelUnavailableError: the settings' device or model is not there (``paint:``).

    Attributes:
        preview_shown: emitted with (frame, draft) each time a new preview is on screen.
    """

    preview_shown = QtCore.Signal(int, bool)

    def __init__(
        self,
        source: FrameSource,
        hints_path: str | os.PathLike[str] | None = None,
        *,
        settings: Settings | None = None,
        recover: str = "ask",
        propagated: HintCarrier | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.jobs = Jobs(self, settings if settings is not None else Settings(), propagated)
        self.preview_seconds = self.jobs.preview_seconds  # (draft, seconds) of each, the newest last
        self.jobs.previewed.connect(self._show_preview)
        self.jobs.suggested.connect(self._show_suggestions)
        self.jobs.tracked.connect(self._show_tracked)
        path = Path(hints_path) if hints_path is not None else None
        hints = load_hints(path) if path is not None and path.is_file() else None
        self.doc = HintDocument(source.width, source.height, hints, path)
        shot = propagated.shot if propagated is not None else None  # reads the shot the first time
        self.controller = PaintController(self.doc, source.count, carrying=shot is not None, shot=shot)
        self.controller.on_change = lambda draft: self.changed(draft=draft)
        self.controller.on_message = self.say
        self.suggestions: list[Color] = []
        self._lightness_cache: tuple[int, np.ndarray] | None = None
        self._build()
        offer_recovery(self, self.doc, recover)
        self._autosave = self._timer(AUTOSAVE_MS, self.doc.autosave)
        self._autosave.start()
        self._rest = self._timer(PREVIEW_REST_MS, lambda: self.request_preview(draft=False))
        self._rest.setSingleShot(True)
        self._carrying = self._timer(CARRYING_MS, self._show_carrying)
        self.go_to(0)

    def _timer(self, ms: int, call: Callable[[], object]) -> QtCore.QTimer:
        timer = QtCore.QTimer(self)
        timer.setInterval(ms)
        timer.timeout.connect(call)
        return timer

    # --- the controller's state, as the window's ------------------------------------------

    @property
    def frame(self) -> int:
        return self.controller.frame

    @property
    def color(self) -> Color:
        return self.controller.color

    @property
    def recent(self) -> list[Color]:
        return self.controller.recent

    @property
    def selected(self) -> tuple[str, int] | None:
        """The hint that colors and sizes apply to: ("point" | "stroke", index) on the frame."""
        return self.controller.selected

    @property
    def width_fraction(self) -> float:
        """The next hint's size (a point's diameter, a stroke's width; fractions of the shorter
        side), and the selected hint's when the artist changes it in the size box."""
        return self.controller.size

    @width_fraction.setter
    def width_fraction(self, size: float) -> None:
        self.controller.size = size

    # --- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.setWindowTitle(f"vscolorize paint: {self.doc.path or 'untitled'}")
        c = self.controller
        original = partial(original_frame, self.source) if has_color(self.source) else None
        view = self.view = Views(self.source.width, self.source.height, original)
        view.canvas.clicked.connect(self.click)
        view.canvas.right_clicked.connect(c.right_click)
        view.canvas.drag_started.connect(c.drag_start)
        view.canvas.dragged.connect(c.drag_move)
        view.canvas.drag_ended.connect(c.drag_end)
        view.color_picked.connect(self.set_color)
        tools = self.tools = ToolRow(c.tool, c.size, suggesting=self.jobs.suggester is not None)
        tools.tool_chosen.connect(self.set_tool)
        tools.size_chosen.connect(c.set_size)
        tools.color_asked.connect(self.pick_color)
        tools.reference_asked.connect(lambda: self.open_reference())
        side = self.side = ColorPanel()
        side.color_chosen.connect(self.set_color)
        side.color_entry.refused.connect(self.say)
        side.hint_list.chosen.connect(self.select)
        nav = self.navigation = Navigation(self.source.count)
        nav.frame_chosen.connect(self.go_to)
        nav.keyframe_toggled.connect(c.set_keyframe)
        lives = self.lifetimes = LifeEditor(c)
        life_row = self.life_row = nav.life_row
        life_row.start_here.connect(lives.start_here)
        life_row.end_here.connect(lives.end_here)
        life_row.mute_asked.connect(self.ask_mute)
        life_row.unmute.connect(lives.unmute)
        life_row.carry_chosen.connect(lives.carry)
        life_row.always.connect(lives.always)
        self.life_bars = nav.life_bars
        # the widgets scripts and tests reach, by their names
        self.canvas, self.preview_item, self.notice = view.canvas, view.preview_item, view.notice
        self.compare = view.compare
        self.size_spin, self.palette_row, self.status = tools.size_spin, tools.palette_row, tools.status
        self.gamut, self.color_entry, self.hint_list = side.gamut, side.color_entry, side.hint_list
        self.bar, self.keyframe_box = nav.bar, nav.keyframe_box
        self.guidance = Guidance(self)
        tools.where_next.toggled.connect(self.guidance.show_places)
        nav.suggest_button.clicked.connect(self.guidance.find_keyframes)
        middle = QtWidgets.QHBoxLayout()
        middle.addWidget(view, 1)
        middle.addWidget(side)
        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        layout.addWidget(tools)
        layout.addLayout(middle, 1)
        layout.addWidget(self.compare)
        layout.addWidget(nav)
        self.setCentralWidget(central)
        self.statusBar()  # messages: why an edit was refused, how to undo a removal
        self.tools.show_palette(self.recent, self.set_color)
        self.tools.show_color(self.color)
        self.side.show_color(self.color, _START_L)  # a plane to pick from before the first click
        self._keys = self._key_map()
        self.resize(1400, 700)

    def _key_map(self) -> dict[QtGui.QKeySequence, Callable[[], object]]:
        c = self.controller
        actions: dict[str, Callable[[], object]] = {
            "Ctrl+Z": c.undo,
            "Ctrl+Shift+Z": c.redo,
            "Ctrl+S": self.save,
            "Right": lambda: self.go_to(self.frame + 1),
            "Left": lambda: self.go_to(self.frame - 1),
            "PgDown": lambda: self._jump(c.next_keyframe(1)),
            "PgUp": lambda: self._jump(c.next_keyframe(-1)),
            "Shift+PgDown": lambda: self._jump(c.next_cut(1)),
            "Shift+PgUp": lambda: self._jump(c.next_cut(-1)),
            "K": self.keyframe_box.toggle,
            "H": self.compare.overlay.toggle,
            "P": lambda: self.set_tool(Tool.POINT),
            "B": lambda: self.set_tool(Tool.BRUSH),
            "E": lambda: self.set_tool(Tool.ERASER),
            "Delete": c.delete_selected,
            "[": self.lifetimes.start_here,
            "]": self.lifetimes.end_here,
            "M": self.ask_mute,
            "N": self.tools.where_next.toggle,
            "J": lambda: self._jump(self.guidance.next_keyframe(1)),
            "Shift+J": lambda: self._jump(self.guidance.next_keyframe(-1)),
            "Escape": lambda: self.select(None),
        }
        return {QtGui.QKeySequence(keys): action for keys, action in actions.items()}

    # --- frames -----------------------------------------------------------------------------

    def lightness(self, n: int) -> np.ndarray:
        if self._lightness_cache is None or self._lightness_cache[0] != n:
            self._lightness_cache = (n, self.source.lightness(n))
        return self._lightness_cache[1]

    def go_to(self, n: int) -> None:
        n = self.controller.go_to(n)
        self.navigation.show_frame(n)
        self.view.show_frame(n, self.lightness(n))
        self.refresh()

    def _jump(self, target: int | None) -> None:
        if target is not None:
            self.go_to(target)

    # --- hints carried to the frame ---------------------------------------------------------

    def shown_keyframe(self) -> tuple[Keyframe | None, bool]:
        """The hints of the current frame and whether they are the artist's own (else carried
        there from keyframes, when propagation is on; None until they are, meanwhile tracked)."""
        if self.controller.carried_pending():
            self.jobs.track(self.doc.hints, self.frame)  # shown when ready; the status says so
        return self.controller.shown_keyframe()

    def carried_pending(self) -> bool:
        """Whether the current frame's carried hints are still being tracked."""
        return self.controller.carried_pending()

    def _show_tracked(self, source: Hints, frame: int, keyframe: Keyframe | None) -> None:
        if self.controller.carried_arrived(source, frame, keyframe) and frame == self.frame:
            self.refresh()
        elif self.controller.carried_pending():  # edited or moved on meanwhile: again, as now
            self.jobs.track(self.doc.hints, self.frame)

    def _show_carrying(self) -> None:
        """The notice, with how far carrying the hints to the frame has come while it goes on
        (looked at every :data:`CARRYING_MS` until they arrive)."""
        carrier, pending = self.jobs.carrier, self.controller.carried_pending()
        progress = carrier.progress(self.doc.hints, self.frame) if carrier is not None and pending else None
        self.view.show_notice(self.controller.notice(progress))
        if pending and not self._carrying.isActive():
            self._carrying.start()
        elif not pending:
            self._carrying.stop()

    # --- showing the state ------------------------------------------------------------------

    def say(self, message: str) -> None:
        """A line in the status bar for a few seconds."""
        self.statusBar().showMessage(message, 10_000)

    def refresh(self) -> None:
        """Show the state: hints, markers, list, keyframe box and bar, status; a new preview."""
        self._redraw_hints_only()
        self.navigation.show_keyframes(self.doc.hints.frames, self.frame, self.controller.is_keyframe())
        self.status.setText(self.controller.status())
        self._show_carrying()
        self.tools.show_palette(self.recent, self.set_color)
        self.request_preview(draft=False)
        self.guidance.update()

    def _redraw_hints_only(self) -> None:
        """The hints over the frame, the hint list and the size box."""
        keyframe, own = self.shown_keyframe()
        self.view.layer.draw(keyframe, self.selected, self.lightness(self.frame), 230 if own else 120)
        rows = [(k, i, color_to_qcolor(color), f, s) for k, i, color, f, s in hint_rows(keyframe, own)]
        self.hint_list.show_hints(rows, self.selected)
        self.size_spin.show_size(self.controller.selected_size())
        self.life_bars.set_bars(self.lifetimes.bars())
        self.life_row.show_life(self.lifetimes.life())

    def changed(self, *, draft: bool = False) -> None:
        """After an edit (or a new selection): redraw, and a preview (a draft while the mouse
        moves)."""
        self.controller.forget_stale_carried()
        if not draft:
            self.refresh()
            return
        self._redraw_hints_only()
        self.request_preview(draft=True)
        self._rest.start()

    # --- edits: the canvas, the keys and the panels call these ------------------------------

    def click(self, x: float, y: float) -> None:
        """A left click on pixel (x, y) of the frame with the current tool (see
        :meth:`PaintController.click`); the gamut plane and the suggestions follow it."""
        x, y = self.guidance.snap(x, y)  # a click on a "where next" ring places the point there
        self.look_at(x, y)
        if self.controller.click(x, y):
            self.jobs.suggest(self.lightness(self.frame), self.doc.hints.keyframe(self.frame), x, y)

    def select(self, hint: tuple[str, int] | None) -> None:
        """Make ``hint`` (see :meth:`PaintController.hint_at`) the one colors and sizes apply
        to, or select nothing; the canvas, the hint list and the size box show it."""
        self.controller.select(hint)
        self._redraw_hints_only()

    def ask_mute(self) -> None:
        """Mute the selected hint from the frame shown to a frame a dialog asks for."""
        if self.lifetimes.source() is None:
            self.say("select a hint first (click it, or its row in the list)")
            return
        asked, last_frame = f"mute from frame {self.frame} to frame:", self.source.count - 1
        last, ok = QtWidgets.QInputDialog.getInt(self, "Mute the hint", asked, self.frame, 0, last_frame)
        if ok:
            self.lifetimes.mute_to(last)

    def set_tool(self, tool: str) -> None:
        self.controller.set_tool(tool)
        self.tools.show_tool(tool)

    def save(self) -> Path | None:
        """Save the hints to their file (a dialog asks where when they have none yet)."""
        path = self.doc.path or ask_path(self, "Save hints", save="hints.hints.json")
        if path is None:
            return None
        saved = self.doc.save(path)
        self.setWindowTitle(f"vscolorize paint: {saved}")
        self.refresh()
        return saved

    # --- colors -----------------------------------------------------------------------------

    def pick_color(self) -> None:
        chosen = QtWidgets.QColorDialog.getColor(color_to_qcolor(self.color), self, "Hint color")
        if chosen.isValid():
            self.set_color(qcolor_to_color(chosen))

    def set_color(self, color: Color) -> None:
        """The color of the next hint, and of the selected one (an edit that undo takes back)."""
        self.controller.set_color(color)
        self._show_color()

    def _show_color(self) -> None:
        self.tools.show_color(self.color)
        self.side.show_color(self.color)

    def look_at(self, x: float, y: float) -> None:
        """The gamut plane shows the colors possible at the lightness under pixel (x, y)."""
        lightness = self.lightness(self.frame)
        row = min(max(int(y), 0), lightness.shape[0] - 1)
        col = min(max(int(x), 0), lightness.shape[1] - 1)
        self.side.show_color(self.color, float(lightness[row, col]))

    def pick_from_preview(self, x: float, y: float) -> None:
        """The eyedropper: the preview's color under frame pixel (x, y) becomes the current one
        (the result's, wherever the wipe is)."""
        self.view.pick_result(x, y)

    def open_reference(self, path: str | os.PathLike[str] | None = None) -> bool:
        """Show a color picture (a reference photo, a costume still) beside the frame; a click on
        it picks its color. Without ``path``, a file dialog asks."""
        path = path if path is not None else ask_path(self, "Reference picture")
        return path is not None and self.view.open_reference(path)

    def pick_from_reference(self, x: float, y: float) -> None:
        """The eyedropper on the reference picture, at its pixel (x, y)."""
        self.view.pick_reference(x, y)

    def _show_suggestions(self, colors: list[Color]) -> None:
        self.suggestions = colors
        self.tools.show_suggestions(colors, self._take_suggestion)

    def _take_suggestion(self, color: Color) -> None:
        """A suggestion recolors the selected hint, else the point last placed (and becomes the
        current color)."""
        self.controller.take_suggestion(color)
        self._show_color()

    # --- preview ----------------------------------------------------------------------------

    def request_preview(self, *, draft: bool) -> None:
        """Colorize the current frame off the UI thread; only the newest result is shown."""
        keyframe, _ = self.shown_keyframe()
        painted = keyframe.at(self.frame) if keyframe is not None else None  # as the render paints
        self.jobs.preview(self.frame, painted, self.lightness(self.frame), draft=draft)

    def _show_preview(self, frame: int, draft: bool, rgb: np.ndarray) -> None:
        if frame == self.frame:
            self.view.show_preview(rgb, draft=draft)
            self.preview_shown.emit(frame, draft)

    def wait_for_previews(self, timeout_ms: int = 30_000) -> None:
        """Block until no preview, suggestion or carrying is under way (for tests and scripts)."""
        self.jobs.wait(timeout_ms)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        """The window's keys, whichever of its widgets let the key through (the slider and the
        frame number keep their own arrows and digits)."""
        action = self._keys.get(QtGui.QKeySequence(event.keyCombination()))
        if action is None:
            super().keyPressEvent(event)
            return
        event.accept()
        action()

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        self.view.setFocus()  # keys (arrows, K, Ctrl+Z, ...) work from the start

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self._autosave.stop()
        self.doc.autosave()
        self.jobs.stop()
        super().closeEvent(event)
