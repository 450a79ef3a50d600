"""The paint window: a keyframe scribble tool with a live colorized preview (PySide6 + pyqtgraph).

Left: the gray frame, where hints are painted (their colors shown over it as the engine sees
them); right: the colorized preview, zoomed and panned together (wheel, middle drag). Tools: point
(click to place, drag to move, right-click to delete), brush (strokes), eraser. With the point
tool a click on a point or stroke (or on its row in the hint list) selects it: a color chosen then
(gamut plane, color dialog, typed hex or L*a*b*, eyedropper, swatch, suggestion) recolors it, the
size box resizes it, Delete removes it, Escape lets it go. Editing a frame that is not a keyframe
makes it one that starts from the hints carried there: a correction adds to them. Under the views,
a wipe between the result and the gray frame (or the original, when the source has color), and a
switch for the hint overlay (H). The preview is
computed off the UI thread: small (short side 96) while the mouse moves, at full quality once it
rests. Work is autosaved every few seconds beside the hints file and offered back after a crash.

This module only builds the widgets and wires them: the edits are ``controller.py``'s (no Qt), the
picture views and markers ``canvas.py``'s, the background work ``preview.py``'s, the small
widgets ``widgets.py``'s.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from vscolorize.core.color import srgb_to_lab
from vscolorize.core.engine import DEFAULT_METHOD, FrameColorizer
from vscolorize.core.errors import ImageError
from vscolorize.core.hints import Color, Hints, Keyframe, load_hints
from vscolorize.core.images import read_image
from vscolorize.core.inference import installed_models
from vscolorize.core.propagation import HintCarrier

from .canvas import HintCanvas, HintLayer, PictureView, hint_overlay
from .controller import PaintController, Tool
from .document import HintDocument
from .preview import DRAFT_SHORT_SIDE, PreviewJob, PreviewTask, WorkSignals, suggest_colors
from .sources import FrameSource, has_color, original_frame
from .widgets import (
    ColorEntry,
    CompareBar,
    GamutPlane,
    HintList,
    KeyframeBar,
    SizeControl,
    color_to_qcolor,
    fill_swatches,
    gamut_plane,
    hint_rows,
    qcolor_to_color,
    wipe,
)

# the names after the first two are kept importable from here for older scripts
__all__ = [
    "AUTOSAVE_MS",
    "DRAFT_SHORT_SIDE",
    "PREVIEW_REST_MS",
    "PaintWindow",
    "Tool",
    "color_to_qcolor",
    "gamut_plane",
    "hint_overlay",
    "qcolor_to_color",
    "suggest_colors",
]

log = logging.getLogger(__name__)

AUTOSAVE_MS = 5000
PREVIEW_REST_MS = 120  # full-quality preview once the mouse has rested this long
_START_L = 50.0  # the gamut plane's lightness until a pixel of the frame is clicked


class PaintWindow(QtWidgets.QMainWindow):
    """The paint window on ``source`` with hints from (and saved to) ``hints_path``.

    The edits themselves are :attr:`controller`'s (a :class:`~.controller.PaintController`
    around :attr:`doc`); the window builds the widgets, turns their signals into its calls, redraws
    when it reports a change, and runs the preview, the suggestions and the carrying of hints
    off the UI thread.

    Args:
        recover: what to do with autosaved work found for ``hints_path``: ``"ask"`` (a dialog),
            ``"yes"`` or ``"no"``.
        propagated: hints carried from the keyframes to other frames (shown faintly, tracked
            off the UI thread, on demand, shot by shot), or None.
        method, device, engine: the preview's colorizer (``engine``: ``model``,
            ``postprocess``, ``ensemble``, ``ensemble_mode``, as ``FrameColorizer`` takes them).

    Attributes:
        preview_shown: emitted with (frame, draft) each time a new preview is on screen.
    """

    preview_shown = QtCore.Signal(int, bool)

    def __init__(
        self,
        source: FrameSource,
        hints_path: str | os.PathLike[str] | None = None,
        *,
        method: str = DEFAULT_METHOD,
        device: str | None = None,
        recover: str = "ask",
        propagated: HintCarrier | None = None,
        **engine: Any,
    ) -> None:
        super().__init__()
        self.source = source
        self.colorizer = FrameColorizer(caller="paint", method=method, device=device, **engine)
        path = Path(hints_path) if hints_path is not None else None
        hints = load_hints(path) if path is not None and path.is_file() else None
        self.doc = HintDocument(source.width, source.height, hints, path)
        self.controller = PaintController(self.doc, source.count, carrying=propagated is not None)
        self.controller.on_change = lambda draft: self.changed(draft=draft)
        self.controller.on_message = self.say
        self._propagate = propagated
        self._suggester = (
            FrameColorizer(caller="paint", method="model", device=device) if installed_models() else None
        )
        self.suggestions: list[Color] = []
        self._generation = 0
        self._lightness_cache: tuple[int, np.ndarray] | None = None
        self._original_cache: tuple[int, np.ndarray | None] | None = None
        self._result: np.ndarray | None = None  # the latest preview, before the wipe
        self._palette_shown: list[Color] = []
        self.preview_seconds: list[tuple[bool, float]] = []
        self._signals = WorkSignals()
        self._signals.done.connect(self._show_preview)
        self._signals.suggested.connect(self._show_suggestions)
        self._signals.tracked.connect(self._show_tracked)
        self._pool, self._suggest_pool, self._track_pool = (self._one_thread() for _ in range(3))
        self._tracking: tuple[Hints, int] | None = None
        self._suggest_generation = 0
        self._build()
        self._offer_recovery(recover)
        self._autosave = QtCore.QTimer(self)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.doc.autosave)
        self._autosave.start()
        self._rest = QtCore.QTimer(self)
        self._rest.setSingleShot(True)
        self._rest.setInterval(PREVIEW_REST_MS)
        self._rest.timeout.connect(lambda: self.request_preview(draft=False))
        self.go_to(0)

    def _one_thread(self) -> QtCore.QThreadPool:
        pool = QtCore.QThreadPool(self)
        pool.setMaxThreadCount(1)
        return pool

    # --- the controller's state, as the window's ------------------------------------------

    @property
    def frame(self) -> int:
        return self.controller.frame

    @property
    def tool(self) -> str:
        return self.controller.tool

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
        """The next hint's size (a point's diameter, a stroke's width): see :meth:`set_size`."""
        return self.controller.size

    @width_fraction.setter
    def width_fraction(self, size: float) -> None:
        self.controller.size = size

    # --- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.setWindowTitle(f"vscolorize paint: {self.doc.path or 'untitled'}")
        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        layout.addLayout(self._build_tools())
        middle = QtWidgets.QHBoxLayout()
        middle.addWidget(self._build_views(), 1)
        middle.addLayout(self._build_side())
        layout.addLayout(middle, 1)
        self.compare = CompareBar()
        self.compare.wiped.connect(lambda _: self._show_result())
        self.compare.set_original_available(has_color(self.source))
        self.compare.against_changed.connect(lambda _: self._show_result())
        self.compare.overlay_toggled.connect(self.show_overlay)
        layout.addWidget(self.compare)
        layout.addLayout(self._build_navigation())
        self.setCentralWidget(central)
        self.statusBar()  # messages: why an edit was refused, how to undo a removal
        self._update_swatch()
        self._show_gamut(_START_L)  # a plane to pick from before the first click
        self._keys = self._build_keys()
        self.resize(1400, 700)

    def _build_views(self) -> QtWidgets.QWidget:
        """The labeled views: the frame with its hints, the result, a reference picture."""
        view = self.view = pg.GraphicsLayoutWidget()
        view.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        names = ("hints", "result", "reference")
        self.view_labels = {name: view.addLabel(name, row=0, col=i) for i, name in enumerate(names)}
        canvas = self.canvas = HintCanvas()
        canvas.clicked.connect(self.click)
        canvas.right_clicked.connect(self.controller.right_click)
        canvas.drag_started.connect(self.controller.drag_start)
        canvas.dragged.connect(self.controller.drag_move)
        canvas.drag_ended.connect(self.controller.drag_end)
        self.preview_view = PictureView()
        self.preview_view.picked.connect(self.pick_from_preview)
        self.reference_view = PictureView()
        self.reference_view.picked.connect(self.pick_from_reference)
        for i, box in enumerate((canvas, self.preview_view, self.reference_view)):
            view.addItem(box, row=1, col=i)
        self.reference_item = pg.ImageItem(axisOrder="row-major")
        self.reference_view.addItem(self.reference_item)
        self.reference_view.setVisible(False)
        self.view_labels["reference"].setVisible(False)
        self.preview_view.setXLink(canvas)
        self.preview_view.setYLink(canvas)
        self.gray_item = pg.ImageItem(axisOrder="row-major")
        canvas.addItem(self.gray_item)
        self.layer = HintLayer(canvas, self.source.width, self.source.height)
        self.overlay_item, self.marks = self.layer.overlay, self.layer.marks
        self.marks_outline = self.layer.outline
        self.selected_ring, self.selected_path = self.layer.selected_ring, self.layer.selected_path
        self.preview_item = pg.ImageItem(axisOrder="row-major")
        self.preview_view.addItem(self.preview_item)
        self.wipe_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("w", width=1))
        self.wipe_line.setVisible(False)
        self.preview_view.addItem(self.wipe_line)
        # says why the preview is gray when it is (no hints here, or not carried here yet)
        self.notice = pg.TextItem(color="w", fill=pg.mkBrush(0, 0, 0, 170), anchor=(0, 0))
        self.notice.setParentItem(self.preview_view)  # in the view's corner, whatever the zoom
        self.notice.setPos(6, 6)
        return view

    def _build_tools(self) -> QtWidgets.QHBoxLayout:
        """The row above the views: tools, size, color dialog, reference, palette, suggestions."""
        tools = QtWidgets.QButtonGroup(self)
        row = QtWidgets.QHBoxLayout()
        self.tool_buttons: dict[str, QtWidgets.QRadioButton] = {}
        for name in (Tool.POINT, Tool.BRUSH, Tool.ERASER):
            button = self.tool_buttons[name] = QtWidgets.QRadioButton(name)
            button.setChecked(name == self.tool)
            button.toggled.connect(partial(self._tool_toggled, name))
            tools.addButton(button)
            row.addWidget(button)
        self.size_spin = SizeControl(self.width_fraction)
        self.size_spin.chosen.connect(self.set_size)
        row.addWidget(QtWidgets.QLabel("size"))
        row.addWidget(self.size_spin)
        self.color_button = QtWidgets.QPushButton("color...")
        self.color_button.clicked.connect(self.pick_color)
        row.addWidget(self.color_button)
        reference_button = QtWidgets.QPushButton("reference...")
        reference_button.clicked.connect(lambda: self.open_reference())
        row.addWidget(reference_button)
        self.palette_row = QtWidgets.QHBoxLayout()
        self._show_palette()
        row.addLayout(self.palette_row)
        row.addWidget(QtWidgets.QLabel("suggested:" if self._suggester else ""))
        self.suggest_row = QtWidgets.QHBoxLayout()
        row.addLayout(self.suggest_row)
        row.addStretch(1)
        self.status = QtWidgets.QLabel()
        row.addWidget(self.status)
        return row

    def _build_side(self) -> QtWidgets.QVBoxLayout:
        """Beside the views: the gamut plane, the typed color, the hint list."""
        side = QtWidgets.QVBoxLayout()
        self.gamut_label = QtWidgets.QLabel()
        side.addWidget(self.gamut_label)
        self.gamut = GamutPlane()
        self.gamut.picked.connect(lambda a, b: self.set_color(Color(ab=(a, b))))
        side.addWidget(self.gamut)
        self.color_entry = ColorEntry()
        self.color_entry.chosen.connect(self._typed_color)
        self.color_entry.refused.connect(self.say)
        side.addWidget(self.color_entry)
        self.hint_list = HintList()
        self.hint_list.chosen.connect(self.select)
        side.addWidget(self.hint_list, 1)
        return side

    def _build_navigation(self) -> QtWidgets.QVBoxLayout:
        """Under the views: the keyframe bar, the frame slider and number, the keyframe box."""
        self.bar = KeyframeBar(self.source.count)
        self.bar.clicked.connect(self.go_to)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setRange(0, self.source.count - 1)
        self.slider.valueChanged.connect(self.go_to)
        self.spin = QtWidgets.QSpinBox()
        self.spin.setRange(0, self.source.count - 1)
        self.spin.valueChanged.connect(self.go_to)
        self.keyframe_box = QtWidgets.QCheckBox("keyframe")
        self.keyframe_box.toggled.connect(self.controller.set_keyframe)
        nav = QtWidgets.QHBoxLayout()
        nav.addWidget(self.slider, 1)
        nav.addWidget(self.spin)
        nav.addWidget(self.keyframe_box)
        rows = QtWidgets.QVBoxLayout()
        rows.addWidget(self.bar)
        rows.addLayout(nav)
        return rows

    def _build_keys(self) -> dict[QtGui.QKeySequence, Callable[[], object]]:
        actions: dict[str, Callable[[], object]] = {
            "Ctrl+Z": self.undo,
            "Ctrl+Shift+Z": self.redo,
            "Ctrl+S": self.save,
            "Right": lambda: self.go_to(self.frame + 1),
            "Left": lambda: self.go_to(self.frame - 1),
            "PgDown": lambda: self._jump(1),
            "PgUp": lambda: self._jump(-1),
            "Shift+PgDown": lambda: self._jump_cut(1),
            "Shift+PgUp": lambda: self._jump_cut(-1),
            "K": lambda: self.keyframe_box.toggle(),
            "H": lambda: self.compare.overlay.toggle(),
            "P": lambda: self.set_tool(Tool.POINT),
            "B": lambda: self.set_tool(Tool.BRUSH),
            "E": lambda: self.set_tool(Tool.ERASER),
            "Delete": self.delete_selected,
            "Escape": lambda: self.select(None),
        }
        return {QtGui.QKeySequence(keys): action for keys, action in actions.items()}

    def _offer_recovery(self, recover: str) -> None:
        if self.doc.path is None:
            return
        recovered = HintDocument.recoverable(self.doc.path)
        if recovered is None:
            return
        if recover == "ask":
            answer = QtWidgets.QMessageBox.question(
                self,
                "Recover unsaved hints?",
                f"{self.doc.path.name} has unsaved work from an earlier session. Recover it?",
            )
            accept = answer == QtWidgets.QMessageBox.StandardButton.Yes
        else:
            accept = recover == "yes"
        if accept:
            self.doc.hints = recovered  # unsaved: Ctrl+S keeps it
        else:
            self.doc.discard_autosave()  # declined: not offered again at every start

    # --- frames -----------------------------------------------------------------------------

    def lightness(self, n: int) -> np.ndarray:
        if self._lightness_cache is None or self._lightness_cache[0] != n:
            self._lightness_cache = (n, self.source.lightness(n))
        return self._lightness_cache[1]

    def original(self, n: int) -> np.ndarray | None:
        """(H, W, 3) uint8 sRGB of frame ``n`` as the source gave it, or None without color."""
        if self._original_cache is None or self._original_cache[0] != n:
            self._original_cache = (n, original_frame(self.source, n))
        return self._original_cache[1]

    def go_to(self, n: int) -> None:
        n = self.controller.go_to(n)
        for widget in (self.slider, self.spin):
            if widget.value() != n:
                widget.blockSignals(True)
                widget.setValue(n)
                widget.blockSignals(False)
        gray = (np.clip(self.lightness(n), 0, 100) * 2.55).astype(np.uint8)
        self.gray_item.setImage(gray, levels=(0, 255))
        self.refresh()

    def _jump(self, step: int) -> None:
        target = self.controller.next_keyframe(step)
        if target is not None:
            self.go_to(target)

    def _jump_cut(self, step: int) -> None:
        """To the next scene cut (the first frame of the next shot), or the one before this
        frame; reads the frames of this shot the first time (cuts are then known)."""
        if self._propagate is None:
            return
        shot = self._propagate.shot(self.frame)
        if step > 0:
            cut = shot.stop if shot.stop < self.source.count else None
        elif self.frame > shot.start:
            cut = shot.start
        else:
            cut = self._propagate.shot(shot.start - 1).start if shot.start > 0 else None
        if cut:  # frame 0 starts the clip, not a cut
            self.go_to(cut)

    # --- hints carried to the frame ---------------------------------------------------------

    def shown_keyframe(self) -> tuple[Keyframe | None, bool]:
        """The hints of the current frame and whether they are the artist's own (else carried
        there from keyframes, when propagation is on; None until they are, meanwhile tracked)."""
        if self.controller.carried_pending():
            self._track()  # shown when ready; the status line says so meanwhile
        return self.controller.shown_keyframe()

    def carried_pending(self) -> bool:
        """Whether the current frame's carried hints are still being tracked."""
        return self.controller.carried_pending()

    def _track(self) -> None:
        """Carry the hints to the current frame off the UI thread (it may read and track the
        frames of its span)."""
        job = (self.doc.hints, self.frame)
        if self._propagate is None or self._tracking == job:
            return
        carrier = self._propagate
        self._tracking = job

        def work() -> None:
            hints, frame = job
            self._signals.tracked.emit(hints, frame, carrier.keyframe(hints, frame))

        self._track_pool.start(work)

    def _show_tracked(self, source: Hints, frame: int, keyframe: Keyframe | None) -> None:
        if self._tracking == (source, frame):
            self._tracking = None
        if not self.controller.carried_arrived(source, frame, keyframe):
            self._track()  # edited meanwhile: again, with the hints as they are now
        elif frame == self.frame:
            self.refresh()
        else:
            self._track()  # moved on meanwhile

    # --- showing the state ------------------------------------------------------------------

    def say(self, message: str) -> None:
        """A line in the status bar for a few seconds."""
        self.statusBar().showMessage(message, 10_000)

    def refresh(self) -> None:
        """Show the state: hints, markers, list, keyframe box and bar, status; a new preview."""
        self._redraw_hints_only()
        self.bar.set_state(self.doc.hints.frames, self.frame)
        self.keyframe_box.blockSignals(True)  # the box and the bar tell the same
        self.keyframe_box.setChecked(self.controller.is_keyframe())
        self.keyframe_box.blockSignals(False)
        self.status.setText(self.controller.status())
        notice = self.controller.notice()
        self.notice.setText(notice)
        self.notice.setVisible(bool(notice))
        self._show_palette()
        self.request_preview(draft=False)

    def _redraw_hints_only(self) -> None:
        """The hints over the frame, the hint list and the size box."""
        keyframe, own = self.shown_keyframe()
        self.layer.draw(keyframe, self.selected, self.lightness(self.frame), 230 if own else 120)
        rows = [
            (kind, index, color_to_qcolor(color), frame, size)
            for kind, index, color, frame, size in hint_rows(keyframe, own)
        ]
        self.hint_list.show_hints(rows, self.selected)
        self.size_spin.show_size(self.controller.selected_size())

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

    def _show_palette(self) -> None:
        """The recent colors' swatches, when they changed."""
        if self.recent != self._palette_shown:
            self._palette_shown = list(self.recent)
            fill_swatches(self.palette_row, self.recent, self.set_color)

    # --- edits: the canvas, the keys and the side widgets call these ------------------------

    def click(self, x: float, y: float) -> None:
        """A left click on pixel (x, y) of the frame with the current tool (see
        :meth:`PaintController.click`); the gamut plane and the suggestions follow it."""
        self.look_at(x, y)
        if self.controller.click(x, y):
            self._suggest_at(x, y)

    def right_click(self, x: float, y: float) -> None:
        self.controller.right_click(x, y)

    def drag_start(self, x: float, y: float) -> None:
        self.controller.drag_start(x, y)

    def drag_move(self, x: float, y: float) -> None:
        self.controller.drag_move(x, y)

    def drag_end(self, x: float, y: float) -> None:
        self.controller.drag_end(x, y)

    def hint_at(self, x: float, y: float) -> tuple[str, int] | None:
        return self.controller.hint_at(x, y)

    def select(self, hint: tuple[str, int] | None) -> None:
        """Make ``hint`` (see :meth:`PaintController.hint_at`) the one colors and sizes apply
        to, or select nothing; the canvas, the hint list and the size box show it."""
        self.controller.select(hint)
        self._redraw_hints_only()

    def delete_selected(self) -> None:
        self.controller.delete_selected()

    def set_size(self, size: float) -> None:
        """The size of the next hint and of the selected one (see
        :meth:`PaintController.set_size`)."""
        self.controller.set_size(size)

    def _tool_toggled(self, tool: str, on: bool) -> None:
        if on:
            self.set_tool(tool)

    def set_tool(self, tool: str) -> None:
        self.controller.set_tool(tool)
        button = self.tool_buttons[tool]
        if not button.isChecked():
            button.blockSignals(True)
            button.setChecked(True)  # the group unticks the others
            button.blockSignals(False)

    def undo(self) -> None:
        self.controller.undo()

    def redo(self) -> None:
        self.controller.redo()

    def save(self) -> Path | None:
        path = self.doc.path
        if path is None:
            name, _ = QtWidgets.QFileDialog.getSaveFileName(
                self, "Save hints", "hints.hints.json", "Hints (*.hints.json *.json)"
            )
            if not name:
                return None
            path = Path(name)
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
        self._update_swatch()
        self._show_gamut(self.gamut.lightness)

    def look_at(self, x: float, y: float) -> None:
        """The gamut plane shows the colors possible at the lightness under pixel (x, y)."""
        lightness = self.lightness(self.frame)
        row = min(max(int(y), 0), lightness.shape[0] - 1)
        col = min(max(int(x), 0), lightness.shape[1] - 1)
        self._show_gamut(float(lightness[row, col]))

    def _show_gamut(self, lightness: float) -> None:
        self.gamut.show_lightness(lightness, self.color)
        self.gamut_label.setText(f"a*b* at L* {self.gamut.lightness:.0f}")
        self.color_entry.show_color(self.color, self.gamut.lightness)

    def _typed_color(self, color: Color, lightness: float | None) -> None:
        """A color typed in the entry: the gamut plane moves to the lightness typed (if any),
        and the color applies like any other choice."""
        if lightness is not None:
            self._show_gamut(lightness)
        self.set_color(color)

    def pick_from_preview(self, x: float, y: float) -> None:
        """The eyedropper: the preview's color under frame pixel (x, y) becomes the current one
        (the result's, wherever the wipe is)."""
        image = self._result
        if image is not None:
            height, width = image.shape[:2]
            self._pick(image, y * height / self.source.height, x * width / self.source.width)

    def open_reference(self, path: str | os.PathLike[str] | None = None) -> bool:
        """Show a color picture (a reference photo, a costume still) beside the frame; a click on
        it picks its color. Without ``path``, a file dialog asks."""
        if path is None:
            name, _ = QtWidgets.QFileDialog.getOpenFileName(
                self, "Reference picture", "", "Pictures (*.png *.jpg *.jpeg *.tif *.tiff *.webp)"
            )
            if not name:
                return False
            path = name
        try:
            rgb = read_image(path)
        except ImageError as e:
            QtWidgets.QMessageBox.warning(self, "Reference picture", str(e))
            return False
        self.reference_item.setImage(np.round(rgb * 255).astype(np.uint8), levels=(0, 255))
        self.reference_view.setVisible(True)
        self.view_labels["reference"].setVisible(True)
        self.reference_view.autoRange(padding=0)
        return True

    def pick_from_reference(self, x: float, y: float) -> None:
        """The eyedropper on the reference picture, at its pixel (x, y)."""
        image = self.reference_item.image
        if image is not None:
            self._pick(image, y, x)

    def _pick(self, image: np.ndarray, row: float, col: float) -> None:
        r, c = int(row), int(col)
        if 0 <= r < image.shape[0] and 0 <= c < image.shape[1]:
            rgb = image[r, c, :3].astype(np.float32) / 255
            _, a, b = srgb_to_lab(rgb[None, None])[0, 0].tolist()
            self.set_color(Color(ab=(a, b)))

    def suggest(self, x: float, y: float) -> list[Color]:
        """What the learned model thinks belongs at pixel (x, y) of the current frame (see
        :func:`~.preview.suggest_colors`); empty when no model is installed."""
        if self._suggester is None:
            return []
        return suggest_colors(
            self._suggester, self.lightness(self.frame), self.doc.hints.keyframe(self.frame), x, y
        )

    def _suggest_at(self, x: float, y: float) -> None:
        """Suggestions for a click, computed off the UI thread; shown when they arrive."""
        if self._suggester is None:
            return
        self._suggest_generation += 1
        generation, suggester = self._suggest_generation, self._suggester
        lightness = self.lightness(self.frame)
        keyframe = self.doc.hints.keyframe(self.frame)

        def work() -> None:
            colors = suggest_colors(suggester, lightness, keyframe, x, y)
            self._signals.suggested.emit(generation, colors)

        self._suggest_pool.clear()
        self._suggest_pool.start(work)

    def _show_suggestions(self, generation: int, colors: list[Color]) -> None:
        if generation == self._suggest_generation:
            self.suggestions = colors
            fill_swatches(self.suggest_row, colors, self._take_suggestion)

    def _take_suggestion(self, color: Color) -> None:
        """A suggestion recolors the selected hint, else the point last placed (and becomes the
        current color)."""
        self.controller.take_suggestion(color)
        self._show_color()

    def _update_swatch(self) -> None:
        self.color_button.setStyleSheet(f"background: {color_to_qcolor(self.color).name()}")

    # --- preview ----------------------------------------------------------------------------

    def request_preview(self, *, draft: bool) -> None:
        """Colorize the current frame off the UI thread; only the newest result is shown."""
        self._generation += 1
        keyframe, _ = self.shown_keyframe()
        job = PreviewJob(self._generation, self.frame, keyframe, self.lightness(self.frame), draft)
        self._pool.clear()  # a queued, not yet started, older request is useless now
        self._pool.start(PreviewTask(job, self.colorizer, self._signals))

    def _show_preview(
        self, generation: int, frame: int, draft: bool, rgb: np.ndarray, seconds: float
    ) -> None:
        self.preview_seconds.append((draft, seconds))
        if generation != self._generation or frame != self.frame:
            return
        image = np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)
        if draft:
            image = cv2.resize(image, (self.source.width, self.source.height), interpolation=cv2.INTER_LINEAR)
        self._result = image
        self._show_result()
        self.preview_shown.emit(frame, draft)

    def _show_result(self) -> None:
        """The latest result, wiped to the gray frame (or the original color frame, as the
        compare bar says) right of its line."""
        share = self.compare.share
        self.wipe_line.setVisible(share < 1)
        self.wipe_line.setValue(share * self.source.width)
        if self._result is None:
            return
        against: np.ndarray | None = None
        if share < 1 and self.compare.against == CompareBar.ORIGINAL:
            against = self.original(self.frame)
        if against is None:
            against = self.lightness(self.frame)
        self.preview_item.setImage(wipe(self._result, against, share), levels=(0, 255))

    def show_overlay(self, on: bool) -> None:
        """Draw the hints (colors, markers, selection) over the frame, or the bare frame."""
        self.layer.set_visible(on)

    def wait_for_previews(self, timeout_ms: int = 30_000) -> None:
        """Block until no preview or suggestion is being computed (for tests and scripts)."""
        for pool in (self._pool, self._suggest_pool, self._track_pool):
            pool.waitForDone(timeout_ms)
        QtCore.QCoreApplication.processEvents()

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        """The window's keys, whichever of its widgets let the key through (the slider and the
        frame number keep their own arrows and digits)."""
        pressed = QtGui.QKeySequence(event.keyCombination())
        action = self._keys.get(pressed)
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
        for pool in (self._pool, self._suggest_pool, self._track_pool):
            pool.clear()
            pool.waitForDone(10_000)
        super().closeEvent(event)
