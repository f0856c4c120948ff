"""Undo and redo: a QUndoCommand per edit, over ``redaction.edits``.

A command's first ``redo`` is skipped because ``Session.apply`` has already
made the edit (and refused to push it if the case said no). A drag is built
into one edit before it reaches the stack, so it undoes in one step. If the
case refuses an undo or redo (another user signed in, another program changed
the case), the window shows why, reloads the plan from the case and clears the
history, which no longer matches what the case holds.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QUndoCommand

from redaction.edits import Edit
from redaction.errors import RedactionError


class EditCommand(QUndoCommand):
    def __init__(self, session, edit: Edit) -> None:  # noqa: ANN001 - app.state.Session
        super().__init__(edit.label)
        self.session = session
        self.edit = edit
        self._done = True

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self._run(self.edit, "Redo")

    def undo(self) -> None:
        self._run(self.edit.inverse(), "Undo")

    def _run(self, edit: Edit, verb: str) -> None:
        try:
            self.session.commit(edit)
        except RedactionError as error:
            self.session.error.emit(f"{verb} of “{self.edit.label}” was refused: {error} The edit history was cleared.")
            QTimer.singleShot(0, self.session.undo.clear)
