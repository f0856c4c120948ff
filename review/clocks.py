"""Critical-incident clocks (ordinance C and D): what is due, by when, and what is done.

From the incident time of a case marked ``critical``:

====== ========================================================= ==========================================
item   what                                                      due
====== ========================================================= ==========================================
C1     Chief notifies City Attorney, Council Chair, Mayor and     24 hours after the incident (exact, UTC)
       Mayor's Chief of Staff of the facts
C2     secure links to all unedited footage and 911 calls to      5 days (120 hours) after the incident
       Mayor, Council Members and City Attorney
D1     unedited full-length recording classified public           end of the 10th business day after the
                                                                  incident's local date
D4a-c  consult a trauma/grief organisation; notify the family     before the release date given in the
       with the release date; offer (and facilitate) a viewing    notification (only when someone died)
C4-n   notify City Attorney, Mayor's Office and Council of a      end of the 5th business day after receipt,
       GRAMA request for the footage                              for requests received within four years
C5-n   notify Council and Mayor's Office of a notice of claim     the same
====== ========================================================= ==========================================

Hours are counted in UTC, so daylight-saving changes cannot move a deadline;
days are counted on the department's calendar (``review.workdays``). C1, C2,
D1, C4-n and C5-n are marked done by a records officer or an approver (who,
when, a note); the D4 steps are done by recording them (``review.nok``), so
the record of the step is the evidence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .errors import CaseError
from .store import CaseStore, parse_time
from .workdays import WorkCalendar, add_years, iso, utc

MARKABLE = ("C1", "C2", "D1")
D4_KEYS = ("D4a", "D4b", "D4c")
SKEW = timedelta(minutes=5)  # a done time this far in the future is a clock difference, not a lie

# Order in which a dashboard lists statuses: what needs attention first.
STATUS_ORDER = {"overdue": 0, "due": 1, "in progress": 2, "open": 3, "unknown": 4, "done": 5, "closed": 6, "n/a": 7}


@dataclass(frozen=True)
class ClockItem:
    key: str
    section: str  # ordinance section, e.g. "C.1"
    title: str
    responsible: str
    due: str | None  # UTC ``...Z``; None: no date yet
    due_text: str
    status: str  # overdue, due, in progress, open, unknown, done, closed, n/a
    done_at: str | None = None
    done_by: str | None = None
    note: str = ""
    late: bool = False  # done after it was due
    case_id: str = ""
    case_title: str = ""

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class ClockFacts:
    """Everything the clocks depend on, read from one case."""

    case_id: str
    title: str
    incident: str | None
    incident_time: str | None
    death: bool | None = None
    marks: list[dict[str, Any]] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)
    nok: list[dict[str, Any]] = field(default_factory=list)
    viewings: list[dict[str, Any]] = field(default_factory=list)


def read_facts(conn: Any, info: Any) -> ClockFacts:
    """The clock facts of an open case connection (no permission check: callers check)."""
    row = conn.execute("SELECT death FROM incident_facts WHERE id = 1").fetchone()
    death = None if row is None or row[0] is None else bool(row[0])

    def rows(sql: str) -> list[dict[str, Any]]:
        cursor = conn.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]

    nok = rows("SELECT * FROM nok_records ORDER BY id")
    for record in nok:
        record["details"] = json.loads(record["details"])
    return ClockFacts(
        info.case_id, info.title, info.incident, info.incident_time, death,
        rows("SELECT * FROM clock_marks ORDER BY id"), rows("SELECT * FROM clock_receipts ORDER BY id"),
        nok, rows("SELECT * FROM nok_viewings ORDER BY started_at"),
    )


def _fmt(calendar: WorkCalendar, instant: datetime) -> str:
    local = calendar.local(instant)
    return local.strftime("%a %Y-%m-%d %H:%M %Z")


def _status(due: datetime | None, done: dict[str, Any] | None, now: datetime) -> tuple[str, bool]:
    if done is not None:
        return "done", bool(due and utc(done["at"]) > due)
    if due is not None and now > due:
        return "overdue", False
    return "due", False


def compute(facts: ClockFacts, now: datetime | None = None, calendar: WorkCalendar | None = None) -> list[ClockItem]:
    """Every clock item of a critical-incident case, with its status at ``now``."""
    calendar = calendar or WorkCalendar.default()
    now = now or datetime.now(UTC)
    if facts.incident != "critical" or not facts.incident_time:
        return []
    incident = utc(facts.incident_time)
    day = calendar.local_date(incident)
    marks = {}
    for mark in facts.marks:
        marks.setdefault(mark["item"], {"at": mark["done_at"], "by": mark["marked_by"], "note": mark["note"]})
    items: list[ClockItem] = []
    base = {"case_id": facts.case_id, "case_title": facts.title}

    def add(key: str, section: str, title: str, who: str, due: datetime | None, due_text: str,
            done: dict[str, Any] | None = None, status: str | None = None, note: str = "") -> None:
        state, late = _status(due, done, now)
        items.append(ClockItem(
            key, section, title, who, iso(due) if due else None, due_text, status or state,
            done["at"] if done else None, done["by"] if done else None, (done or {}).get("note") or note, late, **base,
        ))

    c1 = incident + timedelta(hours=24)
    add("C1", "C.1", "Chief of Police notifies the City Attorney, Council Chair, Mayor and Mayor's Chief of Staff "
        "of the facts", "Chief of Police", c1, f"{_fmt(calendar, c1)} (24 hours after the incident)", marks.get("C1"))
    c2 = incident + timedelta(days=5)
    add("C2", "C.2", "Mayor, Council Members and City Attorney receive secure links to all unedited footage "
        "and related 911 calls", "Police Department", c2, f"{_fmt(calendar, c2)} (5 days after the incident)",
        marks.get("C2"))
    d1 = calendar.end_of_day(calendar.add_business_days(day, 10))
    add("D1", "D.1", "Unedited full-length recording classified as a public record", "Police Department",
        d1, f"{_fmt(calendar, d1)} (10 business days after the incident)", marks.get("D1"))
    items.extend(_d4(facts, calendar, now, d1, base))
    window_end = calendar.end_of_day(add_years(day, 4))
    items.append(ClockItem(
        "C4C5", "C.4, C.5", "Window for GRAMA-request and notice-of-claim notifications (5 business days each)",
        "Police Department, City Recorder, City Attorney", iso(window_end),
        f"open until {_fmt(calendar, window_end)} (four years after the incident)",
        "open" if now <= window_end else "closed", **base,
    ))
    for receipt in facts.receipts:
        received = utc(receipt["received_at"])
        key = f"{'C4' if receipt['kind'] == 'grama' else 'C5'}-{receipt['id']}"
        ref = f" ({receipt['reference']})" if receipt["reference"] else ""
        if receipt["kind"] == "grama":
            title = f"GRAMA request{ref} received {_fmt(calendar, received)}: notify City Attorney, Mayor's Office " \
                    "and City Council"
            section, who = "C.4", "Police Department and City Recorder"
        else:
            title = f"Notice of claim{ref} received {_fmt(calendar, received)}: notify City Council and Mayor's Office"
            section, who = "C.5", "City Attorney"
        if received > window_end:
            add(key, section, title, who, None, "no ordinance clock: received after the four-year window",
                marks.get(key), status="n/a")
            continue
        due = calendar.end_of_day(calendar.add_business_days(calendar.local_date(received), 5))
        add(key, section, title, who, due, f"{_fmt(calendar, due)} (5 business days after receipt)", marks.get(key))
    return items


def _d4(facts: ClockFacts, calendar: WorkCalendar, now: datetime, d1: datetime,
        base: dict[str, str]) -> list[ClockItem]:
    titles = {
        "D4a": "Consult an organisation with expertise in trauma and grief on the family's viewing",
        "D4b": "Notify the victim or the decedent's next of kin of the impending release and its date",
        "D4c": "Offer the victim or next of kin a viewing before release, and facilitate it if they wish",
    }
    who = "Police Department"
    if facts.death is not True:
        text = ("applies only when the incident resulted in a death; not recorded yet "
                "(bwc-redact clock facts --death yes|no)") if facts.death is None else "no death: D.4 does not apply"
        return [ClockItem(k, "D.4", titles[k], who, None, text, "unknown" if facts.death is None else "n/a", **base)
                for k in D4_KEYS]
    notices = [r for r in facts.nok if r["kind"] == "notify"]
    release = notices[-1]["details"].get("release_date") if notices else None
    if release:
        due = calendar.end_of_day(date.fromisoformat(release) - timedelta(days=1))
        due_text = f"before the release on {release} ({_fmt(calendar, due)})"
    else:
        due = None
        due_text = f"before public release (no release date recorded yet; D.1 classification is due {_fmt(calendar, d1)})"

    def first(kind: str, **match: Any) -> dict[str, Any] | None:
        for record in facts.nok:
            if record["kind"] == kind and all(record["details"].get(k) in v for k, v in match.items()):
                return {"at": record["occurred_at"], "by": record["recorded_by"], "note": _nok_note(record)}
        return None

    done: dict[str, dict[str, Any] | None] = {"D4a": first("consult"), "D4b": None}
    if notices:
        last_notice = notices[-1]
        done["D4b"] = {"at": last_notice["occurred_at"], "by": last_notice["recorded_by"],
                       "note": _nok_note(last_notice)}
    offers = [r for r in facts.nok if r["kind"] == "offer"]
    held = [v for v in facts.viewings if v["ended_at"]]
    c_status, c_done, c_note = None, None, ""
    if offers:
        last = offers[-1]
        response = last["details"].get("response")
        if response == "declined":
            c_done = {"at": last["occurred_at"], "by": last["recorded_by"], "note": "offer declined"}
        elif held:
            view = held[-1]
            c_done = {"at": view["ended_at"], "by": view["host"], "note": f"viewing {view['id']} held"}
        else:
            c_status = "in progress"
            c_note = "offered; the family " + ("accepted, viewing not held yet" if response == "accepted"
                                               else "has not answered yet")
    out = []
    for key in D4_KEYS:
        record = c_done if key == "D4c" else done.get(key)
        state, late = _status(due, record, now)
        if key == "D4c" and c_status and state != "overdue":
            state = c_status
        out.append(ClockItem(
            key, "D.4", titles[key], who, iso(due) if due else None, due_text, state,
            record["at"] if record else None, record["by"] if record else None,
            (record or {}).get("note") or (c_note if key == "D4c" else ""), late, **base,
        ))
    return out


def _nok_note(record: dict[str, Any]) -> str:
    d = record["details"]
    if record["kind"] == "consult":
        return f"consulted {d.get('organisation')}"
    if record["kind"] == "notify":
        return f"notified {d.get('person')}; release date {d.get('release_date')}"
    return ""


class ClocksMixin(CaseStore):
    def _critical_time(self) -> str:
        info = self.info()
        if info.incident != "critical" or not info.incident_time:
            raise CaseError("This case is not marked as a critical incident with an incident time; "
                            "set it first (case new --incident critical --incident-time ...).")
        return info.incident_time

    def clock_facts(self) -> ClockFacts:
        self.require("case.read", "read the critical-incident clocks")
        with self._lock, self._snapshot():
            return read_facts(self.conn, self.info())

    def clocks(self, now: datetime | None = None, calendar: WorkCalendar | None = None) -> list[ClockItem]:
        """The case's critical-incident clock items (empty for other cases)."""
        return compute(self.clock_facts(), now, calendar)

    def set_incident_facts(self, death: bool, note: str = "") -> None:
        """Record whether the incident resulted in a death (D.4 applies only then)."""
        with self.write("case.edit", "record the incident facts") as tx:
            self._critical_time()
            entry = tx.record("incident.facts", {"death": bool(death), "note": note.strip()})
            tx.execute(
                "INSERT INTO incident_facts (id, death, note, ledger_seq) VALUES (1, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET death = excluded.death, note = excluded.note, "
                "ledger_seq = excluded.ledger_seq",
                (int(bool(death)), note.strip(), entry.seq),
            )

    def receive(self, kind: str, received_at: str, reference: str = "", note: str = "") -> ClockItem:
        """Record receipt of a GRAMA request (``grama``, C.4) or a notice of claim (``claim``, C.5)
        for this incident's footage; starts its 5-business-day clock."""
        if kind not in ("grama", "claim"):
            raise CaseError(f"Unknown receipt kind {kind!r}; use 'grama' or 'claim'.")
        with self.write("clock.mark", f"record a received {kind}") as tx:
            incident = utc(self._critical_time())
            when = parse_time(received_at, "The time of receipt")
            if utc(when) < incident:
                raise CaseError("That was received before the incident; check the date.")
            if utc(when) > datetime.now(UTC) + SKEW:
                raise CaseError("The time of receipt is in the future; check the date.")
            payload = {"kind": kind, "received_at": when, "reference": reference.strip(), "note": note.strip()}
            entry = tx.record("clock.receive", payload)
            receipt_id = tx.insert("clock_receipts", {
                **payload, "recorded_by": tx.actor, "recorded_at": entry.time, "ledger_seq": entry.seq})
        key = f"{'C4' if kind == 'grama' else 'C5'}-{receipt_id}"
        return next(i for i in self.clocks() if i.key == key)

    def mark_done(self, item: str, done_at: str | None = None, note: str = "") -> ClockItem:
        """Mark a clock item done (who: the signed-in user; when: ``done_at`` or now)."""
        item = item.strip().upper().replace("_", "-")
        with self.write("clock.mark", f"mark {item} done", {"item": item}) as tx:
            incident = utc(self._critical_time())
            if item.startswith("D4"):
                raise CaseError("The D.4 steps are done by recording them: bwc-redact nok consult, nok notify "
                                "and nok offer (and the viewing itself).")
            keys = set(MARKABLE) | {
                f"{'C4' if kind == 'grama' else 'C5'}-{rid}"
                for rid, kind in tx.execute("SELECT id, kind FROM clock_receipts")
            }
            if item not in keys:
                raise CaseError(f"There is no clock item {item} in this case; items are "
                                f"{', '.join(sorted(keys))}.")
            earlier = tx.execute("SELECT marked_by, done_at FROM clock_marks WHERE item = ?", (item,)).fetchone()
            if earlier:
                raise CaseError(f"{item} was already marked done by {earlier[0]} ({earlier[1]}).")
            when = parse_time(done_at, "The time it was done") if done_at else iso(datetime.now(UTC))
            if utc(when) > datetime.now(UTC) + SKEW:
                raise CaseError("The time it was done is in the future; check the date.")
            if utc(when) < incident:
                raise CaseError("The time it was done is before the incident; check the date.")
            payload = {"item": item, "done_at": when, "note": note.strip()}
            entry = tx.record("clock.done", payload)
            tx.insert("clock_marks", {**payload, "marked_by": tx.actor, "marked_at": entry.time,
                                      "ledger_seq": entry.seq})
        return next(i for i in self.clocks() if i.key == item)
