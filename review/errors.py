"""Errors of the case layer, all fit to show to a user as they are.

They derive from ``redaction.errors.RedactionError`` so the command line and
the window print ``str(error)`` and nothing else, exactly as for the engine.
"""

from __future__ import annotations

from redaction.errors import RedactionError


class CaseError(RedactionError):
    """The case folder or its database cannot be used as asked."""


class PermissionDenied(CaseError):
    """The signed-in user's role does not allow the action; the attempt is in the ledger."""


class SignInError(CaseError):
    """Wrong user name or password, or a disabled account; the attempt is in the ledger."""
