"""Errors a user may see.

Every exception raised on purpose by the engine derives from ``RedactionError``
and carries a message written for a records officer, not a programmer: the
command line and the window print ``str(error)`` and nothing else.
"""

from __future__ import annotations


class RedactionError(Exception):
    """A failure with a message fit to show to the user as it is."""


class InputError(RedactionError):
    """The input file cannot be used (missing, not a video, corrupt, truncated)."""


class PlanError(RedactionError):
    """A redaction plan is malformed or does not belong to the video."""


class ExportError(RedactionError):
    """Writing a release failed; nothing was left at the release path."""


class Cancelled(RedactionError):
    """The user asked a long job to stop; nothing partial was kept."""

    def __init__(self, message: str = "Cancelled; nothing was written.") -> None:
        super().__init__(message)
