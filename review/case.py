"""``Case``: one case folder, opened by one signed-in user.

Typical use::

    case = Case.create(folder, title="...", admin="admin", password=...)   # signed in as admin
    case.add_user("alice", "records_officer", password)
    case = Case.open(folder); case.sign_in("alice", password)
    rec = case.ingest("clip.mp4", officer="...").recording
    case.record_detection(rec.id, plan)            # plan from the engine's detector
    case.decide(rec.id, "t1", "redact", "GRAMA-PRIVATE")
    # an approver: case.approve(rec.id, plan_hash_seen)
    case.export(rec.id, "out/")                    # release package

Every method checks the signed-in user's role first; refusals raise
``PermissionDenied`` and are recorded in the ledger. A ``Case`` may be shared
between threads (calls are serialised); two programs may open the same case.
"""

from __future__ import annotations

from .errors import CaseError
from .release import ReleaseMixin
from .store import CaseInfo, parse_time
from .users import UsersMixin
from .workflows import WorkflowsMixin


class Case(UsersMixin, ReleaseMixin, WorkflowsMixin):
    def set_incident(self, incident: str | None, incident_time: str | None = None) -> CaseInfo:
        """Mark (or unmark) the case as an officer-involved critical incident."""
        if incident not in (None, "critical"):
            raise CaseError(f"Unknown incident kind {incident!r}; the only kind is 'critical'.")
        when = parse_time(incident_time, "The incident time") if incident_time else None
        if when and not incident:
            raise CaseError("An incident time only makes sense for a critical incident.")
        with self.write("case.edit", "change the incident details") as tx:
            info = self.info()
            entry = tx.record("case.update", {"title": info.title, "incident": incident, "incident_time": when})
            tx.execute(
                "UPDATE case_info SET incident = ?, incident_time = ?, ledger_seq = ? WHERE id = 1",
                (incident, when, entry.seq),
            )
        self._load_info()
        return self.info()
