"""Next-of-kin preview mode (ordinance D.3, D.4): a full-screen viewer for one
viewing, driven by ``review.nok.PreviewSession``.

What it shows is decided by the case layer: an approved release package, or
the original only after the family's D.3 request is recorded; the file is
checked against its SHA-256 and the viewing's start (who attended, what was
shown) is recorded before the first frame appears, and its end when the
window closes, however it closes.

It offers no way to take the footage away: no export, save, copy or print,
no context menu, no frame grab; while it is open, the application's other
shortcuts are blocked, so the main window's export or copy cannot fire behind
it. A watermark with the case and session id is painted over every frame.
On Windows the window is excluded from screen capture
(``SetWindowDisplayAffinity``); other systems offer no such switch, so
operating-system screenshots there are a matter for the room, not the app.

Content warnings are listed beside the picture; the host can jump to one or
skip past it, and playback pauses a few seconds before each so the host can
prepare the family. Frames are decoded with ``redaction.decode.FrameReader``
(QtMultimedia is not available), so sound is not played.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
from datetime import datetime

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QKeySequence, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from redaction.decode import FrameReader
from redaction.errors import RedactionError
from review.nok import ContentWarning, PreviewSession

WARNING_LEAD_SECONDS = 3.0
_BLOCKED_KEYS = (QKeySequence.Copy, QKeySequence.Save, QKeySequence.SaveAs, QKeySequence.Print, QKeySequence.Cut)
WDA_EXCLUDEFROMCAPTURE = 0x11


def _image(rgb: np.ndarray) -> QImage:
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, rgb.strides[0], QImage.Format_RGB888).copy()


def exclude_from_capture(widget: QWidget) -> bool:
    """Ask the system to leave this window out of screenshots and recordings (Windows 10 2004+)."""
    if sys.platform != "win32":
        return False
    with contextlib.suppress(Exception):
        return bool(ctypes.windll.user32.SetWindowDisplayAffinity(int(widget.winId()), WDA_EXCLUDEFROMCAPTURE))
    return False


class _Screen(QWidget):
    """The picture with the watermark painted over it."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self.image: QImage | None = None
        self.watermark = ""

    def paintEvent(self, _event) -> None:  # noqa: N802, ANN001 - Qt override
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.black)
        if self.image is not None:
            size = self.image.size().scaled(self.size(), Qt.KeepAspectRatio)
            x, y = (self.width() - size.width()) / 2, (self.height() - size.height()) / 2
            painter.setRenderHint(QPainter.SmoothPixmapTransform)
            painter.drawImage(QRectF(x, y, size.width(), size.height()), self.image)
        self._paint_watermark(painter)
        painter.end()

    def _paint_watermark(self, painter: QPainter) -> None:
        if not self.watermark:
            return
        painter.setRenderHint(QPainter.Antialiasing)
        font = QFont()
        font.setPixelSize(max(12, self.height() // 28))
        font.setBold(True)
        painter.setFont(font)
        # A band at the top that no crop of the picture avoids, its text shrunk to fit...
        band_font = QFont(font)
        while band_font.pixelSize() > 8 and QFontMetrics(band_font).horizontalAdvance(self.watermark) > self.width() - 16:
            band_font.setPixelSize(band_font.pixelSize() - 1)
        band = QRectF(0, 0, self.width(), band_font.pixelSize() * 1.8)
        painter.fillRect(band, QColor(0, 0, 0, 150))
        painter.setFont(band_font)
        painter.setPen(QColor(255, 255, 255, 230))
        painter.drawText(band, Qt.AlignCenter, self.watermark)
        painter.setFont(font)
        # ... and the same text tiled diagonally across the picture itself.
        painter.save()
        painter.translate(self.width() / 2, self.height() / 2)
        painter.rotate(-25)
        step_y = font.pixelSize() * 5
        span = int((self.width() + self.height()) * 0.8)
        for row, offset in enumerate(range(-span, span, step_y)):
            path = QPainterPath()
            path.addText(-span + (row % 2) * step_y * 2, offset, font, (self.watermark + "     ") * 4)
            painter.strokePath(path, QPen(QColor(0, 0, 0, 70), 2))
            painter.fillPath(path, QColor(255, 255, 255, 70))
        painter.restore()


class _ShortcutBlocker(QObject):
    """Stops shortcuts of other windows (export, copy, save...) while the viewing runs."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.blocked = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() in (QEvent.Shortcut, QEvent.ShortcutOverride):
            inside = isinstance(watched, QWidget) and (watched is self.window or self.window.isAncestorOf(watched))
            if event.type() == QEvent.Shortcut and not inside:
                self.blocked += 1
                return True
            if event.type() == QEvent.ShortcutOverride and any(event.matches(k) for k in _BLOCKED_KEYS):
                self.blocked += 1
                event.accept()
                return True
        return False


class PreviewWindow(QWidget):
    """One next-of-kin viewing, full screen. Call ``begin()`` to record its start and play."""

    ended = Signal(object)  # the Viewing, with its end recorded

    def __init__(self, session: PreviewSession, reader: FrameReader | None = None) -> None:
        super().__init__(None, Qt.Window)  # a window of its own: the main window's shortcuts stay out
        self.session = session
        self.reader = reader or FrameReader(session.path, cache_size=8)
        self.timebase = self.reader.timebase
        self.frame_count = self.reader.frame_count
        self.position = 0
        self.playing = False
        self._announced: set[int] = set()
        self._ended = False
        self.setWindowTitle("Next-of-kin viewing")
        self.setContextMenuPolicy(Qt.NoContextMenu)
        self.setStyleSheet("background: black; color: white;")
        self.screen_view = _Screen(self)
        self.banner = QLabel("")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #7a1c1c; color: white; padding: 10px; font-size: 16px;")
        self.banner.hide()
        self.position_label = QLabel("")
        self.play_button = QPushButton("Play")
        self.play_button.clicked.connect(self.toggle)
        back = QPushButton("Back 10 s")
        back.clicked.connect(lambda: self.seek(self.position - int(10 * self._fps())))
        end = QPushButton("End viewing")
        end.clicked.connect(self.confirm_end)
        controls = QHBoxLayout()
        for widget in (self.play_button, back, self.position_label):
            controls.addWidget(widget)
        controls.addStretch(1)
        controls.addWidget(end)
        side = QVBoxLayout()
        title = QLabel("Content warnings" if session.warnings else "No content warnings recorded")
        title.setStyleSheet("font-weight: bold;")
        side.addWidget(title)
        self.warning_buttons: list[tuple[ContentWarning, QPushButton, QPushButton | None]] = []
        for warning in session.warnings:
            side.addWidget(QLabel(f"{self.timebase.timecode(warning.start_frame)[:8]}  {warning.label}"))
            row = QHBoxLayout()
            go = QPushButton("Go to")
            go.clicked.connect(lambda _=False, w=warning: self.jump_to(w))
            row.addWidget(go)
            skip = None
            if warning.end_frame is not None:
                skip = QPushButton("Skip past")
                skip.clicked.connect(lambda _=False, w=warning: self.skip_past(w))
                row.addWidget(skip)
            side.addLayout(row)
            self.warning_buttons.append((warning, go, skip))
        side.addStretch(1)
        main = QVBoxLayout(self)
        main.setContentsMargins(0, 0, 0, 0)
        body = QHBoxLayout()
        picture = QVBoxLayout()
        picture.addWidget(self.banner)
        picture.addWidget(self.screen_view, 1)
        picture.addLayout(controls)
        body.addLayout(picture, 1)
        body.addLayout(side)
        main.addLayout(body)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.tick)
        self.blocker = _ShortcutBlocker(self)

    # ------------------------------------------------------------- viewing
    def begin(self) -> None:
        """Record the start (who attends, what is shown), then show the first frame."""
        viewing = self.session.start()
        self.screen_view.watermark = self.session.watermark + f"  {datetime.now().strftime('%Y-%m-%d')}"
        self.setWindowTitle(f"Next-of-kin viewing {viewing.id}")
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.blocker)
        self.show_frame(0)

    def showEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        super().showEvent(event)
        exclude_from_capture(self)

    def _finish(self, note: str = "") -> None:
        """Stop and record the end of the viewing, once."""
        if self._ended:
            return
        self._ended = True
        self.pause()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.blocker)
        try:
            viewing = self.session.end(note)
        except RedactionError as error:
            QMessageBox.warning(self, "Viewing", f"The end of the viewing could not be recorded: {error}")
            viewing = None
        finally:
            self.reader.close()
        self.ended.emit(viewing)

    def end_viewing(self, note: str = "") -> None:
        """Stop, record the end of the viewing, close."""
        self._finish(note)
        self.close()

    def confirm_end(self) -> None:
        answer = QMessageBox.question(self, "End viewing", "End the viewing now?")
        if answer == QMessageBox.Yes:
            self.end_viewing()

    def closeEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        self._finish()  # however the window closes, the end is recorded
        super().closeEvent(event)

    # ------------------------------------------------------------ playback
    def _fps(self) -> float:
        return self.timebase.average_fps or 30.0

    def show_frame(self, index: int) -> None:
        if self._ended:
            return  # the decoder is closed with the viewing
        index = max(0, min(index, self.frame_count - 1))
        try:
            rgb = self.reader.read(index).to_rgb()
        except (RedactionError, IndexError) as error:
            self.pause()
            self.banner.setText(f"The picture cannot be shown: {error}")
            self.banner.show()
            return
        self.position = index
        self.screen_view.image = _image(rgb)
        self.position_label.setText(f"{self.timebase.timecode(index)[:8]} / {self.timebase.timecode(self.frame_count - 1)[:8]}")
        self.screen_view.update()

    def play(self) -> None:
        if self._ended:
            return
        self.playing = True
        self.play_button.setText("Pause")
        self.banner.hide()
        self.timer.start(max(1, int(1000 / self._fps())))

    def pause(self) -> None:
        self.playing = False
        self.play_button.setText("Play")
        self.timer.stop()

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def seek(self, index: int) -> None:
        self.show_frame(index)

    def tick(self) -> None:
        if self.position + 1 >= self.frame_count:
            self.pause()
            return
        upcoming = self._upcoming(self.position + 1)
        if upcoming is not None:
            self._announced.add(upcoming.id)
            self.pause()
            self.banner.setText(f"Coming up in about {WARNING_LEAD_SECONDS:.0f} seconds: {upcoming.label}. "
                                "Play to continue" + (", or Skip past." if upcoming.end_frame is not None else "."))
            self.banner.show()
            return
        self.show_frame(self.position + 1)

    def _upcoming(self, index: int) -> ContentWarning | None:
        lead = int(WARNING_LEAD_SECONDS * self._fps())
        for warning in self.session.warnings:
            if warning.id not in self._announced and warning.start_frame - lead <= index <= warning.start_frame:
                return warning
        return None

    def jump_to(self, warning: ContentWarning) -> None:
        self._announced.add(warning.id)  # the host chose to go there: no second announcement
        self.pause()
        self.show_frame(warning.start_frame)

    def skip_past(self, warning: ContentWarning) -> None:
        self._announced.add(warning.id)
        self.pause()
        self.show_frame(warning.end_frame if warning.end_frame is not None else warning.start_frame + 1)

    # ------------------------------------------------------------- keys
    def keyPressEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        if any(event.matches(k) for k in _BLOCKED_KEYS) or event.key() == Qt.Key_Print:
            event.accept()  # nothing to copy, save or print here
            return
        if event.key() == Qt.Key_Space:
            self.toggle()
        elif event.key() == Qt.Key_Escape:
            self.confirm_end()
        else:
            super().keyPressEvent(event)


def run_preview(case, source, attendees: list[str], note: str = "") -> int:  # noqa: ANN001
    """Hold a viewing from the command line: open the window full screen until it ends."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    session = PreviewSession(case, source, attendees, note)
    window = PreviewWindow(session)
    window.begin()
    window.showFullScreen()
    app.exec()
    viewing = session.viewing
    if viewing is not None:
        print(f"Viewing {viewing.id}: {viewing.started_at} to {viewing.ended_at or '(end not recorded)'}")
    return 0
