"""Cases, evidence custody, roles and the hash-chained ledger (Qt-free).

Public API: ``Case`` (open/create a case folder and work in it), ``verify_case``
(check everything), the roles and permission table in ``review.auth``, the
reason codes in ``review.reasons``.
"""

from .auth import PERMISSIONS, ROLE_TITLES, Role, User
from .case import Case
from .errors import CaseError, PermissionDenied, SignInError
from .ingest import IngestResult, Recording
from .ledger import Entry
from .planstore import Decision, plan_hash, track_hash
from .reasons import Reason, ReasonTable, load_reasons
from .release import Approval, ExportRecord
from .store import CaseInfo

__all__ = [
    "PERMISSIONS",
    "ROLE_TITLES",
    "Approval",
    "Case",
    "CaseError",
    "CaseInfo",
    "Decision",
    "Entry",
    "ExportRecord",
    "IngestResult",
    "PermissionDenied",
    "Reason",
    "ReasonTable",
    "Recording",
    "Role",
    "SignInError",
    "User",
    "load_reasons",
    "plan_hash",
    "track_hash",
]
