"""The timeline: the whole recording with a time ruler, a thumbnail strip, the
audio waveform, one lane for segments and one lane per track.

Everything is drawn from the plan; nothing here decodes. Thumbnails come from
the thumbnail server (keyframes near each slot, so they are cheap to fetch)
and the waveform from ``app.audio`` (one peak per frame, computed once).

Mouse: click or drag on the ruler, thumbnails or waveform to scrub (the frame
server drops stale requests, so this never blocks); click a lane to select
its track or segment; drag a segment's edge to move that edge, or its body to
move the whole segment, frame by frame (one undo step, reported on release as
``segmentResized``); double-click a segment to edit it. Wheel scrolls time
(or lanes with Shift), Ctrl+wheel zooms.
"""

from __future__ import annotations

import bisect
import math

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QApplication, QScrollBar, QSizePolicy, QVBoxLayout, QWidget

from redaction.plan import Plan, Track

from .style import ACCENT, MARK_COLOR, SEGMENT_COLOR, STATE_COLORS, track_state

HEADER_W = 96
RULER_H, THUMB_H, WAVE_H, SEG_H, LANE_H = 22, 42, 34, 22, 16
EDGE_GRAB = 5  # px either side of a segment edge that grabs it


class TimelineCanvas(QWidget):
    scrubbed = Signal(int)
    trackClicked = Signal(str, bool)
    segmentClicked = Signal(str)
    segmentResized = Signal(str, int, int)  # id, new start, new end (exclusive)
    segmentActivated = Signal(str)
    viewChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumHeight(RULER_H + THUMB_H + WAVE_H + SEG_H + 3 * LANE_H + 8)
        self.frame_count = 0
        self.fps = 30.0
        self.timecode = lambda f: str(f)
        self.plan: Plan | None = None
        self.provisional: list[Track] = []
        self.frame = 0
        self.mark_in: int | None = None
        self.mark_out: int | None = None
        self.selected: list[str] = []
        self.selected_segment: str | None = None
        self.peaks: np.ndarray | None = None
        self.thumbs = None  # ThumbnailServer
        self.thumb_frames: list[int] = []  # frames thumbnails may come from (keyframes)
        self.start = 0.0  # first visible frame (may be fractional)
        self.per_px = 1.0  # frames per pixel
        self.lane_scroll = 0
        self.no_audio = False
        self._fit_mode = True
        self._index: dict[int, tuple] = {}
        self._drag: dict | None = None

    # ------------------------------------------------------------ state
    def set_video(self, frame_count: int, fps: float, timecode, thumb_frames: list[int]) -> None:  # noqa: ANN001
        self.frame_count, self.fps, self.timecode = frame_count, fps or 30.0, timecode
        self.thumb_frames = sorted(thumb_frames) or [0]
        self.peaks = None
        self.no_audio = False
        self.fit()

    def fit(self) -> None:
        self._fit_mode = True
        self.start = 0.0
        self.per_px = max(self.frame_count, 1) / max(1, self.width() - HEADER_W - 8)
        self.viewChanged.emit()
        self.update()

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802
        super().resizeEvent(event)
        if self._fit_mode:
            self.per_px = max(self.frame_count, 1) / max(1, self.width() - HEADER_W - 8)
        else:
            self.clamp()
        self.viewChanged.emit()

    def visible_frames(self) -> float:
        return max(1, self.width() - HEADER_W) * self.per_px

    def zoom(self, factor: float, anchor_x: float | None = None) -> None:
        if not self.frame_count:
            return
        anchor_x = anchor_x if anchor_x is not None else self.x_of(self.frame)
        anchor = self.frame_at_x(anchor_x, exact=True)
        min_per_px = 1 / 24  # at most 24 px per frame
        max_per_px = max(self.frame_count, 1) / max(1, self.width() - HEADER_W - 8)
        self.per_px = max(min_per_px, min(max_per_px, self.per_px / factor))
        self._fit_mode = self.per_px >= max_per_px
        self.start = anchor - (anchor_x - HEADER_W) * self.per_px
        self.clamp()

    def clamp(self) -> None:
        self.start = max(0.0, min(self.start, self.frame_count - self.visible_frames() + 1))
        self.viewChanged.emit()
        self.update()

    def ensure_visible(self, frame: int) -> None:
        if frame < self.start or frame > self.start + self.visible_frames() - 2:
            self._fit_mode = False
            self.start = frame - self.visible_frames() * 0.3
            self.clamp()

    # ------------------------------------------------------------ geometry
    def x_of(self, frame: float) -> float:
        return HEADER_W + (frame - self.start) / self.per_px

    def frame_at_x(self, x: float, exact: bool = False) -> float:
        f = self.start + (x - HEADER_W) * self.per_px
        if exact:
            return f
        return int(max(0, min(self.frame_count - 1, math.floor(f))))

    def lanes(self) -> list[tuple[Track, bool]]:
        tracks = [(t, False) for t in (self.plan.tracks if self.plan else [])]
        known = {t.id for t, _ in tracks}
        return tracks + [(t, True) for t in self.provisional if t.id not in known]

    @property
    def seg_top(self) -> int:
        return RULER_H + THUMB_H + WAVE_H

    @property
    def lanes_top(self) -> int:
        return self.seg_top + SEG_H + 2

    def lane_at(self, y: float) -> int | None:
        if y < self.lanes_top:
            return None
        i = int((y - self.lanes_top) // LANE_H) + self.lane_scroll
        return i if 0 <= i < len(self.lanes()) else None

    def _segment_hit(self, pos: QPointF) -> tuple[str | None, str | None]:
        if not self.plan or not (self.seg_top <= pos.y() < self.seg_top + SEG_H):
            return None, None
        for segment in self.plan.segments:
            x0, x1 = self.x_of(segment.start), self.x_of(segment.end)
            if abs(pos.x() - x0) <= EDGE_GRAB:
                return segment.id, "start"
            if abs(pos.x() - x1) <= EDGE_GRAB:
                return segment.id, "end"
            if x0 <= pos.x() <= x1:
                return segment.id, "body"
        return None, None

    # ------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:  # noqa: ANN001, N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#18191c"))
        if not self.frame_count:
            p.setPen(QColor("#7d818a"))
            p.drawText(self.rect(), Qt.AlignCenter, "The timeline appears when a recording is open.")
            return
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.82))
        p.setFont(small)
        width = self.width()
        body = QRectF(HEADER_W, 0, width - HEADER_W, self.height())
        self._draw_ruler(p, width)
        p.save()
        p.setClipRect(body)
        self._draw_thumbs(p, width)
        self._draw_wave(p, width)
        self._draw_segments(p)
        self._draw_lanes(p)
        self._draw_marks(p)
        p.restore()
        self._draw_headers(p)
        x = self.x_of(self.frame + 0.5 if self.per_px < 1 else self.frame)
        if HEADER_W <= x <= width:
            p.setPen(QPen(QColor("#ffffff"), 1))
            p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
            tri = QPainterPath()
            tri.moveTo(x - 5, 0)
            tri.lineTo(x + 5, 0)
            tri.lineTo(x, 7)
            tri.closeSubpath()
            p.fillPath(tri, QColor("#ffffff"))

    def _draw_headers(self, p: QPainter) -> None:
        p.fillRect(QRectF(0, 0, HEADER_W, self.height()), QColor("#202225"))
        p.setPen(QColor("#a9adb5"))
        rows = [(0, RULER_H, "Time"), (RULER_H, THUMB_H, "Picture"), (RULER_H + THUMB_H, WAVE_H, "Audio"),
                (self.seg_top, SEG_H, "Segments")]
        for top, h, text in rows:
            p.drawText(QRectF(8, top, HEADER_W - 10, h), Qt.AlignVCenter | Qt.AlignLeft, text)
        lanes = self.lanes()
        for row in range(self.lane_scroll, len(lanes)):
            y = self.lanes_top + (row - self.lane_scroll) * LANE_H
            if y > self.height():
                break
            track, provisional = lanes[row]
            color = STATE_COLORS[track_state(track, provisional)]
            p.fillRect(QRectF(6, y + 4, 8, LANE_H - 8), color)
            p.setPen(QColor("#ffffff") if track.id in self.selected else QColor("#a9adb5"))
            label = track.id + (" ⚠" if track.possible_minor else "")
            p.drawText(QRectF(20, y, HEADER_W - 22, LANE_H), Qt.AlignVCenter | Qt.AlignLeft, label)
        p.setPen(QColor("#2e3035"))
        p.drawLine(HEADER_W - 1, 0, HEADER_W - 1, self.height())

    def _draw_ruler(self, p: QPainter, width: int) -> None:
        p.fillRect(QRectF(HEADER_W, 0, width - HEADER_W, RULER_H), QColor("#202225"))
        seconds_per_px = self.per_px / self.fps
        steps = [1 / self.fps, 0.1, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600]
        step = next((s for s in steps if s / seconds_per_px >= 90), steps[-1])
        first_s = max(0.0, self.start / self.fps)
        t = math.floor(first_s / step) * step
        end_s = (self.start + self.visible_frames()) / self.fps
        p.setPen(QColor("#8a8f98"))
        while t <= end_s + step:
            frame = t * self.fps
            x = self.x_of(frame)
            if x >= HEADER_W:
                p.drawLine(QPointF(x, RULER_H - 7), QPointF(x, RULER_H))
                text = self.timecode(min(self.frame_count - 1, int(round(frame))))
                text = text[3:] if self.frame_count < self.fps * 3600 else text
                if step >= 1:
                    text = text.split(".")[0]
                if step < 1 / self.fps * 1.5:
                    text = f"{int(round(frame))}"
                p.drawText(QPointF(x + 3, RULER_H - 8), text)
            t += step

    def _draw_thumbs(self, p: QPainter, width: int) -> None:
        top = RULER_H
        p.fillRect(QRectF(HEADER_W, top, width - HEADER_W, THUMB_H), QColor("#111214"))
        if self.thumbs is None:
            return
        slot_w = THUMB_H * 16 / 9
        x = HEADER_W
        while x < width:
            frame = self.frame_at_x(x + slot_w / 2)
            key_frame = self._thumb_frame(frame, slot_w * self.per_px)
            image = self.thumbs.get((key_frame, None, THUMB_H - 4))
            if image is not None:
                target = QRectF(x, top + 2, image.width(), THUMB_H - 4)
                p.drawImage(target, image)
                slot_w = max(24, image.width())
            x += slot_w + 1

    def _thumb_frame(self, frame: int, slot_frames: float) -> int:
        """A keyframe near ``frame`` when there is one within the slot (one decoded picture,
        no pre-roll); otherwise ``frame`` on a grid of slots, so the cache still hits."""
        frames = self.thumb_frames
        i = int(np.searchsorted(frames, frame, side="right")) - 1
        near = frames[max(0, i)]
        if abs(near - frame) <= slot_frames / 2:
            return near
        step = max(1, int(slot_frames))
        return min(self.frame_count - 1, (frame // step) * step)

    def _draw_wave(self, p: QPainter, width: int) -> None:
        top = RULER_H + THUMB_H
        mid = top + WAVE_H / 2
        p.fillRect(QRectF(HEADER_W, top, width - HEADER_W, WAVE_H), QColor("#15171a"))
        if self.peaks is None:
            p.setPen(QColor("#555a62"))
            p.drawText(QRectF(HEADER_W + 8, top, 400, WAVE_H), Qt.AlignVCenter,
                       "no audio track" if self.no_audio else "reading audio…")
            return
        peaks = self.peaks
        p.setPen(QPen(QColor("#3fb3a8"), 1))
        # One peak per screen pixel, computed with numpy (a paint happens on every frame while playing).
        xs = np.arange(HEADER_W, width)
        f0 = np.floor(self.start + (xs - HEADER_W) * self.per_px).astype(np.int64)
        valid = (f0 >= 0) & (f0 < len(peaks))
        if not valid.any():
            return
        xs, f0 = xs[valid], f0[valid]
        # reduceat runs each pixel to the next one's frame; the last pixel stops at its own width.
        visible = peaks[: min(len(peaks), int(f0[-1] + max(1.0, self.per_px)))]
        levels = np.maximum.reduceat(visible, f0)
        heights = np.maximum(0.5, levels * (WAVE_H / 2 - 2))
        lines = [QLineF(x, mid - h, x, mid + h) for x, h in zip(xs.tolist(), heights.tolist(), strict=True)]
        p.drawLines(lines)

    def _draw_segments(self, p: QPainter) -> None:
        top = self.seg_top
        p.fillRect(QRectF(HEADER_W, top, self.width() - HEADER_W, SEG_H), QColor("#1d1f23"))
        if not self.plan:
            return
        for segment in self.plan.segments:
            start, end = segment.start, segment.end
            if self._drag and self._drag.get("segment") == segment.id and "preview" in self._drag:
                start, end = self._drag["preview"]
            rect = QRectF(self.x_of(start), top + 2, max(2.0, (end - start) / self.per_px), SEG_H - 4)
            color = QColor(SEGMENT_COLOR)
            if segment.id == self.selected_segment:
                color = color.lighter(135)
            p.fillRect(rect, color)
            # Full-range shading over the picture and audio lanes shows what the segment hides.
            shade = QColor(SEGMENT_COLOR)
            shade.setAlpha(55)
            if segment.video:
                p.fillRect(QRectF(rect.x(), RULER_H, rect.width(), THUMB_H), shade)
            if segment.audio:
                p.fillRect(QRectF(rect.x(), RULER_H + THUMB_H, rect.width(), WAVE_H), shade)
            parts = [segment.id, "blackout" if segment.video else "", segment.audio or "", segment.reason or ""]
            p.setPen(QColor("white"))
            p.drawText(rect.adjusted(4, 0, -2, 0), Qt.AlignVCenter | Qt.AlignLeft,
                       " · ".join(x for x in parts if x))
            if segment.id == self.selected_segment:
                p.setPen(QPen(QColor("white"), 2))
                p.drawLine(rect.topLeft(), rect.bottomLeft())
                p.drawLine(rect.topRight(), rect.bottomRight())

    def _track_index(self, track: Track) -> tuple[list[tuple[int, int]], list[int]]:
        """Spans and keyframe frames of a track, computed once per track object (plans
        are replaced, never changed, so the object's identity is a safe key)."""
        key = id(track)
        cached = self._index.get(key)
        if cached is None or cached[0] is not track:
            cached = (track, _spans(track, 0, self.frame_count), [k.frame for k in track.keyframes])
            self._index[key] = cached
        return cached[1], cached[2]

    def _draw_lanes(self, p: QPainter) -> None:
        lanes = self.lanes()
        live = {id(t) for t, _ in lanes}
        if len(self._index) > 2 * len(live) + 16:
            self._index = {k: v for k, v in self._index.items() if k in live}
        first_f = max(0, int(self.start))
        last_f = min(self.frame_count - 1, int(self.start + self.visible_frames()) + 1)
        for row in range(self.lane_scroll, len(lanes)):
            y = self.lanes_top + (row - self.lane_scroll) * LANE_H
            if y > self.height():
                break
            track, provisional = lanes[row]
            if track.id in self.selected:
                p.fillRect(QRectF(HEADER_W, y, self.width() - HEADER_W, LANE_H), QColor("#25324a"))
            color = STATE_COLORS[track_state(track, provisional)]
            spans, key_frames = self._track_index(track)
            i = max(0, bisect.bisect_right(spans, (first_f, 10**12)) - 1)
            while i < len(spans) and spans[i][0] <= last_f:
                a, b = spans[i]
                i += 1
                if b < first_f:
                    continue
                a, b = max(a, first_f), min(b, last_f)
                p.fillRect(QRectF(self.x_of(a), y + 3, max(1.5, (b - a + 1) / self.per_px), LANE_H - 6), color)
            # Keyframes as dots: a person's always, the detector's (dense) only when zoomed in.
            if self.per_px < 4:
                p.setPen(QPen(QColor("#ffffff"), 1))
                lo, hi = bisect.bisect_left(key_frames, first_f), bisect.bisect_right(key_frames, last_f)
                for key in track.keyframes[lo:hi]:
                    if key.box is None or (key.source == "auto" and self.per_px > 0.1):
                        continue
                    x = self.x_of(key.frame + 0.5 if self.per_px < 1 else key.frame)
                    p.setBrush(QColor("#ffffff") if key.source == "human" else Qt.NoBrush)
                    p.drawEllipse(QPointF(x, y + LANE_H / 2), 2.5, 2.5)

    def _draw_marks(self, p: QPainter) -> None:
        if self.mark_in is None and self.mark_out is None:
            return
        a = self.mark_in if self.mark_in is not None else 0
        b = self.mark_out if self.mark_out is not None else self.frame_count - 1
        shade = QColor(MARK_COLOR)
        shade.setAlpha(45)
        p.fillRect(QRectF(self.x_of(a), 0, (b - a + 1) / self.per_px, self.height()), shade)
        p.setPen(QPen(ACCENT, 2))
        for frame, text in ((self.mark_in, "I"), (self.mark_out, "O")):
            if frame is None:
                continue
            x = self.x_of(frame if text == "I" else frame + 1)
            p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
            p.drawText(QPointF(x + (3 if text == "I" else -10), RULER_H + 12), text)

    # ------------------------------------------------------------ mouse
    def mousePressEvent(self, event) -> None:  # noqa: ANN001, N802
        if event.button() != Qt.LeftButton or not self.frame_count:
            return
        pos = event.position()
        if pos.x() < HEADER_W:
            lane = self.lane_at(pos.y())
            if lane is not None:
                self.trackClicked.emit(self.lanes()[lane][0].id, bool(event.modifiers() & Qt.ControlModifier))
            return
        segment_id, part = self._segment_hit(pos)
        if segment_id:
            self.segmentClicked.emit(segment_id)
            seg = next(s for s in self.plan.segments if s.id == segment_id)
            self._drag = {"segment": segment_id, "edge": part, "origin": (seg.start, seg.end),
                          "preview": (seg.start, seg.end), "x": pos.x(), "moved": False}
            if part == "body":
                self.setCursor(Qt.ClosedHandCursor)
            return
        lane = self.lane_at(pos.y())
        if lane is not None:
            track, provisional = self.lanes()[lane]
            if not provisional:
                self.trackClicked.emit(track.id, bool(event.modifiers() & Qt.ControlModifier))
        self._drag = {"scrub": True}
        self.scrubbed.emit(self.frame_at_x(pos.x()))

    def mouseMoveEvent(self, event) -> None:  # noqa: ANN001, N802
        pos = event.position()
        if self._drag is None:
            _, part = self._segment_hit(pos)
            cursors = {"start": Qt.SizeHorCursor, "end": Qt.SizeHorCursor, "body": Qt.OpenHandCursor}
            self.setCursor(cursors.get(part, Qt.ArrowCursor))
            if pos.x() >= HEADER_W and self.frame_count:
                frame = self.frame_at_x(pos.x())
                self.setToolTip(f"{self.timecode(frame)} · frame {frame}")
            return
        if self._drag.get("scrub"):
            self.scrubbed.emit(self.frame_at_x(pos.x()))
            return
        drag = self._drag
        start, end = drag["preview"]
        frame = int(round(self.frame_at_x(pos.x(), exact=True)))
        frame = max(0, min(self.frame_count, frame))
        if drag["edge"] == "start":
            start = min(frame, end - 1)
        elif drag["edge"] == "end":
            end = max(frame, start + 1)
        else:
            dx = pos.x() - drag["x"]
            # Zoomed out a pixel is many frames: a click's jitter must not move the segment.
            if not drag["moved"] and abs(dx) < QApplication.startDragDistance():
                return
            drag["moved"] = True
            a, b = drag["origin"]
            shift = max(-a, min(self.frame_count - b, round(dx * self.per_px)))
            start, end = a + shift, b + shift
        if (start, end) == drag["preview"]:
            return
        drag["preview"] = (start, end)
        self.scrubbed.emit(min(end - 1 if drag["edge"] == "end" else start, self.frame_count - 1))
        self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: ANN001, N802
        drag, self._drag = self._drag, None
        if drag and "segment" in drag:
            if drag["preview"] != drag["origin"]:
                self.segmentResized.emit(drag["segment"], *drag["preview"])
            if drag["edge"] == "body":
                self.setCursor(Qt.OpenHandCursor)
        self.update()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: ANN001, N802
        segment_id, _ = self._segment_hit(event.position())
        if segment_id:
            self.segmentActivated.emit(segment_id)

    def wheelEvent(self, event) -> None:  # noqa: ANN001, N802
        delta = event.angleDelta().y() or event.angleDelta().x()
        if event.modifiers() & Qt.ControlModifier:
            self.zoom(1.25 if delta > 0 else 0.8, event.position().x())
        elif event.modifiers() & Qt.ShiftModifier:
            self.lane_scroll = max(0, min(max(0, len(self.lanes()) - 1), self.lane_scroll - (1 if delta > 0 else -1)))
            self.update()
        else:
            self.start -= (delta / 120) * self.visible_frames() * 0.1
            self._fit_mode = False
            self.clamp()
        event.accept()


def _spans(track: Track, first: int, last: int) -> list[tuple[int, int]]:
    """Inclusive frame ranges where the track has a box, clipped to [first, last]."""
    out = []
    keys = track.keyframes
    for i, key in enumerate(keys):
        if key.box is None:
            continue
        a = key.frame
        b = keys[i + 1].frame - 1 if i + 1 < len(keys) else key.frame
        if i + 1 < len(keys) and keys[i + 1].box is not None:
            b = keys[i + 1].frame  # continuous into the next keyframe
        if b < first or a > last:
            continue
        if out and out[-1][1] >= a - 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((max(a, first), min(b, last)))
    return out


class Timeline(QWidget):
    """The canvas plus a horizontal scroll bar in step with it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = TimelineCanvas(self)
        self.bar = QScrollBar(Qt.Horizontal, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.bar)
        self.canvas.viewChanged.connect(self._sync_bar)
        self.bar.valueChanged.connect(self._scrolled)
        self._syncing = False

    def _sync_bar(self) -> None:
        c = self.canvas
        self._syncing = True
        page = int(c.visible_frames())
        self.bar.setRange(0, max(0, c.frame_count - page))
        self.bar.setPageStep(max(1, page))
        self.bar.setSingleStep(max(1, page // 10))
        self.bar.setValue(int(c.start))
        self.bar.setVisible(c.frame_count > page)
        self._syncing = False

    def _scrolled(self, value: int) -> None:
        if not self._syncing:
            self.canvas.start = float(value)
            self.canvas._fit_mode = False
            self.canvas.update()
