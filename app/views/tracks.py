"""The tracks panel: one row per tracked face or manual region.

Columns: thumbnail (the face on its middle frame, from the thumbnail server),
track, first and last time, length, decision, and a "possible minor" badge
whose tooltip gives the age-model evidence. Clicking a row selects the track
(the window jumps to its first frame on double-click); clicking the decision
cell toggles redact/release (the window asks for a reason where one is needed).
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QItemSelectionModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QVBoxLayout, QWidget

from redaction.plan import Plan, Track

from .style import STATE_COLORS, track_state

THUMB_HEIGHT = 44
COLUMNS = ("", "Track", "From", "To", "Length", "Decision")
C_THUMB, C_TRACK, C_FROM, C_TO, C_LEN, C_DECISION = range(6)


def minor_tooltip(track: Track) -> str:
    ev = track.minor_evidence or {}
    if not track.possible_minor:
        return ""
    lines = ["Possible minor (ordinance D.3): may not be released without a release reason code."]
    if ev.get("ages"):
        lines.append("Estimated ages: " + ", ".join(str(a) for a in ev["ages"][:12]))
    if ev.get("frames"):
        lines.append("On frames: " + ", ".join(str(f) for f in ev["frames"][:12]))
    if ev.get("method"):
        lines.append(str(ev["method"]))
    if ev.get("merged_from"):
        lines.append("Merged from tracks: " + ", ".join(ev["merged_from"]))
    return "\n".join(lines)


class TracksModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.tracks: list[tuple[Track, bool]] = []  # (track, still being detected)
        self.timecode = lambda f: str(f)
        self.fps = 30.0
        self.thumbs = None  # ThumbnailServer

    def set_tracks(self, plan: Plan | None, provisional: list[Track]) -> None:
        self.beginResetModel()
        rows = [(t, False) for t in (plan.tracks if plan else [])]
        known = {t.id for t, _ in rows}
        rows += [(t, True) for t in provisional if t.id not in known]
        self.tracks = rows
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.tracks)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802, B008
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: ANN001, ANN201, N802
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return COLUMNS[section]
        return None

    def thumb_key(self, track: Track):  # noqa: ANN201
        first, last = track.first_frame, track.last_frame
        if first is None:
            return None
        frame = (first + last) // 2
        box = track.box_at(frame)
        while box is None and frame > first:  # a hole in the middle: step back to a shown frame
            frame -= 1
            box = track.box_at(frame)
        if box is None:
            return None
        return (frame, tuple(round(v, 1) for v in box.as_list()), THUMB_HEIGHT)

    def data(self, index, role=Qt.DisplayRole):  # noqa: ANN001, ANN201, C901
        if not index.isValid():
            return None
        track, provisional = self.tracks[index.row()]
        col = index.column()
        first, last = track.first_frame or 0, track.last_frame or 0
        state = track_state(track, provisional)
        if role == Qt.DisplayRole:
            if col == C_TRACK:
                kind = track.label if track.kind == "manual" else "face"
                badges = (" · MINOR?" if track.possible_minor else "") + (" · edited" if track.human_touched
                                                                          and track.kind != "manual" else "")
                return f"{track.id}  {kind}{badges}"
            if col == C_FROM:
                return self.timecode(first)
            if col == C_TO:
                return self.timecode(last)
            if col == C_LEN:
                return f"{(last - first + 1) / self.fps:.1f} s"
            if col == C_DECISION:
                if provisional:
                    return "detecting…"
                return {"redact": "● Redact", "release": "○ Release"}.get(track.decision or "", "? Undecided")
        if role == Qt.DecorationRole and col == C_THUMB and self.thumbs is not None:
            key = self.thumb_key(track)
            image = self.thumbs.get(key) if key else None
            if image is not None:
                return QIcon(QPixmap.fromImage(image))
        if role == Qt.ForegroundRole:
            if col == C_DECISION:
                color = STATE_COLORS["redact" if track.decision == "redact" else
                                     "release" if track.decision == "release" else "undecided"]
                return QBrush(STATE_COLORS["detecting"] if provisional else color)
            if col == C_TRACK and track.possible_minor:
                return QBrush(STATE_COLORS["minor"])
            if provisional:
                return QBrush(QColor("#8a8f98"))
        if role == Qt.BackgroundRole and col == C_THUMB:
            return QBrush(STATE_COLORS[state])
        if role == Qt.FontRole and (col == C_DECISION or (col == C_TRACK and track.possible_minor)):
            f = QFont()
            f.setBold(True)
            return f
        if role == Qt.ToolTipRole:
            if col == C_TRACK and track.possible_minor:
                return minor_tooltip(track)
            if col == C_DECISION:
                why = f"\nReason: {track.reason}" if track.reason else ""
                note = f"\nNote: {track.note}" if track.note else ""
                return (f"Click to switch between redact and release.{why}{note}"
                        if not provisional else "Detection is still running.")
            return (f"{track.id}: frames {first}–{last}. Double-click to go to its first frame."
                    + (("\n" + minor_tooltip(track)) if track.possible_minor else ""))
        if role == Qt.TextAlignmentRole and col in (C_FROM, C_TO, C_LEN):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def row_of(self, track_id: str) -> int | None:
        for i, (track, _) in enumerate(self.tracks):
            if track.id == track_id:
                return i
        return None

    def refresh_thumb(self, key) -> None:  # noqa: ANN001
        for i, (track, _) in enumerate(self.tracks):
            if self.thumb_key(track) == key:
                idx = self.index(i, C_THUMB)
                self.dataChanged.emit(idx, idx, [Qt.DecorationRole])


class TracksPanel(QWidget):
    selectionChanged = Signal(list)  # track ids
    activated = Signal(str)  # jump to the track
    decisionClicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = TracksModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setIconSize(QSize(THUMB_HEIGHT, THUMB_HEIGHT))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(THUMB_HEIGHT + 8)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(C_THUMB, QHeaderView.Fixed)
        header.setSectionResizeMode(C_TRACK, QHeaderView.Stretch)
        self.table.setColumnWidth(C_THUMB, THUMB_HEIGHT + 14)
        self.table.setToolTip("Every tracked face and manual region. Select to edit; double-click to jump.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        self._syncing = False
        self.table.selectionModel().selectionChanged.connect(self._selection)
        self.table.doubleClicked.connect(lambda idx: self.activated.emit(self.model.tracks[idx.row()][0].id))
        self.table.clicked.connect(self._clicked)

    def set_tracks(self, plan: Plan | None, provisional: list[Track], selected: list[str]) -> None:
        self._syncing = True
        try:
            self.model.set_tracks(plan, provisional)
            self.set_selected(selected)
        finally:
            self._syncing = False

    def set_selected(self, ids: list[str]) -> None:
        was = self._syncing
        self._syncing = True
        try:
            sel = self.table.selectionModel()
            sel.clearSelection()
            for track_id in ids:
                row = self.model.row_of(track_id)
                if row is not None:
                    sel.select(self.model.index(row, 0), QItemSelectionModel.Select | QItemSelectionModel.Rows)
            if ids:
                row = self.model.row_of(ids[-1])
                if row is not None:
                    self.table.scrollTo(self.model.index(row, 0))
        finally:
            self._syncing = was

    def _selection(self, *_args) -> None:  # noqa: ANN002
        if self._syncing:
            return
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        ids = [self.model.tracks[r][0].id for r in rows if not self.model.tracks[r][1]]
        self.selectionChanged.emit(ids)

    def _clicked(self, index) -> None:  # noqa: ANN001
        track, provisional = self.model.tracks[index.row()]
        if index.column() == C_DECISION and not provisional:
            self.decisionClicked.emit(track.id)
