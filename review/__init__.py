"""Cases, evidence custody, roles and the hash-chained ledger (Qt-free).

Public API: ``Case`` (open/create a case folder and work in it), ``verify_case``
(check everything), the roles and permission table in ``review.auth``, the
reason codes in ``review.reasons``.

Building on it (new workflows: viewings, audits, mute records, clocks):

- a new table: append a ``@migration`` function to ``review/schema.py``; give the
  table a ``ledger_seq`` column, and make it append-only with ``_append_only``
  when its rows are records of events;
- a new action: inside ``with case.write("some.permission", "what is attempted")
  as tx:`` insert rows (``tx.insert``/``tx.execute``) and ``tx.record(action,
  payload)``; the permission check, its refusal record, the transaction, the
  checkpoint and the ledger file all come with it;
- a new permission: add it to ``review.auth.PERMISSIONS`` with the roles allowed;
- verification of the new rows: ``review.mirrors.register(Mirror(...),
  {action: permission})``.
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
from .verify import Finding, VerifyReport, verify_case

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
    "Finding",
    "IngestResult",
    "PermissionDenied",
    "Reason",
    "ReasonTable",
    "Recording",
    "Role",
    "SignInError",
    "User",
    "VerifyReport",
    "load_reasons",
    "plan_hash",
    "track_hash",
    "verify_case",
]
