"""The due-dates dashboard: every critical-incident clock item of a case, or
of every case of a registry, overdue first, refreshed each minute so an item
turns overdue on screen when its deadline passes.

``DueDashboard(load, calendar, mark=None)``: ``load()`` returns the
``ClockItem`` list (``DueDashboard.for_case`` / ``for_registry`` build it);
``mark(item, note)`` marks one done (a case's ``mark_done``); the case layer
checks the role, and a refusal is shown as its one-sentence message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from redaction.errors import RedactionError
from review.clocks import MARKABLE, STATUS_ORDER, ClockItem, compute, read_facts
from review.workdays import WorkCalendar, utc

STATUS_COLORS = {
    "overdue": "#f4c7c3", "due": "#fff2cc", "in progress": "#fff2cc", "unknown": "#eeeeee",
    "open": "#ffffff", "done": "#d9ead3", "closed": "#eeeeee", "n/a": "#eeeeee",
}
COLUMNS = ["Status", "Case", "Item", "Section", "Due", "What", "Done", "Note"]
REFRESH_MS = 60_000


class DueDashboard(QWidget):
    def __init__(
        self,
        load: Callable[[datetime], list[ClockItem]],
        calendar: WorkCalendar,
        mark: Callable[[ClockItem, str], object] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Critical-incident deadlines")
        self._load, self.calendar, self._mark = load, calendar, mark
        self.items: list[ClockItem] = []
        self.shown: list[ClockItem] = []
        self.summary = QLabel()
        self.only_open = QCheckBox("Only what is not done")
        self.only_open.toggled.connect(self._fill)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        self.mark_button = QPushButton("Mark done…")
        self.mark_button.setEnabled(False)
        self.mark_button.setVisible(mark is not None)
        self.mark_button.clicked.connect(self._mark_selected)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.only_open)
        top.addWidget(self.mark_button)
        top.addWidget(refresh)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        # Due texts can be long ("before public release ..."): wrap them in a fixed column.
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.Interactive)
        self.table.setColumnWidth(4, 300)
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        # Wrapped rows take their height from the column widths, known only once laid out.
        self.table.horizontalHeader().sectionResized.connect(lambda *_: self.table.resizeRowsToContents())
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(REFRESH_MS)
        self.refresh()

    # ------------------------------------------------------------ builders
    @classmethod
    def for_case(cls, case, calendar: WorkCalendar | None = None, parent: QWidget | None = None) -> DueDashboard:  # noqa: ANN001
        calendar = calendar or WorkCalendar.default()
        return cls(lambda now: case.clocks(now, calendar), calendar,
                   lambda item, note: case.mark_done(item.key, note=note), parent)

    @classmethod
    def for_registry(cls, registry, parent: QWidget | None = None) -> DueDashboard:  # noqa: ANN001
        calendar = registry.calendar()

        def load(now: datetime) -> list[ClockItem]:
            return [item for _, case in registry.each_case()
                    for item in compute(read_facts(case.conn, case.info()), now, calendar)]

        return cls(load, calendar, None, parent)

    # ------------------------------------------------------------- content
    def refresh(self, now: datetime | None = None) -> None:
        try:
            self.items = self._load(now or datetime.now(UTC))
        except RedactionError as error:
            self.items = []
            self.summary.setText(str(error))
            self._fill()
            return
        counts = {s: sum(1 for i in self.items if i.status == s) for s in ("overdue", "due", "done")}
        self.summary.setText(f"{counts['overdue']} overdue, {counts['due']} due, {counts['done']} done "
                             f"({self.calendar.describe()})" if self.items else
                             "No critical-incident case with an incident time.")
        self._fill()

    def _local(self, stamp: str | None) -> str:
        return self.calendar.local(utc(stamp)).strftime("%a %Y-%m-%d %H:%M") if stamp else ""

    def _fill(self) -> None:
        items = [i for i in self.items if not self.only_open.isChecked() or i.status not in ("done", "n/a", "closed")]
        self.shown = sorted(items, key=lambda i: (STATUS_ORDER.get(i.status, 9), i.due or "9", i.case_title, i.key))
        self.table.setRowCount(len(self.shown))
        for row, item in enumerate(self.shown):
            done = f"{self._local(item.done_at)} by {item.done_by}" + (" (late)" if item.late else "") \
                if item.done_at else ""
            values = [item.status.upper() if item.status == "overdue" else item.status, item.case_title, item.key,
                      item.section, item.due_text, item.title, done, item.note]
            color = QBrush(QColor(STATUS_COLORS.get(item.status, "#ffffff")))
            for column, value in enumerate(values):
                cell = QTableWidgetItem(value)
                cell.setBackground(color)
                cell.setForeground(QBrush(QColor("#111111")))
                if column == 0:
                    cell.setTextAlignment(Qt.AlignCenter)
                self.table.setItem(row, column, cell)
        self.table.resizeRowsToContents()
        self._selection_changed()

    def selected_item(self) -> ClockItem | None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        return self.shown[rows.pop()] if len(rows) == 1 else None

    def _markable(self, item: ClockItem | None) -> bool:
        return bool(item and item.status not in ("done", "n/a", "closed")
                    and (item.key in MARKABLE or item.key[:3] in ("C4-", "C5-")))

    def _selection_changed(self) -> None:
        self.mark_button.setEnabled(self._mark is not None and self._markable(self.selected_item()))

    def _mark_selected(self) -> None:
        item = self.selected_item()
        if self._mark is None or not self._markable(item):
            return
        note, ok = QInputDialog.getText(self, f"Mark {item.key} done", f"{item.title}\n\nNote (optional):")
        if ok:
            self.mark(item, note)

    def mark(self, item: ClockItem, note: str = "") -> bool:
        """Mark ``item`` done through the model; a refusal is shown, never raised."""
        assert self._mark is not None
        try:
            self._mark(item, note)
        except RedactionError as error:
            QMessageBox.warning(self, "Not marked", str(error))
            return False
        self.refresh()
        return True
