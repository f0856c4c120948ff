"""Next-of-kin steps and viewings (ordinance D.3 and D.4).

Records (records officers or preview hosts, ``nok.record``): the consulted
trauma and grief organisation (D.4a), the notification of the impending
release with its date (D.4b), the offer of a viewing and the family's answer
(D.4c), and the family's request to see the unredacted recording (D.3), which
is what allows a viewing of the original at all. Content-warning markers
(frame ranges with a label) let the host prepare the family and skip ahead.

Viewings (preview hosts only, ``preview.host``) show either an approved
release package (``exports/<id>/release.mp4``: exported only from an approved
plan) or, after a recorded D.3 request, the unredacted original. The file's
SHA-256 is checked before the viewing starts and recorded with who attended,
the start and the end. ``PreviewSession`` is what the full-screen preview
window drives; it knows nothing about Qt.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from .errors import CaseError
from .hashing import canonical_json, sha256_file
from .store import CaseStore, parse_time
from .workdays import iso, parse_date

OFFER_RESPONSES = ("accepted", "declined", "pending")


@dataclass(frozen=True)
class NokRecord:
    id: int
    kind: str  # consult, notify, offer, request_unredacted
    recording_id: int | None
    occurred_at: str
    details: dict[str, Any]
    recorded_by: str
    recorded_at: str

    def describe(self) -> str:
        d = self.details
        if self.kind == "consult":
            return f"consulted {d['organisation']}" + (f" ({d['contact']})" if d.get("contact") else "")
        if self.kind == "notify":
            return f"notified {d['person']} of the release on {d['release_date']}" + (
                f" by {d['method']}" if d.get("method") else "")
        if self.kind == "offer":
            return f"offered {d['person']} a viewing: {d['response']}"
        return f"{d['requested_by']} asked to see recording {self.recording_id} unredacted (D.3)"


@dataclass(frozen=True)
class ContentWarning:
    id: int
    recording_id: int
    start_frame: int
    end_frame: int | None  # exclusive; None: a point
    label: str


@dataclass(frozen=True)
class PreviewSource:
    """Something a preview host may show: an approved release, or an original after a D.3 request."""

    kind: str  # release, unredacted
    recording_id: int
    path: Path
    sha256: str
    label: str
    export_id: str | None = None
    request_id: int | None = None


@dataclass(frozen=True)
class Viewing:
    id: str
    recording_id: int
    shown: str
    export_id: str | None
    media_sha256: str
    request_id: int | None
    attendees: list[str]
    host: str
    started_at: str
    ended_at: str | None
    in_app: bool
    note: str


def _when(text: str | None, what: str) -> str:
    when = parse_time(text, what) if text else iso(datetime.now(UTC))
    if text and datetime.fromisoformat(when.replace("Z", "+00:00")) > datetime.now(UTC):
        raise CaseError(f"{what} is in the future; record steps once they happened.")
    return when


def _required(value: str, what: str) -> str:
    if not (value or "").strip():
        raise CaseError(f"{what} is required.")
    return value.strip()


class NokMixin(CaseStore):
    # ----------------------------------------------------------------- records
    def _nok(self, kind: str, details: dict[str, Any], occurred_at: str | None,
             recording_id: int | None = None) -> NokRecord:
        with self.write("nok.record", f"record a next-of-kin {kind.replace('_', ' ')}") as tx:
            if recording_id is not None:
                self._recording(recording_id)
            when = _when(occurred_at, "The time")
            payload = {"kind": kind, "recording": recording_id, "occurred_at": when, "details": details}
            entry = tx.record("nok.record", payload)
            record_id = tx.insert("nok_records", {
                "kind": kind, "recording_id": recording_id, "occurred_at": when, "details": canonical_json(details),
                "recorded_by": tx.actor, "recorded_at": entry.time, "ledger_seq": entry.seq})
        return NokRecord(record_id, kind, recording_id, when, details, entry.actor, entry.time)

    def nok_consult(self, organisation: str, *, contact: str = "", occurred_at: str | None = None,
                    note: str = "") -> NokRecord:
        """D.4a: the trauma and grief organisation consulted on the viewing."""
        details = {"organisation": _required(organisation, "The organisation"), "contact": contact.strip(),
                   "note": note.strip()}
        return self._nok("consult", details, occurred_at)

    def nok_notify(self, person: str, release_date: str, *, method: str = "", relationship: str = "",
                   occurred_at: str | None = None, note: str = "") -> NokRecord:
        """D.4b: the family told of the impending release and its date."""
        day = parse_date(release_date, "The release date")
        if day < date.today():
            raise CaseError(f"The release date {day} is in the past; give the date the release will happen.")
        details = {"person": _required(person, "The person notified"), "relationship": relationship.strip(),
                   "release_date": day.isoformat(), "method": method.strip(), "note": note.strip()}
        return self._nok("notify", details, occurred_at)

    def nok_offer(self, person: str, response: str, *, occurred_at: str | None = None, note: str = "") -> NokRecord:
        """D.4c: a viewing offered before release, and the family's answer."""
        if response not in OFFER_RESPONSES:
            raise CaseError(f"The answer must be one of: {', '.join(OFFER_RESPONSES)}.")
        details = {"person": _required(person, "The person offered a viewing"), "response": response,
                   "note": note.strip()}
        return self._nok("offer", details, occurred_at)

    def nok_request_unredacted(self, recording_id: int, requested_by: str, *, relationship: str = "",
                               occurred_at: str | None = None, note: str = "") -> NokRecord:
        """D.3: the family asked to see the recording without redactions."""
        details = {"requested_by": _required(requested_by, "Who asked"), "relationship": relationship.strip(),
                   "note": note.strip()}
        return self._nok("request_unredacted", details, occurred_at, int(recording_id))

    def nok_records(self) -> list[NokRecord]:
        self.require("case.read", "read the next-of-kin records")
        with self._lock:
            rows = self.conn.execute("SELECT id, kind, recording_id, occurred_at, details, recorded_by, recorded_at "
                                     "FROM nok_records ORDER BY id").fetchall()
        return [NokRecord(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6]) for r in rows]

    # --------------------------------------------------------- content warnings
    def add_content_warning(self, recording_id: int, start_frame: int, end_frame: int | None, label: str) -> ContentWarning:
        recording_id = int(recording_id)
        with self.write("nok.record", f"add a content warning to recording {recording_id}") as tx:
            rec = self._recording(recording_id)
            frames = (rec.media or {}).get("frame_count")
            if start_frame < 0 or (frames and start_frame >= frames):
                raise CaseError(f"Frame {start_frame} is outside recording {recording_id}.")
            if end_frame is not None and (end_frame <= start_frame or (frames and end_frame > frames)):
                raise CaseError("The warning must end after it starts and inside the recording.")
            payload = {"recording": recording_id, "start": int(start_frame),
                       "end": None if end_frame is None else int(end_frame), "label": _required(label, "A label")}
            entry = tx.record("nok.warning", payload)
            warning_id = tx.insert("content_warnings", {
                "recording_id": recording_id, "start_frame": payload["start"], "end_frame": payload["end"],
                "label": payload["label"], "added_by": tx.actor, "added_at": entry.time, "ledger_seq": entry.seq})
        return ContentWarning(warning_id, recording_id, payload["start"], payload["end"], payload["label"])

    def content_warnings(self, recording_id: int) -> list[ContentWarning]:
        self.require("case.read", f"read the content warnings of recording {recording_id}")
        with self._lock:
            rows = self.conn.execute("SELECT id, recording_id, start_frame, end_frame, label FROM content_warnings "
                                     "WHERE recording_id = ? ORDER BY start_frame, id", (int(recording_id),)).fetchall()
        return [ContentWarning(*r) for r in rows]

    # ---------------------------------------------------------------- viewings
    def preview_sources(self) -> list[PreviewSource]:
        """What may be shown to the family: every approved release package, and the
        original of each recording the family asked to see unredacted (D.3)."""
        self.require("case.read", "list what may be shown in a viewing")
        sources = []
        with self._lock:
            exports = self.conn.execute(
                "SELECT e.id, e.recording_id, e.release_path, e.release_sha256, a.approver, a.approved_at FROM exports e "
                "JOIN approvals a ON a.id = e.approval_id ORDER BY e.ledger_seq").fetchall()
            requests = self.conn.execute(
                "SELECT n.id, n.recording_id, r.evidence_path, r.sha256, n.details FROM nok_records n "
                "JOIN recordings r ON r.id = n.recording_id WHERE n.kind = 'request_unredacted' ORDER BY n.id"
            ).fetchall()
        for export_id, rec_id, rel, sha, approver, approved in exports:
            sources.append(PreviewSource("release", rec_id, self.layout.root / rel, sha,
                                         f"release {export_id} of recording {rec_id} (approved by {approver}, "
                                         f"{approved[:10]})", export_id=export_id))
        seen = set()
        for request_id, rec_id, rel, sha, details in reversed(requests):
            if rec_id in seen:
                continue
            seen.add(rec_id)
            who = json.loads(details).get("requested_by")
            sources.append(PreviewSource("unredacted", rec_id, self.layout.root / rel, sha,
                                         f"recording {rec_id} UNREDACTED (requested by {who} under D.3)",
                                         request_id=request_id))
        return sources

    def _check_source(self, source: PreviewSource) -> PreviewSource:
        for known in self.preview_sources():
            if (known.kind, known.recording_id, known.export_id) == (source.kind, source.recording_id, source.export_id):
                return known
        if source.kind == "unredacted":
            raise CaseError(f"Recording {source.recording_id} may only be shown unredacted after the family's "
                            "request under D.3 is recorded (bwc-redact nok request-unredacted).")
        raise CaseError("Only an approved release package may be shown; export the approved plan first.")

    def _viewing_payload(self, viewing_id: str, source: PreviewSource, attendees: list[str], started: str,
                         ended: str | None, in_app: bool, note: str) -> dict[str, Any]:
        return {"viewing": viewing_id, "recording": source.recording_id, "shown": source.kind,
                "export": source.export_id, "media_sha256": source.sha256, "request": source.request_id,
                "attendees": attendees, "started_at": started, "ended_at": ended, "in_app": in_app, "note": note}

    def _save_viewing(self, tx: Any, action: str, payload: dict[str, Any], host: str) -> None:
        entry = tx.record(action, {**payload, "host": host})
        tx.execute(
            "INSERT INTO nok_viewings (id, recording_id, shown, export_id, media_sha256, request_id, attendees, host, "
            "started_at, ended_at, in_app, note, ledger_seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT (id) DO UPDATE SET ended_at = excluded.ended_at, note = excluded.note, "
            "ledger_seq = excluded.ledger_seq",
            (payload["viewing"], payload["recording"], payload["shown"], payload["export"], payload["media_sha256"],
             payload["request"], canonical_json(payload["attendees"]), host, payload["started_at"],
             payload["ended_at"], int(payload["in_app"]), payload["note"], entry.seq),
        )

    def start_viewing(self, source: PreviewSource, attendees: list[str], note: str = "") -> Viewing:
        """Begin a viewing in the app (preview hosts only); the file is checked against its hash first."""
        attendees = [a.strip() for a in attendees if a and a.strip()]
        with self.write("preview.host", f"start a viewing of recording {source.recording_id}") as tx:
            if not attendees:
                raise CaseError("Name who attends the viewing.")
            known = self._check_source(source)
            if sha256_file(known.path) != known.sha256:
                raise CaseError(f"{known.path.name} no longer matches its recorded SHA-256; it cannot be shown. "
                                "Run `bwc-redact verify`.")
            viewing_id = f"V{secrets.token_hex(4).upper()}"
            payload = self._viewing_payload(viewing_id, known, attendees, iso(datetime.now(UTC)), None, True,
                                            note.strip())
            self._save_viewing(tx, "nok.view.start", payload, tx.actor)
        return self.viewing(viewing_id)

    def end_viewing(self, viewing_id: str, note: str = "") -> Viewing:
        with self.write("preview.host", f"end viewing {viewing_id}") as tx:
            current = self._viewing_row(viewing_id)
            if current.ended_at:
                raise CaseError(f"Viewing {viewing_id} already ended at {current.ended_at}.")
            payload = {"viewing": current.id, "recording": current.recording_id, "shown": current.shown,
                       "export": current.export_id, "media_sha256": current.media_sha256,
                       "request": current.request_id, "attendees": current.attendees,
                       "started_at": current.started_at, "ended_at": iso(datetime.now(UTC)), "in_app": current.in_app,
                       "note": "; ".join(n for n in (current.note, note.strip()) if n)}
            self._save_viewing(tx, "nok.view.end", payload, current.host)
        return self.viewing(viewing_id)

    def record_viewing(self, source: PreviewSource, attendees: list[str], started_at: str, ended_at: str,
                       note: str = "") -> Viewing:
        """Record a viewing held without this app (on department equipment, say)."""
        attendees = [a.strip() for a in attendees if a and a.strip()]
        with self.write("preview.host", f"record a viewing of recording {source.recording_id}") as tx:
            if not attendees:
                raise CaseError("Name who attended the viewing.")
            known = self._check_source(source)
            start, end = _when(started_at, "The start"), _when(ended_at, "The end")
            if end <= start:
                raise CaseError("The viewing must end after it starts.")
            viewing_id = f"V{secrets.token_hex(4).upper()}"
            payload = self._viewing_payload(viewing_id, known, attendees, start, end, False, note.strip())
            self._save_viewing(tx, "nok.view.record", payload, tx.actor)
        return self.viewing(viewing_id)

    def _viewing_row(self, viewing_id: str) -> Viewing:
        with self._lock:
            row = self.conn.execute("SELECT id, recording_id, shown, export_id, media_sha256, request_id, attendees, "
                                    "host, started_at, ended_at, in_app, note FROM nok_viewings WHERE id = ?",
                                    (viewing_id,)).fetchone()
        if row is None:
            raise CaseError(f"There is no viewing {viewing_id} in this case.")
        return Viewing(*row[:6], json.loads(row[6]), row[7], row[8], row[9], bool(row[10]), row[11])

    def viewing(self, viewing_id: str) -> Viewing:
        self.require("case.read", f"read viewing {viewing_id}")
        return self._viewing_row(viewing_id)

    def viewings(self) -> list[Viewing]:
        self.require("case.read", "read the viewings")
        with self._lock:
            ids = [r[0] for r in self.conn.execute("SELECT id FROM nok_viewings ORDER BY started_at")]
        return [self._viewing_row(i) for i in ids]


class PreviewSession:
    """One next-of-kin viewing as the preview window runs it: what is shown, the
    watermark, the content warnings, and the start and end records."""

    def __init__(self, case: NokMixin, source: PreviewSource, attendees: list[str], note: str = "") -> None:
        self.case = case
        self.source = source
        self.attendees = list(attendees)
        self.note = note
        self.viewing: Viewing | None = None
        self.warnings = case.content_warnings(source.recording_id)

    @property
    def path(self) -> Path:
        return self.source.path

    @property
    def watermark(self) -> str:
        session = self.viewing.id if self.viewing else "not started"
        shown = "UNREDACTED (D.3 request)" if self.source.kind == "unredacted" else "release candidate"
        return f"CONFIDENTIAL  case {self.case.info().case_id}  session {session}  {shown}"

    def start(self) -> Viewing:
        if self.viewing is None:
            self.viewing = self.case.start_viewing(self.source, self.attendees, self.note)
        return self.viewing

    def end(self, note: str = "") -> Viewing | None:
        if self.viewing is not None and self.viewing.ended_at is None:
            self.viewing = self.case.end_viewing(self.viewing.id, note)
        return self.viewing
