"""Small dialogs: sign-in, new case, reason codes, segments, go to, shortcuts."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from redaction.errors import RedactionError
from review.reasons import load_reasons


def _buttons(dialog: QDialog, ok_text: str = "OK") -> QDialogButtonBox:
    box = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, dialog)
    box.button(QDialogButtonBox.Ok).setText(ok_text)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


def _error_label() -> QLabel:
    label = QLabel("")
    label.setStyleSheet("color: #ff8b8b;")
    label.setWordWrap(True)
    label.hide()
    return label


class SignInDialog(QDialog):
    """Ask for a user name and password; ``attempt(name, password)`` raises on failure."""

    def __init__(self, case_title: str, attempt, users: list[str] | None = None, user: str | None = None,  # noqa: ANN001
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sign in")
        self._attempt = attempt
        self.name = QComboBox()
        self.name.setEditable(True)
        self.name.addItems(users or [])
        if user:
            self.name.setCurrentText(user)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.Password)
        self.error = _error_label()
        intro = QLabel(f"Sign in to the case <b>{case_title}</b>. Everything you do is recorded in its ledger "
                       "under your name.")
        intro.setWordWrap(True)
        form = QFormLayout()
        form.addRow("User", self.name)
        form.addRow("Password", self.password)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "Sign in"))
        self.setMinimumWidth(420)
        (self.password if user else self.name).setFocus()

    def accept(self) -> None:
        try:
            self._attempt(self.name.currentText().strip(), self.password.text())
        except RedactionError as error:
            self.error.setText(str(error))
            self.error.show()
            self.password.selectAll()
            self.password.setFocus()
            return
        super().accept()


class NewCaseDialog(QDialog):
    """A new case folder with its administrator and, usually, the first records officer."""

    def __init__(self, parent: QWidget | None = None, start_dir: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("New case")
        self.folder = QLineEdit(start_dir)
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        self.title = QLineEdit()
        self.title.setPlaceholderText("e.g. 2026-1103 Main St")
        self.critical = QCheckBox("Officer-involved critical incident")
        self.admin = QLineEdit("admin")
        self.admin_pw = QLineEdit()
        self.admin_pw.setEchoMode(QLineEdit.Password)
        self.officer = QLineEdit()
        self.officer.setPlaceholderText("your user name, e.g. alice")
        self.officer_pw = QLineEdit()
        self.officer_pw.setEchoMode(QLineEdit.Password)
        self.error = _error_label()
        form = QFormLayout()
        form.addRow("Case folder (new)", row)
        form.addRow("Title", self.title)
        form.addRow("", self.critical)
        form.addRow(QLabel("<b>Administrator</b> (manages accounts only)"))
        form.addRow("Name", self.admin)
        form.addRow("Password", self.admin_pw)
        form.addRow(QLabel("<b>Records officer</b> (reviews and redacts; you are signed in as this user)"))
        form.addRow("Name", self.officer)
        form.addRow("Password", self.officer_pw)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "Create case"))
        self.setMinimumWidth(520)
        self.result_case = None

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "New case folder", self.folder.text() or str(Path.home()))
        if path:
            self.folder.setText(path)

    def accept(self) -> None:
        from review import Case

        try:
            if not self.folder.text().strip() or not self.title.text().strip():
                raise RedactionError("Give the case a folder and a title.")
            if not self.officer.text().strip():
                raise RedactionError("Name the records officer who will review this case (you, usually).")
            case = Case.create(Path(self.folder.text().strip()).expanduser(), title=self.title.text().strip(),
                               admin=self.admin.text().strip(), password=self.admin_pw.text(),
                               incident="critical" if self.critical.isChecked() else None)
            try:
                case.add_user(self.officer.text().strip(), "records_officer", self.officer_pw.text())
                case.sign_in(self.officer.text().strip(), self.officer_pw.text())
            except RedactionError:
                case.close()
                raise
        except RedactionError as error:
            self.error.setText(str(error))
            self.error.show()
            return
        self.result_case = case
        super().accept()


class ReasonDialog(QDialog):
    """Pick a reason code (``use`` "withhold" or "release") and an optional note."""

    def __init__(self, title: str, message: str, use: str, *, required: bool, current: str | None = None,
                 parent: QWidget | None = None, allow_none_label: str = "(no reason code)") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.required = required
        self.codes = QComboBox()
        if not required:
            self.codes.addItem(allow_none_label, None)
        for reason in load_reasons().offered(use):
            self.codes.addItem(f"{reason.code} — {reason.label}", reason.code)
            self.codes.setItemData(self.codes.count() - 1, reason.citation, Qt.ToolTipRole)
        if current:
            i = self.codes.findData(current)
            if i >= 0:
                self.codes.setCurrentIndex(i)
        self.citation = QLabel()
        self.citation.setWordWrap(True)
        self.citation.setObjectName("subtitle")
        self.codes.currentIndexChanged.connect(self._show_citation)
        self.note = QLineEdit()
        self.note.setPlaceholderText("optional note (never replaces the code)")
        text = QLabel(message)
        text.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Reason", self.codes)
        form.addRow("", self.citation)
        form.addRow("Note", self.note)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(form)
        layout.addWidget(_buttons(self))
        self.setMinimumWidth(560)
        self._show_citation()

    def _show_citation(self) -> None:
        code = self.codes.currentData()
        self.citation.setText(load_reasons().get(code).citation if code else "")

    @property
    def code(self) -> str | None:
        return self.codes.currentData()


class SegmentDialog(QDialog):
    """What a segment hides (picture, sound) and under which ordinance reason."""

    def __init__(self, start_text: str, end_text: str, *, video: bool = True, audio: str | None = None,
                 reason: str | None = None, note: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Segment")
        self.blackout = QCheckBox("Black out the whole picture")
        self.blackout.setChecked(video)
        self.audio = QComboBox()
        self.audio.addItem("Keep the sound", None)
        self.audio.addItem("Mute the sound", "mute")
        self.audio.addItem("Replace the sound with a tone", "tone")
        self.audio.setCurrentIndex(max(0, self.audio.findData(audio)))
        self.codes = QComboBox()
        for r in load_reasons().offered("withhold"):
            self.codes.addItem(f"{r.code} — {r.label}", r.code)
            self.codes.setItemData(self.codes.count() - 1, r.citation, Qt.ToolTipRole)
        if reason:
            self.codes.setCurrentIndex(max(0, self.codes.findData(reason)))
        self.note = QLineEdit(note)
        self.note.setPlaceholderText("optional note")
        self.error = _error_label()
        form = QFormLayout()
        form.addRow("Range", QLabel(f"{start_text} to {end_text}"))
        form.addRow("Picture", self.blackout)
        form.addRow("Sound", self.audio)
        form.addRow("Reason", self.codes)
        form.addRow("Note", self.note)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "Save segment"))
        self.setMinimumWidth(520)

    def accept(self) -> None:
        if not self.blackout.isChecked() and self.audio.currentData() is None:
            self.error.setText("A segment hides the picture, the sound, or both: choose at least one.")
            self.error.show()
            return
        super().accept()

    def values(self) -> dict:
        return {"video": "blackout" if self.blackout.isChecked() else None, "audio": self.audio.currentData(),
                "reason": self.codes.currentData(), "note": self.note.text()}


class GoToDialog(QDialog):
    """Jump to a frame number or a time (HH:MM:SS.mmm, MM:SS or seconds)."""

    def __init__(self, timebase, current: int, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.setWindowTitle("Go to")
        self.timebase = timebase
        self.field = QLineEdit(timebase.timecode(current))
        self.field.selectAll()
        self.error = _error_label()
        hint = QLabel("A time such as 00:01:23.400, 1:23 or 83.4 — or a frame number such as #2500.")
        hint.setObjectName("subtitle")
        layout = QVBoxLayout(self)
        layout.addWidget(self.field)
        layout.addWidget(hint)
        layout.addWidget(self.error)
        layout.addWidget(_buttons(self, "Go"))
        self.frame: int | None = None

    def accept(self) -> None:
        text = self.field.text().strip()
        try:
            if text.startswith("#") or text.lower().startswith("f"):
                frame = int(text.lstrip("#fF").strip())
            else:
                seconds = 0.0
                for part in text.split(":"):
                    seconds = seconds * 60 + float(part)
                frame = self.timebase.frame_at(seconds)
        except ValueError:
            self.error.setText("Write a time like 00:01:23.400 or a frame like #2500.")
            self.error.show()
            return
        self.frame = max(0, min(frame, len(self.timebase) - 1))
        super().accept()


class ShortcutsDialog(QDialog):
    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        table = QTableWidget(len(rows), 2, self)
        table.setHorizontalHeaderLabels(["Keys", "Action"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.NoEditTriggers)
        table.setSelectionMode(QTableWidget.NoSelection)
        for i, (keys, action) in enumerate(rows):
            table.setItem(i, 0, QTableWidgetItem(keys))
            table.setItem(i, 1, QTableWidgetItem(action))
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeToContents)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.Stretch)
        box = QDialogButtonBox(QDialogButtonBox.Close, self)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(box)
        self.resize(560, 620)
