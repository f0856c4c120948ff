"""Critical-incident clocks: due dates across weekends, holidays, month and year
ends and daylight-saving changes; statuses; marking done through the case API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from review import CaseError, PermissionDenied
from review.clocks import ClockFacts, compute
from review.verify import verify_case
from review.workdays import WorkCalendar, add_years, parse_holiday_lines
from tests.review_support import fast_hashing_fixture, password  # noqa: F401
from tests.workflow_support import critical_case

DENVER = WorkCalendar("America/Denver")


def _facts(incident: str, **kw) -> ClockFacts:
    return ClockFacts("c1", "Test", "critical", incident, **kw)


def _items(facts: ClockFacts, now: str = "2026-11-03T00:00:00Z", calendar: WorkCalendar = DENVER) -> dict:
    return {i.key: i for i in compute(facts, datetime.fromisoformat(now.replace("Z", "+00:00")), calendar)}


def _receipt(rid: int, kind: str, received: str) -> dict:
    return {"id": rid, "kind": kind, "received_at": received, "reference": "", "note": ""}


# ----------------------------------------------------------- business days
@pytest.mark.parametrize(("start", "days", "expected", "why"), [
    ("2026-11-13", 5, "2026-11-20", "a Friday: the weekend is skipped"),
    ("2026-11-14", 5, "2026-11-20", "a Saturday: counting starts on Monday"),
    ("2026-11-06", 10, "2026-11-23", "Veterans Day (Wed 11 Nov) is skipped"),
    ("2026-04-30", 5, "2026-05-07", "across a month end"),
    ("2026-12-23", 5, "2026-12-31", "Christmas Day is skipped"),
    ("2026-12-28", 5, "2027-01-05", "across the year end, New Year's Day skipped"),
    ("2026-07-22", 2, "2026-07-27", "Pioneer Day (Utah, Fri 24 July) is skipped"),
    ("2027-12-22", 3, "2027-12-28", "observed Christmas (Fri 24 Dec 2027) is skipped"),
])
def test_business_days(start, days, expected, why):
    assert DENVER.add_business_days(date.fromisoformat(start), days) == date.fromisoformat(expected), why


def test_configured_holidays_add_closures_and_remove_defaults():
    added, removed = parse_holiday_lines(["# city closures", "2026-11-27 Day after Thanksgiving", "not 2026-10-12"])
    calendar = WorkCalendar("America/Denver", added, tuple(removed))
    # Thanksgiving (26) is a default holiday, the day after is the city's own closure.
    assert DENVER.add_business_days(date(2026, 11, 24), 2) == date(2026, 11, 27)
    assert calendar.add_business_days(date(2026, 11, 24), 2) == date(2026, 11, 30)
    # Columbus Day is worked in this city.
    assert DENVER.add_business_days(date(2026, 10, 9), 1) == date(2026, 10, 13)
    assert calendar.add_business_days(date(2026, 10, 9), 1) == date(2026, 10, 12)
    with pytest.raises(CaseError, match="Line 1"):
        parse_holiday_lines(["Nov 27 closure"])


def test_four_years_from_a_leap_day():
    assert add_years(date(2026, 11, 3), 4) == date(2030, 11, 3)
    assert add_years(date(2028, 2, 29), 1) == date(2029, 3, 1)


# ------------------------------------------------------------------ clocks
def test_due_dates_of_an_incident_on_a_friday_before_a_holiday():
    # Fri 6 Nov 2026 16:00 MST = 23:00 UTC.
    items = _items(_facts("2026-11-06T23:00:00Z"))
    assert items["C1"].due == "2026-11-07T23:00:00Z"  # exactly 24 hours
    assert items["C2"].due == "2026-11-11T23:00:00Z"  # exactly 5 days
    # 10th business day after Fri 6 Nov, skipping Veterans Day: Mon 23 Nov, end of day in Salt Lake City.
    assert items["D1"].due == "2026-11-24T06:59:59Z"
    assert items["C4C5"].due == "2030-11-07T06:59:59Z" and items["C4C5"].status == "open"
    assert {k: items[k].status for k in ("C1", "C2", "D1")} == {"C1": "due", "C2": "due", "D1": "due"}


def test_24_hour_clock_is_exact_across_daylight_saving_changes():
    # 1 Nov 2026 01:30 MDT (07:30 UTC); clocks fall back at 02:00 MDT that night.
    fall = _items(_facts("2026-11-01T07:30:00Z"))
    assert fall["C1"].due == "2026-11-02T07:30:00Z"
    assert "00:30 MST" in fall["C1"].due_text  # 23 wall-clock hours later, 24 real hours
    # 8 Mar 2026 01:30 MST (08:30 UTC); clocks spring forward at 02:00.
    spring = _items(_facts("2026-03-08T08:30:00Z"), now="2026-03-08T09:00:00Z")
    assert spring["C1"].due == "2026-03-09T08:30:00Z"
    assert "02:30 MDT" in spring["C1"].due_text
    assert spring["C2"].due == "2026-03-13T08:30:00Z"
    # Business-day deadlines end at local midnight whatever the offset: D1 falls after the change.
    assert spring["D1"].due == "2026-03-21T05:59:59Z"  # Sun 8 Mar -> Fri 20 Mar 23:59:59 MDT (UTC-6)


def test_an_incident_late_in_the_evening_counts_from_its_local_date():
    # Thu 31 Dec 2026 22:00 MST is already 1 Jan 2027 in UTC: days count from 31 Dec (local).
    items = _items(_facts("2027-01-01T05:00:00Z"))
    # Jan 1 holiday; business days: Jan 4..8 (5), 11..15 (10) -> MLK day is Jan 18, after.
    assert items["D1"].due == "2027-01-16T06:59:59Z"


def test_statuses_and_late_completion():
    marks = [{"item": "C1", "done_at": "2026-11-08T00:00:00Z", "marked_by": "chief", "note": "called"}]
    items = _items(_facts("2026-11-06T23:00:00Z", marks=marks), now="2026-11-12T00:00:00Z")
    assert items["C1"].status == "done" and items["C1"].late and items["C1"].done_by == "chief"
    assert items["C2"].status == "overdue"  # due 11 Nov 23:00 UTC
    assert items["D1"].status == "due"


def test_grama_and_claim_clocks_inside_and_after_the_four_year_window():
    receipts = [_receipt(1, "grama", "2026-12-23T17:00:00Z"), _receipt(2, "claim", "2026-12-28T17:00:00Z"),
                _receipt(3, "grama", "2030-11-10T17:00:00Z")]
    items = _items(_facts("2026-11-06T23:00:00Z", receipts=receipts), now="2026-12-29T00:00:00Z")
    assert items["C4-1"].due == "2027-01-01T06:59:59Z"  # Thu 31 Dec, end of day MST
    assert items["C4-1"].section == "C.4" and items["C4-1"].status == "due"
    assert items["C5-2"].due == "2027-01-06T06:59:59Z" and items["C5-2"].section == "C.5"
    assert items["C4-3"].status == "n/a" and items["C4-3"].due is None


def test_next_of_kin_steps_follow_the_records():
    unknown = _items(_facts("2026-11-06T23:00:00Z"))
    assert unknown["D4a"].status == "unknown"
    assert _items(_facts("2026-11-06T23:00:00Z", death=False))["D4b"].status == "n/a"

    def record(kind, at, **details):
        return {"kind": kind, "occurred_at": at, "recorded_by": "alice", "details": details}

    nok = [record("consult", "2026-11-09T17:00:00Z", organisation="Grief Center"),
           record("notify", "2026-11-10T17:00:00Z", person="J. Roe", release_date="2026-11-20"),
           record("offer", "2026-11-10T17:05:00Z", person="J. Roe", response="accepted")]
    items = _items(_facts("2026-11-06T23:00:00Z", death=True, nok=nok), now="2026-11-12T00:00:00Z")
    assert items["D4a"].status == "done" and "Grief Center" in items["D4a"].note
    assert items["D4b"].status == "done"
    assert items["D4a"].due == "2026-11-20T06:59:59Z"  # the end of the day before the release
    assert items["D4c"].status == "in progress"
    viewing = {"id": "V1", "ended_at": "2026-11-13T18:00:00Z", "host": "paul"}
    items = _items(_facts("2026-11-06T23:00:00Z", death=True, nok=nok, viewings=[viewing]), now="2026-11-14T00:00:00Z")
    assert items["D4c"].status == "done" and items["D4c"].done_by == "paul"
    declined = nok[:2] + [record("offer", "2026-11-10T17:05:00Z", person="J. Roe", response="declined")]
    assert _items(_facts("2026-11-06T23:00:00Z", death=True, nok=declined))["D4c"].status == "done"
    # Past the release date with no viewing held: overdue.
    late = _items(_facts("2026-11-06T23:00:00Z", death=True, nok=nok), now="2026-11-21T00:00:00Z")
    assert late["D4c"].status == "overdue"


def test_cases_that_are_not_critical_have_no_clocks():
    assert compute(ClockFacts("c", "t", None, None)) == []


# ------------------------------------------------------ through the case API
def test_marking_done_through_the_case_and_who_may(tmp_path):
    case = critical_case(tmp_path / "case")
    case.set_incident_facts(True, "the suspect died at the scene")
    case.sign_in("chief", password("chief"))
    item = case.mark_done("C1", "2026-11-04T09:00:00-07:00", "emailed and phoned all four")
    assert (item.status, item.done_by, item.late) == ("done", "chief", False)
    with pytest.raises(CaseError, match="already marked done by chief"):
        case.mark_done("c1")
    with pytest.raises(CaseError, match="nok consult"):
        case.mark_done("D4a")
    with pytest.raises(CaseError, match="no clock item X9"):
        case.mark_done("X9")
    with pytest.raises(CaseError, match="before the incident"):
        case.mark_done("C2", "2026-11-01T00:00:00Z")
    case.sign_in("alice", password("alice"))
    receipt = case.receive("grama", "2026-11-05T09:00:00-07:00", "GRAMA 26-114")
    assert receipt.key == "C4-1" and receipt.due == "2026-11-14T06:59:59Z"  # Fri 13 Nov (Veterans Day skipped)
    assert case.mark_done("C4-1", "2026-11-06T10:00:00-07:00").status == "done"
    for name in ("audrey", "paul", "admin"):
        case.sign_in(name, password(name))
        with pytest.raises(PermissionDenied, match="may not mark critical-incident deadlines"):
            case.mark_done("C2")
        with pytest.raises(PermissionDenied):
            case.receive("claim", "2026-11-05T09:00:00-07:00")
    case.sign_in("alice", password("alice"))
    denied = [e for e in case.ledger_entries() if e.action == "denied" and e.payload["permission"] == "clock.mark"]
    assert [(e.actor, e.role) for e in denied] == [
        ("audrey", "auditor"), ("audrey", "auditor"), ("paul", "preview_host"), ("paul", "preview_host"),
        ("admin", "admin"), ("admin", "admin")]
    done = [e for e in case.ledger_entries() if e.action == "clock.done"]
    assert [(e.actor, e.role, e.payload["item"]) for e in done] == [("chief", "approver", "C1"),
                                                                    ("alice", "records_officer", "C4-1")]
    case.close()
    report = verify_case(tmp_path / "case", record=False)
    assert report.ok, report.lines()


def test_a_case_without_an_incident_time_has_no_clock_to_mark(tmp_path):
    from tests.review_support import make_case, open_as

    case = open_as(make_case(tmp_path / "case"), "alice")
    assert case.clocks() == []
    with pytest.raises(CaseError, match="not marked as a critical incident"):
        case.mark_done("C1")
    case.close()


def test_now_defaults_to_the_present():
    incident = (datetime.now(UTC) - timedelta(hours=30)).isoformat(timespec="seconds").replace("+00:00", "Z")
    assert _items(_facts(incident), now=datetime.now(UTC).isoformat())["C1"].status == "overdue"
