"""The player: the exact decoded frame, the redaction boxes over it, and box editing.

The picture comes from the frame server (``app.workers.FrameServer``); boxes
are drawn for the frame *shown*, so they always match the picture even while a
newer frame is still decoding. Box colours follow ``style.STATE_COLORS``.

Mouse: click a box to select its track; drag inside the selected box to move
it, drag a handle to resize it; in draw mode (D) drag out a new manual region.
A drag is reported once, on release (``boxEdited`` / ``regionDrawn``), so it
is one undo step. Ctrl+wheel zooms around the cursor, dragging empty space
pans when zoomed in, F fits the picture to the window.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from redaction.plan import Box, Plan, Track

from .style import ACCENT, STATE_COLORS, track_state

HANDLE = 5  # half size of a resize handle, in screen pixels
_HANDLES = ("tl", "t", "tr", "r", "br", "b", "bl", "l")


class PlayerView(QWidget):
    boxEdited = Signal(str, int, object)  # track id, frame, Box
    regionDrawn = Signal(int, object)  # frame, Box
    trackClicked = Signal(str, bool)  # track id ("" for none), add to selection
    zoomChanged = Signal(float)
    wheelSteps = Signal(int)  # frames to step (wheel without Ctrl)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(320, 180)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self.image: QImage | None = None
        self.image_frame = -1
        self.is_preview = False
        self.video_size: tuple[int, int] | None = None
        self.plan: Plan | None = None
        self.provisional: list[Track] = []
        self.selected: list[str] = []
        self.draw_mode = False
        self.show_boxes = True
        self.message = ""  # shown when there is no picture
        self.zoom = 1.0  # 1.0 = fit
        self.center = QPointF(0.5, 0.5)  # picture point at the widget centre, as fractions
        self._drag: dict | None = None

    # ---------------------------------------------------------------- inputs
    def set_video(self, width: int, height: int) -> None:
        self.video_size = (width, height)
        self.image, self.image_frame = None, -1
        self.fit()

    def set_image(self, frame: int, image: QImage, preview: bool) -> None:
        self.image, self.image_frame, self.is_preview = image, frame, preview
        self.update()

    def set_plan(self, plan: Plan | None, provisional: list[Track] | None = None) -> None:
        self.plan = plan
        self.provisional = provisional or []
        self.update()

    def set_selected(self, ids: list[str]) -> None:
        self.selected = list(ids)
        self.update()

    def set_draw_mode(self, on: bool) -> None:
        self.draw_mode = on
        self.setCursor(Qt.CrossCursor if on else Qt.ArrowCursor)
        self.update()

    def fit(self) -> None:
        self.zoom, self.center = 1.0, QPointF(0.5, 0.5)
        self.zoomChanged.emit(self.zoom)
        self.update()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        if not self.video_size:
            return
        anchor = anchor or QPointF(self.width() / 2, self.height() / 2)
        before = self.to_video(anchor)
        self.zoom = max(1.0, min(16.0, self.zoom * factor))
        if self.zoom == 1.0:
            self.center = QPointF(0.5, 0.5)
        else:
            after = self.to_video(anchor)
            w, h = self.video_size
            self.center = QPointF(self.center.x() + (before.x() - after.x()) / w,
                                  self.center.y() + (before.y() - after.y()) / h)
        self.zoomChanged.emit(self.zoom)
        self.update()

    # ---------------------------------------------------------------- geometry
    def _scale(self) -> float:
        w, h = self.video_size or (16, 9)
        return min(self.width() / w, self.height() / h) * self.zoom

    def picture_rect(self) -> QRectF:
        w, h = self.video_size or (16, 9)
        s = self._scale()
        cx = self.width() / 2 - self.center.x() * w * s
        cy = self.height() / 2 - self.center.y() * h * s
        return QRectF(cx, cy, w * s, h * s)

    def to_screen(self, box: Box) -> QRectF:
        r, s = self.picture_rect(), self._scale()
        return QRectF(r.x() + box.x * s, r.y() + box.y * s, box.w * s, box.h * s)

    def to_video(self, point: QPointF) -> QPointF:
        r, s = self.picture_rect(), self._scale()
        return QPointF((point.x() - r.x()) / s, (point.y() - r.y()) / s)

    def _tracks(self) -> list[tuple[Track, bool]]:
        tracks = [(t, False) for t in (self.plan.tracks if self.plan else [])]
        known = {t.id for t, _ in tracks}
        tracks += [(t, True) for t in self.provisional if t.id not in known]
        return tracks

    def boxes_at(self, frame: int) -> list[tuple[Track, Box, bool]]:
        out = []
        for track, provisional in self._tracks():
            box = track.box_at(frame)
            if box is not None:
                out.append((track, box, provisional))
        return out

    def _handle_rects(self, rect: QRectF) -> dict[str, QRectF]:
        xs = {"l": rect.left(), "c": rect.center().x(), "r": rect.right()}
        ys = {"t": rect.top(), "c": rect.center().y(), "b": rect.bottom()}
        spots = {"tl": ("l", "t"), "t": ("c", "t"), "tr": ("r", "t"), "r": ("r", "c"),
                 "br": ("r", "b"), "b": ("c", "b"), "bl": ("l", "b"), "l": ("l", "c")}
        return {name: QRectF(xs[x] - HANDLE, ys[y] - HANDLE, 2 * HANDLE, 2 * HANDLE)
                for name, (x, y) in spots.items()}

    # ---------------------------------------------------------------- painting
    def paintEvent(self, event) -> None:  # noqa: ANN001, N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#111214"))
        if self.image is None or not self.video_size:
            p.setPen(QColor("#8a8f98"))
            f = QFont(self.font())
            f.setPointSizeF(f.pointSizeF() * 1.2)
            p.setFont(f)
            p.drawText(self.rect(), Qt.AlignCenter | Qt.TextWordWrap, self.message or "No recording open")
            return
        p.setRenderHint(QPainter.SmoothPixmapTransform, self.zoom < 2)
        picture = self.picture_rect()
        p.drawImage(picture, self.image)
        p.setRenderHint(QPainter.Antialiasing, True)
        if self.plan and self.plan.blackout(self.image_frame) and not self.is_preview:
            self._blackout_band(p, picture)
        if self.show_boxes:
            for track, box, provisional in self.boxes_at(self.image_frame):
                self._draw_box(p, track, box, provisional)
        if self._drag and self._drag.get("rect") is not None:
            pen = QPen(ACCENT, 2, Qt.DashLine)
            p.setPen(pen)
            p.setBrush(QColor(76, 141, 255, 40))
            p.drawRect(self.to_screen(self._drag["rect"]))
        if self.is_preview:
            self._badge(p, "PREVIEW OF RELEASE — exactly what export burns", QColor("#30a46c"))
        elif self.draw_mode:
            self._badge(p, "DRAW REGION — drag over what must be hidden (Esc to stop)", ACCENT)

    def _badge(self, p: QPainter, text: str, color: QColor) -> None:
        f = QFont(self.font())
        f.setBold(True)
        p.setFont(f)
        metrics = p.fontMetrics()
        rect = QRectF(10, 10, metrics.horizontalAdvance(text) + 20, metrics.height() + 10)
        p.setPen(Qt.NoPen)
        p.setBrush(QColor(color.red(), color.green(), color.blue(), 220))
        p.drawRoundedRect(rect, 4, 4)
        p.setPen(QColor("white"))
        p.drawText(rect, Qt.AlignCenter, text)

    def _blackout_band(self, p: QPainter, picture: QRectF) -> None:
        p.setPen(Qt.NoPen)
        p.setBrush(QColor(142, 78, 198, 70))
        p.drawRect(picture)
        p.setPen(QColor("#e9d5ff"))
        p.drawText(picture.adjusted(0, 8, 0, 0), Qt.AlignHCenter | Qt.AlignTop,
                   "WHOLE FRAME BLACKED OUT IN THE RELEASE (segment)")

    def _draw_box(self, p: QPainter, track: Track, box: Box, provisional: bool) -> None:
        state = track_state(track, provisional)
        color = STATE_COLORS[state]
        rect = self.to_screen(box)
        selected = track.id in self.selected
        if self._drag and self._drag.get("track") == track.id and self._drag.get("box") is not None:
            rect = self.to_screen(self._drag["box"])
        key = track.keyframe_at(self.image_frame)
        pen = QPen(color, 3 if selected else 2, Qt.DashLine if state == "release" else Qt.SolidLine)
        p.setPen(pen)
        fill = QColor(color)
        fill.setAlpha(70 if state in ("redact", "minor", "manual", "undecided") else 25)
        # In the release preview the picture itself shows the fill; only outlines go on top.
        p.setBrush(Qt.NoBrush if self.is_preview else fill)
        p.drawRect(rect)
        label = f"{track.id} · {track.label if track.kind == 'manual' else state_label(track, provisional)}"
        if key is not None:
            label += " ◆" if key.source == "human" else " ◇"
        f = QFont(self.font())
        f.setPointSizeF(max(7.5, f.pointSizeF() * 0.85))
        f.setBold(True)
        p.setFont(f)
        metrics = p.fontMetrics()
        tag = QRectF(rect.left(), rect.top() - metrics.height() - 4, metrics.horizontalAdvance(label) + 10,
                     metrics.height() + 4)
        if tag.top() < 0:
            tag.moveTop(rect.top())
        p.setPen(Qt.NoPen)
        p.setBrush(color)
        p.drawRect(tag)
        p.setPen(QColor("#111") if state in ("undecided", "minor") else QColor("white"))
        p.drawText(tag, Qt.AlignCenter, label)
        if selected and len(self.selected) == 1 and not provisional:
            p.setPen(QPen(QColor("white"), 1))
            p.setBrush(color)
            for handle in self._handle_rects(rect).values():
                p.drawRect(handle)

    # ---------------------------------------------------------------- mouse
    def _hit(self, pos: QPointF) -> tuple[Track | None, str | None]:
        """The track under ``pos`` (selected ones first) and the handle or 'move'."""
        boxes = [(t, b) for t, b, prov in self.boxes_at(self.image_frame) if not prov]
        boxes.sort(key=lambda tb: (tb[0].id not in self.selected, tb[1].area))
        for track, box in boxes:
            rect = self.to_screen(box)
            if track.id in self.selected and len(self.selected) == 1:
                for name, handle in self._handle_rects(rect).items():
                    if handle.adjusted(-2, -2, 2, 2).contains(pos):
                        return track, name
            if rect.contains(pos):
                return track, "move"
        return None, None

    def mousePressEvent(self, event) -> None:  # noqa: ANN001, N802
        if event.button() != Qt.LeftButton or self.image is None:
            return super().mousePressEvent(event)
        pos = event.position()
        start = self.to_video(pos)
        if self.draw_mode:
            self._drag = {"kind": "draw", "start": start, "rect": None}
            return None
        track, part = self._hit(pos)
        if track is None:
            self.trackClicked.emit("", False)
            self._drag = {"kind": "pan", "origin": pos, "center": QPointF(self.center)}
            return None
        additive = bool(event.modifiers() & (Qt.ControlModifier | Qt.ShiftModifier))
        if track.id not in self.selected or additive:
            self.trackClicked.emit(track.id, additive)
        if not additive:
            self._drag = {"kind": part, "track": track.id, "start": start,
                          "origin_box": track.box_at(self.image_frame), "box": None, "frame": self.image_frame}
        return None

    def mouseMoveEvent(self, event) -> None:  # noqa: ANN001, N802
        pos = event.position()
        drag = self._drag
        if drag is None:
            if not self.draw_mode:
                _, part = self._hit(pos)
                cursors = {"tl": Qt.SizeFDiagCursor, "br": Qt.SizeFDiagCursor, "tr": Qt.SizeBDiagCursor,
                           "bl": Qt.SizeBDiagCursor, "t": Qt.SizeVerCursor, "b": Qt.SizeVerCursor,
                           "l": Qt.SizeHorCursor, "r": Qt.SizeHorCursor, "move": Qt.SizeAllCursor}
                self.setCursor(cursors.get(part, Qt.ArrowCursor))
            return
        here = self.to_video(pos)
        if drag["kind"] == "draw":
            a = drag["start"]
            drag["rect"] = Box(min(a.x(), here.x()), min(a.y(), here.y()), abs(here.x() - a.x()),
                               abs(here.y() - a.y()))
        elif drag["kind"] == "pan":
            if self.zoom > 1.0 and self.video_size:
                w, h = self.video_size
                s = self._scale()
                d = pos - drag["origin"]
                self.center = QPointF(drag["center"].x() - d.x() / (w * s), drag["center"].y() - d.y() / (h * s))
        else:
            drag["box"] = self._dragged_box(drag, here)
        self.update()

    def _dragged_box(self, drag: dict, here: QPointF) -> Box:
        box: Box = drag["origin_box"]
        dx, dy = here.x() - drag["start"].x(), here.y() - drag["start"].y()
        if drag["kind"] == "move":
            return Box(box.x + dx, box.y + dy, box.w, box.h)
        x0, y0, x1, y1 = box.x, box.y, box.x2, box.y2
        kind = drag["kind"]
        if "l" in kind:
            x0 += dx
        if "r" in kind:
            x1 += dx
        if kind.startswith("t"):
            y0 += dy
        if kind.startswith("b"):
            y1 += dy
        x0, x1 = min(x0, x1), max(x0, x1)
        y0, y1 = min(y0, y1), max(y0, y1)
        return Box(x0, y0, max(1.0, x1 - x0), max(1.0, y1 - y0))

    def mouseReleaseEvent(self, event) -> None:  # noqa: ANN001, N802
        drag, self._drag = self._drag, None
        if drag is None or event.button() != Qt.LeftButton:
            return
        if drag["kind"] == "draw":
            rect = drag.get("rect")
            if rect is not None and rect.w * self._scale() >= 4 and rect.h * self._scale() >= 4:
                self.regionDrawn.emit(self.image_frame, rect)
        elif drag["kind"] not in ("pan",) and drag.get("box") is not None:
            self.boxEdited.emit(drag["track"], drag["frame"], drag["box"])
        self.update()

    def wheelEvent(self, event) -> None:  # noqa: ANN001, N802
        if event.modifiers() & Qt.ControlModifier:
            self.zoom_by(1.15 if event.angleDelta().y() > 0 else 1 / 1.15, event.position())
            event.accept()
        else:
            steps = -int(event.angleDelta().y() / 120) or (-1 if event.angleDelta().y() > 0 else 1)
            self.wheelSteps.emit(steps)
            event.accept()


def state_label(track: Track, provisional: bool = False) -> str:
    state = track_state(track, provisional)
    if state == "minor":
        return "possible minor" + (" · redact" if track.decision == "redact" else " · undecided")
    return {"redact": "redact", "undecided": "undecided", "release": "release", "manual": "manual",
            "detecting": "detecting"}[state]
