"""The window's state: an open case, the recording under review, its plan, the
current frame, the selection and the in/out marks, with signals for the views.

Every change of the plan goes through ``Session.apply(edit)``: the edit
(``redaction.edits``) is applied to a copy of the plan, the copy is saved with
``Case.save_plan`` (tracks and segments, one transaction, only what changed
enters the ledger) and decisions are brought in line with ``Case.decide`` /
``withdraw_decision``; then the plan is read back from the case, so what the
window shows is exactly what the case holds, under the signed-in user. The
undo stack holds the edits (``app.undo``).

Plans are treated as immutable once published: an edit builds a new one, so
worker threads (frame previews, thumbnails) can keep a reference safely.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from redaction import edits
from redaction.errors import PlanError
from redaction.plan import Plan, Track
from redaction.probe import MediaInfo, probe
from review import Case
from review.auth import allowed
from review.reasons import load_reasons


class Session(QObject):
    planChanged = Signal()
    frameChanged = Signal(int)
    selectionChanged = Signal()
    marksChanged = Signal()
    recordingChanged = Signal()
    userChanged = Signal()
    provisionalChanged = Signal()
    error = Signal(str)  # an undo/redo that the case refused

    def __init__(self, case: Case, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.case = case
        self.recording = None
        self.info: MediaInfo | None = None
        self.plan: Plan | None = None
        self.frame = 0
        self.selected: list[str] = []  # track ids
        self.selected_segment: str | None = None
        self.mark_in: int | None = None
        self.mark_out: int | None = None
        self.provisional: list[Track] = []  # detection results so far, not yet in the case
        self.undo = QUndoStack(self)
        self.undo.setUndoLimit(500)

    # ------------------------------------------------------------- who and what
    @property
    def path(self):  # noqa: ANN201 - pathlib.Path
        return self.case.layout.root

    def can(self, permission: str) -> bool:
        user = self.case.user
        return user is not None and allowed(user.role.value, permission)

    @property
    def can_edit(self) -> bool:
        return self.can("plan.edit")

    def sign_in(self, name: str, password: str) -> None:
        self.case.sign_in(name, password)
        self.undo.clear()  # an undo would act as the new user on the old user's work
        self.userChanged.emit()
        if self.recording is not None:
            self.reload()

    def open_recording(self, recording_id: int) -> None:
        rec = self.case.recording(recording_id)
        info = probe(rec.path)
        plan = self.case.plan(rec.id)
        self.recording, self.info, self.plan = rec, info, plan
        self.frame = 0
        self.selected, self.selected_segment = [], None
        self.mark_in = self.mark_out = None
        self.provisional = []
        self.undo.clear()
        self.recordingChanged.emit()
        self.planChanged.emit()
        self.selectionChanged.emit()
        self.marksChanged.emit()
        self.frameChanged.emit(0)

    def reload(self) -> None:
        if self.recording is None:
            return
        self.plan = self.case.plan(self.recording.id)
        self._prune_selection()
        self.planChanged.emit()

    @property
    def frame_count(self) -> int:
        return self.info.frame_count if self.info else 0

    def timecode(self, frame: int) -> str:
        return self.info.timebase.timecode(frame) if self.info else ""

    # ------------------------------------------------------------- navigation
    def set_frame(self, frame: int) -> None:
        if not self.info:
            return
        frame = max(0, min(int(frame), self.frame_count - 1))
        if frame != self.frame:
            self.frame = frame
            self.frameChanged.emit(frame)

    def select_tracks(self, ids: list[str]) -> None:
        ids = list(dict.fromkeys(ids))
        if ids != self.selected or (ids and self.selected_segment):
            self.selected = ids
            if ids:
                self.selected_segment = None
            self.selectionChanged.emit()

    def select_segment(self, segment_id: str | None) -> None:
        if segment_id != self.selected_segment:
            self.selected_segment = segment_id
            if segment_id:
                self.selected = []
            self.selectionChanged.emit()

    def set_mark(self, which: str, frame: int | None) -> None:
        if which == "in":
            self.mark_in = frame
            if frame is not None and self.mark_out is not None and self.mark_out < frame:
                self.mark_out = None
        else:
            self.mark_out = frame
            if frame is not None and self.mark_in is not None and self.mark_in > frame:
                self.mark_in = None
        self.marksChanged.emit()

    def _prune_selection(self) -> None:
        ids = {t.id for t in self.plan.tracks} if self.plan else set()
        segments = {s.id for s in self.plan.segments} if self.plan else set()
        kept = [i for i in self.selected if i in ids]
        segment = self.selected_segment if self.selected_segment in segments else None
        if kept != self.selected or segment != self.selected_segment:
            self.selected, self.selected_segment = kept, segment
            self.selectionChanged.emit()

    # ------------------------------------------------------------- editing
    def apply(self, edit: edits.Edit) -> bool:
        """Make ``edit`` in the case and put it on the undo stack. Errors propagate
        (as ``RedactionError`` with a message for the user); nothing is pushed then."""
        from .undo import EditCommand

        if edit.empty:
            return False
        self.commit(edit)
        self.undo.push(EditCommand(self, edit))
        return True

    def commit(self, edit: edits.Edit) -> None:
        """Bring the case to the edit's "after" state (used by apply, undo and redo)."""
        if self.plan is None or self.recording is None:
            raise PlanError("Open a recording first.")
        target = edits.copy_plan(self.plan)
        edit.apply(target)
        touched = {c.id for c in edit.tracks} | {c.track_id for c in edit.decisions}
        wanted = {t.id: edits.decision_state(t) for t in target.tracks if t.id in touched}
        table = load_reasons()
        for decision, reason, _note in wanted.values():  # refuse before writing anything
            if decision == "redact" and reason:
                table.check(reason, "withhold")
            elif decision == "release" and reason:
                table.check(reason, "release")
        rec = self.recording.id
        try:
            current = self.case.save_plan(rec, target) if edit.changes_geometry else self.plan
            have = {t.id: edits.decision_state(t) for t in current.tracks}
            for track_id, state in wanted.items():
                if have.get(track_id, (None, None, "")) == state:
                    continue
                if state[0] is None:
                    if have.get(track_id, (None,))[0] is not None:
                        self.case.withdraw_decision(rec, track_id)
                else:
                    self.case.decide(rec, track_id, state[0], state[1], state[2])
        finally:
            # Whatever happened, show what the case now holds.
            self.plan = self.case.plan(rec)
            self._prune_selection()
            self.planChanged.emit()
        if edit.select:
            if any(t.id == edit.select for t in self.plan.tracks):
                self.select_tracks([edit.select])
            elif any(s.id == edit.select for s in self.plan.segments):
                self.select_segment(edit.select)

    # ------------------------------------------------------------- detection
    def show_provisional(self, tracks: list[Track]) -> None:
        self.provisional = tracks
        self.provisionalChanged.emit()

    def record_detection(self, plan: Plan, replace: bool) -> None:
        self.case.record_detection(self.recording.id, plan, replace=replace)
        self.provisional = []
        self.undo.clear()  # edits before a new detection no longer apply
        self.provisionalChanged.emit()
        self.reload()
