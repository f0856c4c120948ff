"""The main window's "Workflows" menu: the due-dates dashboard and the
next-of-kin viewing, for the case open in the window.

``install(window)`` is the only thing the main window calls; it needs
``window.menuBar()`` and ``window.session`` (None, or an object whose
``.case`` is the open ``review.Case``). Everything the actions do is checked
by the case layer; refusals are shown as their one-sentence message.
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QWidget,
)

from redaction.errors import RedactionError
from review.nok import PreviewSession, PreviewSource

from .dashboard import DueDashboard
from .preview import PreviewWindow


class ViewingDialog(QDialog):
    """Choose what to show and who attends."""

    def __init__(self, sources: list[PreviewSource], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Next-of-kin viewing")
        self.sources = sources
        self.choice = QComboBox()
        for source in sources:
            self.choice.addItem(source.label)
        self.attendees = QPlainTextEdit()
        self.attendees.setPlaceholderText("One name per line, e.g.\nMaria Roe (mother)")
        self.note = QPlainTextEdit()
        self.note.setMaximumHeight(60)
        form = QFormLayout(self)
        form.addRow(QLabel("The viewing is recorded in the case ledger: who attended, what was shown, start and end."))
        form.addRow("Show", self.choice)
        form.addRow("Attending", self.attendees)
        form.addRow("Note", self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Start the viewing")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def selected(self) -> tuple[PreviewSource, list[str], str]:
        names = [line.strip() for line in self.attendees.toPlainText().splitlines() if line.strip()]
        return self.sources[self.choice.currentIndex()], names, self.note.toPlainText().strip()


class WorkflowMenu:
    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self.open_windows: list[QWidget] = []  # keep top-level windows alive
        bar = window.menuBar()
        self.menu = bar.addMenu("W&orkflows")
        help_menu = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
        if help_menu is not None:  # by convention Help stays last
            bar.insertAction(help_menu, self.menu.menuAction())
        self.deadlines = QAction("Critical-incident &deadlines…", window)
        self.deadlines.setToolTip("What is due, overdue or done under ordinance C and D")
        self.deadlines.triggered.connect(self.show_deadlines)
        self.viewing = QAction("Next-of-kin &viewing…", window)
        self.viewing.setToolTip("Full-screen viewing for the family (preview hosts; ordinance D.4)")
        self.viewing.triggered.connect(self.start_viewing)
        self.menu.addAction(self.deadlines)
        self.menu.addAction(self.viewing)
        self.menu.aboutToShow.connect(self._update)
        self._update()

    def _case(self):  # noqa: ANN202
        session = getattr(self.window, "session", None)
        return getattr(session, "case", None)

    def _update(self) -> None:
        has_case = self._case() is not None
        self.deadlines.setEnabled(has_case)
        self.viewing.setEnabled(has_case)

    def _keep(self, widget: QWidget) -> None:
        self.open_windows = [w for w in self.open_windows if w.isVisible()] + [widget]

    def show_deadlines(self) -> DueDashboard | None:
        case = self._case()
        if case is None:
            return None
        try:
            board = DueDashboard.for_case(case)
        except RedactionError as error:
            QMessageBox.warning(self.window, "Deadlines", str(error))
            return None
        board.setWindowTitle(f"Deadlines: {case.info().title}")
        board.resize(1200, 420)
        board.show()
        self._keep(board)
        return board

    def start_viewing(self, choice: tuple[PreviewSource, list[str], str] | None = None) -> PreviewWindow | None:
        case = self._case()
        if case is None:
            return None
        try:
            case.require("preview.host", "open a next-of-kin viewing")
            if choice is None:
                sources = case.preview_sources()
                if not sources:
                    raise RedactionError("There is nothing to show yet: export an approved release, or record the "
                                         "family's D.3 request to see the original.")
                dialog = ViewingDialog(sources, self.window)
                if not dialog.exec():
                    return None
                choice = dialog.selected()
            source, attendees, note = choice
            preview = PreviewWindow(PreviewSession(case, source, attendees, note))
            try:
                preview.begin()
            except BaseException:
                preview.reader.close()
                preview.deleteLater()
                raise
        except RedactionError as error:
            QMessageBox.warning(self.window, "Next-of-kin viewing", str(error))
            return None
        preview.showFullScreen()
        self._keep(preview)
        return preview


def install(window: QMainWindow) -> WorkflowMenu:
    """Add the Workflows menu to ``window``'s menu bar."""
    menu = WorkflowMenu(window)
    window.workflow_menu = menu  # type: ignore[attr-defined]
    return menu
