"""The ordinance's case-level workflows as one mixin of ``Case``, and how their
tables answer to the ledger (so ``verify`` cross-checks them like the rest).

- ``review.clocks``: critical-incident clocks (C.1, C.2, C.4, C.5, D.1, D.4)
- ``review.mutes``: mute and deactivation records (B.2) and the mute finder
- ``review.nok``: next-of-kin steps, content warnings and viewings (D.3, D.4)

The department-level side (monthly audits, quarterly reports) lives in a
registry folder: ``review.registry``.
"""

from __future__ import annotations

from .clocks import ClocksMixin
from .hashing import canonical_json
from .mirrors import ACTOR, TIME, KeyedMirror, Mirror, P, as_int, register
from .mutes import MutesMixin
from .nok import NokMixin


class WorkflowsMixin(ClocksMixin, MutesMixin, NokMixin):
    pass


def _json_text(*path: str):  # noqa: ANN202 - a mirrors getter
    """A payload value as the canonical JSON text a keyed table stores."""
    get = P(*path)
    return lambda entry: canonical_json(get(entry))


_MIRRORS = [
    (KeyedMirror("incident_facts", ("id",), lambda e: (1,), ("incident.facts",), (),
                 {"death": as_int(P("death")), "note": P("note")}),
     {"incident.facts": "case.edit"}),
    (Mirror("clock_receipts", "clock.receive", "id",
            {"kind": P("kind"), "received_at": P("received_at"), "reference": P("reference"), "note": P("note"),
             "recorded_by": ACTOR, "recorded_at": TIME}),
     {"clock.receive": "clock.mark"}),
    (Mirror("clock_marks", "clock.done", "id",
            {"item": P("item"), "done_at": P("done_at"), "note": P("note"), "marked_by": ACTOR, "marked_at": TIME}),
     {"clock.done": "clock.mark"}),
    (Mirror("mute_detections", "mute.detect", "id",
            {"recording_id": P("recording"), "candidates": P("candidates"), "settings": P("settings"),
             "run_by": ACTOR, "run_at": TIME},
            frozenset({"candidates", "settings"})),
     {"mute.detect": "mute.record"}),
    (Mirror("camera_events", "mute.record", "id",
            {"recording_id": P("recording"), "kind": P("kind"), "start_seconds": P("start"),
             "end_seconds": P("end"), "occurred_at": P("occurred_at"), "officer": P("officer"),
             "stated_reason": P("stated_reason"), "source": P("source"), "detection_id": P("detection"),
             "note": P("note"), "recorded_by": ACTOR, "recorded_at": TIME}),
     {"mute.record": "mute.record"}),
    (Mirror("camera_event_withdrawals", "mute.withdraw", "id",
            {"event_id": P("event"), "reason": P("reason"), "withdrawn_by": ACTOR, "withdrawn_at": TIME}),
     {"mute.withdraw": "mute.record"}),
    (Mirror("nok_records", "nok.record", "id",
            {"kind": P("kind"), "recording_id": P("recording"), "occurred_at": P("occurred_at"),
             "details": P("details"), "recorded_by": ACTOR, "recorded_at": TIME},
            frozenset({"details"})),
     {"nok.record": "nok.record"}),
    (Mirror("content_warnings", "nok.warning", "id",
            {"recording_id": P("recording"), "start_frame": P("start"), "end_frame": P("end"), "label": P("label"),
             "added_by": ACTOR, "added_at": TIME}),
     {"nok.warning": "nok.record"}),
    (KeyedMirror("nok_viewings", ("id",), lambda e: (e.payload.get("viewing"),),
                 ("nok.view.start", "nok.view.end", "nok.view.record"), (),
                 {"recording_id": P("recording"), "shown": P("shown"), "export_id": P("export"),
                  "media_sha256": P("media_sha256"), "request_id": P("request"),
                  "attendees": _json_text("attendees"), "host": P("host"), "started_at": P("started_at"),
                  "ended_at": P("ended_at"), "in_app": as_int(P("in_app")), "note": P("note")}),
     {"nok.view.start": "preview.host", "nok.view.end": "preview.host", "nok.view.record": "preview.host"}),
    # The registry's tables (review.registry, review.audits, review.reports).
    (KeyedMirror("registry_info", ("id",), lambda e: (1,), ("registry.setup", "registry.settings"), (),
                 {"name": P("name"), "timezone": P("timezone"), "holidays": _json_text("holidays")}),
     {"registry.settings": "registry.manage"}),
    (KeyedMirror("registered_cases", ("case_id",), lambda e: (e.payload.get("case"),), ("registry.register",), (),
                 {"path": P("path"), "title": P("title")}),
     {"registry.register": "registry.manage"}),
    (Mirror("audits", "audit.draw", "id",
            {"id": P("audit"), "month": P("month"), "seed": P("seed"), "requested": P("requested"),
             "population": P("population"), "population_sha256": P("population_sha256"), "sample": P("sample"),
             "drawn_by": ACTOR, "drawn_at": TIME},
            frozenset({"population", "sample"})),
     {"audit.draw": "audit.record"}),
    (Mirror("audit_findings", "audit.finding", "id",
            {"audit_id": P("audit"), "case_id": P("case"), "recording_id": P("recording"),
             "recording_sha256": P("sha256"), "checklist": P("checklist"), "material": as_int(P("material")),
             "note": P("note"), "auditor": ACTOR, "recorded_at": TIME},
            frozenset({"checklist"})),
     {"audit.finding": "audit.record"}),
    (Mirror("audit_referrals", "audit.referral", "id",
            {"audit_id": P("audit"), "findings": P("findings"), "folder": P("folder"), "files": P("files"),
             "referred_by": ACTOR, "referred_at": TIME},
            frozenset({"findings", "files"})),
     {"audit.referral": "audit.record"}),
    (Mirror("reports", "report.quarterly", "id",
            {"id": P("report"), "kind": P("kind"), "period": P("period"), "folder": P("folder"), "files": P("files"),
             "instances": P("instances"), "made_by": ACTOR, "made_at": TIME},
            frozenset({"files"})),
     {"report.quarterly": "report.produce"}),
]

for _mirror, _permissions in _MIRRORS:
    register(_mirror, _permissions)
