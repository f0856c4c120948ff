"""Smaller panels: the transport row under the player, the review-pass bar and
the job panel in the status bar (progress, ETA, Cancel)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QToolButton, QWidget

from ..reviewpass import ReviewItem
from ..workers import Job, format_eta


class Transport(QWidget):
    """Buttons bound to the window's playback actions, and the time read-out."""

    def __init__(self, actions: list, parent: QWidget | None = None) -> None:  # noqa: ANN001 - QActions
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setSpacing(2)
        for action in actions:
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setAutoRaise(True)
            button.setToolButtonStyle(Qt.ToolButtonIconOnly)
            button.setIconSize(QSize(22, 22))
            layout.addWidget(button)
        layout.addSpacing(12)
        self.time = QLabel("--:--:--.---")
        font = QFont("DejaVu Sans Mono")
        font.setStyleHint(QFont.Monospace)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.time.setFont(font)
        self.time.setToolTip("Time of the frame shown / length of the recording; frame number (Ctrl+G to go to)")
        layout.addWidget(self.time)
        layout.addStretch(1)
        self.zoom = QLabel("")
        self.zoom.setObjectName("subtitle")
        layout.addWidget(self.zoom)

    def show_time(self, timecode: str, total: str, frame: int, count: int) -> None:
        self.time.setText(f"{timecode} / {total}   ·   frame {frame} / {max(0, count - 1)}")


class ReviewBar(QFrame):
    """Review pass: one item at a time, with the decisions it needs at hand."""

    previous = Signal()
    next = Signal()
    redact = Signal(str)
    release = Signal(str)
    leave = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewBar")
        self.item: ReviewItem | None = None
        self.label = QLabel("")
        self.label.setWordWrap(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        title = QLabel("<b>REVIEW PASS</b>")
        layout.addWidget(title)
        layout.addWidget(self.label, 1)
        self.buttons = {}
        for name, text, tip in (
            ("previous", "◀ Previous", "Previous item (Shift+N)"),
            ("redact", "Redact", "Redact this track (R)"),
            ("release", "Release…", "Release this track (Shift+R); a possible minor needs a reason"),
            ("next", "Next ▶", "Next item (N)"),
            ("leave", "Done", "Leave the review pass (F6)"),
        ):
            button = QPushButton(text)
            button.setToolTip(tip)
            layout.addWidget(button)
            self.buttons[name] = button
        self.buttons["previous"].clicked.connect(self.previous.emit)
        self.buttons["next"].clicked.connect(self.next.emit)
        self.buttons["leave"].clicked.connect(self.leave.emit)
        self.buttons["redact"].clicked.connect(lambda: self.item and self.redact.emit(self.item.track_id))
        self.buttons["release"].clicked.connect(lambda: self.item and self.release.emit(self.item.track_id))

    def show_item(self, item: ReviewItem | None, position: int, count: int, undecided: int) -> None:
        self.item = item
        if item is None:
            self.label.setText("Nothing left to review: every track has a decision and no released face shows. "
                               "You can export (Ctrl+E).")
        else:
            self.label.setText(f"{position} of {count}: {item.text}.  "
                               f"{undecided} track{'s' if undecided != 1 else ''} still undecided.")
        for name in ("redact", "release"):
            self.buttons[name].setEnabled(item is not None)
        for name in ("previous", "next"):
            self.buttons[name].setEnabled(count > 0)


class JobPanel(QWidget):
    """The running job in the status bar: what, how far, how long, and Cancel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job: Job | None = None
        self.label = QLabel("")
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setMaximumHeight(16)
        self.bar.setTextVisible(False)
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop this job; nothing partial is kept")
        self.cancel.clicked.connect(self._cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel)
        self.hide()

    def track(self, job: Job) -> None:
        self.job = job
        self.label.setText(f"{job.title}…")
        self.bar.setRange(0, 0)
        self.cancel.setEnabled(True)
        job.progress.connect(self._progress)
        job.ended.connect(self._ended)
        self.show()

    def _progress(self, done: int, total: int) -> None:
        if self.job is None:
            return
        if total:
            self.bar.setRange(0, total)
            self.bar.setValue(done)
        eta = self.job.eta.update(done, total)
        pct = f"{100 * done / total:.0f}% · " if total else ""
        self.label.setText(f"{self.job.title}: {pct}{format_eta(eta)}")

    def _cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel.setEnabled(False)
            self.label.setText(f"{self.job.title}: cancelling…")

    def _ended(self) -> None:
        self.job = None
        self.hide()
