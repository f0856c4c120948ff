"""Error dialogs: one clear sentence for a person, never a traceback."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from redaction.errors import RedactionError

from ..workers import log_unexpected


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    box = QMessageBox(QMessageBox.Warning, title, message, QMessageBox.Ok, parent)
    box.setObjectName("errorDialog")
    box.exec()


def describe(what: str, error: BaseException) -> str:
    """The message a person sees for ``error`` raised while doing ``what``."""
    if isinstance(error, RedactionError):
        return str(error)
    if isinstance(error, OSError):
        from redaction.fsutil import describe_os_error

        return describe_os_error(error, getattr(error, "filename", None) or "the file")
    return log_unexpected(what)


def report_error(parent: QWidget | None, what: str, error: BaseException) -> None:
    show_error(parent, what, describe(what, error))
