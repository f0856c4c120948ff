"""The start page: open, create or reopen a case, or try the demo."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class WelcomePage(QWidget):
    openCase = Signal()
    newCase = Signal()
    openDemo = Signal()
    openRecent = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("bwc-redact")
        title.setObjectName("title")
        subtitle = QLabel("Review and redact body-worn-camera footage. The original is never altered; "
                          "every step is recorded in the case ledger.")
        subtitle.setObjectName("subtitle")
        subtitle.setWordWrap(True)
        buttons = QHBoxLayout()
        for text, signal, tip in (
            ("Open case…", self.openCase, "Open an existing case folder (Ctrl+O)"),
            ("New case…", self.newCase, "Create a case folder with its accounts (Ctrl+N)"),
            ("Try the demo", self.openDemo, "A demo case with generated footage and real detections"),
        ):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.setMinimumHeight(36)
            button.clicked.connect(signal.emit)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.recent = QListWidget()
        self.recent.setToolTip("Double-click to reopen a case")
        self.recent.itemActivated.connect(lambda item: self.openRecent.emit(item.data(Qt.UserRole)))
        box = QVBoxLayout()
        box.addWidget(title)
        box.addWidget(subtitle)
        box.addSpacing(16)
        box.addLayout(buttons)
        box.addSpacing(24)
        box.addWidget(QLabel("<b>Recent cases</b>"))
        box.addWidget(self.recent, 1)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        inner = QWidget()
        inner.setLayout(box)
        inner.setMaximumWidth(720)
        outer.addWidget(inner, 4)
        outer.addStretch(1)

    def set_recent(self, paths: list[str]) -> None:
        self.recent.clear()
        for path in paths:
            exists = Path(path, "case.db").exists()
            item = QListWidgetItem(f"{Path(path).name}    —    {path}" + ("" if exists else "   (missing)"))
            item.setData(Qt.UserRole, path)
            if not exists:
                item.setFlags(item.flags() & ~Qt.ItemIsEnabled)
            self.recent.addItem(item)
        if not paths:
            item = QListWidgetItem("No recent cases yet.")
            item.setFlags(Qt.NoItemFlags)
            self.recent.addItem(item)
