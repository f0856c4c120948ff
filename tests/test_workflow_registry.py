"""The department registry: monthly audit draws (reproducible from the recorded
seed, never fewer than five when five exist), findings, referrals and the
quarterly record, all in the registry's ledger and checked by verify."""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3

import pytest

from review import Case, CaseError, PermissionDenied
from review.audits import MINIMUM, RECIPIENTS, draw
from review.registry import Registry
from review.verify import verify_case
from tests.review_support import base_clip_fixture, fast_hashing_fixture, make_case, open_as, password  # noqa: F401
from tests.workflow_support import make_registry, open_registry, unique_copy

YES = {"activated": "yes", "announced": "n/a", "not_early": "yes", "no_personal_use": "yes"}
LATE = {"activated": "no", "announced": "n/a", "not_early": "yes", "no_personal_use": "yes"}

# (case, recorded at): seven in November 2026 on Salt Lake City's calendar, one of them after
# midnight UTC on 1 December; one in December, one in October, one without a time.
TIMES = {
    "a": ["2026-11-01T00:10:00-06:00", "2026-11-05T09:00:00-07:00", "2026-11-12T18:30:00-07:00",
          "2026-11-30T23:30:00-07:00", "2026-12-01T00:30:00-07:00", None],
    "b": ["2026-11-02T08:00:00-07:00", "2026-11-15T12:00:00-07:00", "2026-11-20T16:00:00-07:00",
          "2026-10-31T23:59:00-06:00"],
}


@pytest.fixture(scope="module")
def department(tmp_path_factory, base_clip_module):
    root = tmp_path_factory.mktemp("department")
    registry = make_registry(root / "registry")
    cases = {}
    for key, times in TIMES.items():
        path = make_case(root / f"case-{key}", f"Case {key.upper()}")
        case = open_as(path, "alice")
        for n, when in enumerate(times):
            clip = unique_copy(base_clip_module, root / f"{key}{n}.mp4")
            case.ingest(clip, officer=f"Officer {key.upper()}{n}", camera=f"BWC-{n}", recorded_at=when)
        case.record_camera_event(1, "mute", start=0.2, end=0.6, stated_reason=None)
        case.record_camera_event(2, "deactivation", start=0.5, stated_reason="speaking with a victim of assault")
        case.close()
        cases[key] = path
    reg = open_registry(registry, "alice")
    for path in cases.values():
        reg.register_case(path)
    reg.close()
    return registry, cases


@pytest.fixture(scope="module", name="base_clip_module")
def base_clip_module_fixture(tmp_path_factory):
    from tests.review_support import make_clip

    return make_clip(tmp_path_factory.mktemp("clip") / "base.mp4")


def test_the_draw_is_reproducible_from_its_recorded_seed(department):
    registry, _ = department
    reg = open_registry(registry, "audrey")
    audit = reg.draw_audit("2026-11", 5, seed="3b1f0c")
    assert len(audit.population) == 7 and len(audit.sample) == 5 and not audit.short
    assert audit.undated == 1 and "1 recordings have no recording time" in audit.summary()
    assert sorted(r["officer"] for r in audit.population) == sorted(
        ["Officer A0", "Officer A1", "Officer A2", "Officer A3", "Officer B0", "Officer B1", "Officer B2"])
    # Anyone can redraw from the ledger entry with nothing but hashlib.
    entry = [e for e in reg.ledger_entries(action="audit.draw")][-1].payload
    ranked = sorted(entry["population"], key=lambda r: hashlib.sha256(
        f"{entry['seed']}:{r['case']}:{r['sha256']}".encode()).hexdigest())
    assert [(r["case"], r["recording"]) for r in ranked[:entry["requested"]]] == \
           [(r["case"], r["recording"]) for r in audit.sample]
    assert reg.check_audit(audit.id) == []
    # The same seed draws the same sample again; the draw does not depend on the population's order.
    again = reg.draw_audit("2026-11", 5, seed="3b1f0c")
    assert again.sample == audit.sample and again.id == audit.id + 1
    shuffled = list(audit.population)
    random.Random(1).shuffle(shuffled)
    assert draw("3b1f0c", shuffled, 5) == audit.sample
    # A random seed is recorded too.
    fresh = reg.draw_audit("2026-11")
    assert len(fresh.seed) == 32 and len(fresh.sample) == 5
    assert fresh.drawn_by == "audrey"
    reg.close()


def test_never_fewer_than_five_when_five_exist():
    for size in range(0, 12):
        population = [{"case": "c", "recording": i, "sha256": f"{i:064x}"} for i in range(size)]
        for seed in ("a", "b", "c"):
            for count in (5, 6, 9):
                assert len(draw(seed, population, count)) == min(count, size)


def test_count_below_five_is_refused_and_a_small_month_is_drawn_whole(department):
    registry, _ = department
    reg = open_registry(registry, "audrey")
    with pytest.raises(CaseError, match="at least 5"):
        reg.draw_audit("2026-11", 3)
    december = reg.draw_audit("2026-12", 5)
    assert len(december.population) == 1 and len(december.sample) == 1 and december.short
    assert "only 1 recordings were made in 2026-12, so all of them are audited" in december.summary()
    with pytest.raises(CaseError, match="not like 2026-11"):
        reg.draw_audit("November", 5)
    assert reg.draw_audit("2026-11", 9).short  # 7 exist: all 7
    reg.close()


def test_late_recordings_are_noticed_when_the_draw_is_checked(department, base_clip_module, tmp_path):
    registry, cases = department
    reg = open_registry(registry, "audrey")
    audit = reg.draw_audit("2026-10", 5)
    assert len(audit.population) == 1
    case = open_as(cases["b"], "alice")
    case.ingest(unique_copy(base_clip_module, tmp_path / "late.mp4"), recorded_at="2026-10-15T10:00:00-06:00")
    case.close()
    assert reg.check_audit(audit.id) == [
        "1 recordings of 2026-10 were registered after the draw (ingested or registered late); they were not in "
        "the population"]
    reg.close()


def test_findings_and_the_referral_to_the_ordinances_recipients(department, tmp_path):
    registry, _ = department
    reg = open_registry(registry, "audrey")
    audit = reg.draw_audit("2026-11", 5, seed="findings")
    first, second = audit.sample[0], audit.sample[1]
    with pytest.raises(CaseError, match="nothing to refer"):
        reg.refer(audit.id)
    with pytest.raises(CaseError, match="not in the sample"):
        reg.record_finding(audit.id, first["case"], 999, YES)
    with pytest.raises(CaseError, match="missing no_personal_use"):
        reg.record_finding(audit.id, first["case"], first["recording"], {k: YES[k] for k in list(YES)[:3]})
    with pytest.raises(CaseError, match="at least one checklist item answered 'no'"):
        reg.record_finding(audit.id, first["case"], first["recording"], YES, material=True, note="?")
    with pytest.raises(CaseError, match="Describe"):
        reg.record_finding(audit.id, first["case"], first["recording"], LATE, material=True)
    reg.record_finding(audit.id, first["case"], first["recording"], YES)
    reg.record_finding(audit.id, second["case"], second["recording"], LATE, material=True,
                       note="The camera was switched on about two minutes after the officer reached the door.")
    referral = reg.refer(audit.id, tmp_path / "to-the-mayor")
    page = (referral.folder / "referral.html").read_text()
    for recipient in RECIPIENTS:
        assert recipient.replace("'", "&#x27;") in page
    assert "two minutes after the officer reached the door" in page
    assert second["sha256"] in page and first["sha256"] not in page
    assert (tmp_path / "to-the-mayor" / "referral.html").read_bytes() == (referral.folder / "referral.html").read_bytes()
    sums = (referral.folder / "SHA256SUMS").read_text()
    assert hashlib.sha256(page.encode()).hexdigest() in sums
    assert [f.material for f in reg.findings(audit.id)] == [False, True]
    assert reg.check_files() == []
    reg.close()
    report = verify_case(registry, record=False)
    assert report.ok, report.lines()
    # A referral file changed afterwards is caught.
    target = referral.folder / "referral.html"
    os.chmod(target, 0o644)
    target.write_text(page.replace("two minutes", "ten seconds"))
    reg = open_registry(registry, "audrey")
    assert any("referral.html: SHA-256" in p for p in reg.check_files())
    target.write_text(page)
    reg.close()


def test_the_quarterly_record(department, tmp_path):
    registry, cases = department
    reg = open_registry(registry, "alice")
    report = reg.quarterly_report("2026q4", tmp_path / "council")
    assert report.period == "2026Q4"
    csv_text = (report.folder / "quarterly-record.csv").read_text()
    lines = csv_text.splitlines()
    assert lines[0].startswith("case_id,case_title,recording,recording_sha256,officer,camera,instance")
    # Each case's recording 1 had a mute with no reason stated, recording 2 a deactivation with one.
    rows = lines[1:]
    assert sum("sound muted" in r for r in rows) == 2
    assert sum("camera deactivated" in r and "speaking with a victim of assault" in r for r in rows) == 2
    html_page = (report.folder / "quarterly-record.html").read_text()
    assert "To the Mayor and the City Council" in html_page and "none stated" in html_page
    assert "Officer A0" in html_page and "Officer B1" in html_page
    assert (tmp_path / "council" / "quarterly-record.csv").read_text() == csv_text
    entry = reg.ledger_entries(action="report.quarterly")[-1]
    assert (entry.actor, entry.role, entry.payload["instances"]) == ("alice", "records_officer", report.instances)
    csv_bytes = (report.folder / "quarterly-record.csv").read_bytes()
    assert csv_bytes.count(b"\r\n") == len(lines)  # RFC 4180 line ends, as spreadsheets expect
    assert entry.payload["files"]["quarterly-record.csv"] == hashlib.sha256(csv_bytes).hexdigest()
    empty = reg.quarterly_report("2026Q1")
    assert empty.instances == 0
    assert "No instances were recorded" in (empty.folder / "quarterly-record.html").read_text()
    reg.close()


def test_the_quarter_follows_the_departments_calendar(tmp_path, base_clip):
    registry = make_registry(tmp_path / "registry")
    case = open_as(make_case(tmp_path / "case"), "alice")
    # 30 September 23:30 MDT is 1 October in UTC: it belongs to Q3 in Salt Lake City.
    rec = case.ingest(base_clip, officer="J. Doe", recorded_at="2026-09-30T23:30:00-06:00").recording
    case.record_camera_event(rec.id, "mute", start=0.1, stated_reason=None)
    withdrawn = case.record_camera_event(rec.id, "deactivation", start=0.5, stated_reason=None)
    case.withdraw_camera_event(withdrawn.id, "duplicate entry")
    case.close()
    reg = open_registry(registry, "alice")
    reg.register_case(tmp_path / "case")
    assert [r["instance"] for r in reg.quarterly_rows("2026Q3")[1]] == ["sound muted"]
    assert reg.quarterly_rows("2026Q4")[1] == []
    assert reg.quarterly_rows("2026Q3")[2]["withdrawn"] == 1
    reg.set_calendar(timezone="UTC")
    assert [r["instance"] for r in reg.quarterly_rows("2026Q4")[1]] == ["sound muted"]
    reg.close()
    report = verify_case(registry, record=False)
    assert report.ok, report.lines()


def test_registering_cases(tmp_path):
    registry = make_registry(tmp_path / "registry")
    case_path = make_case(tmp_path / "case")
    reg = open_registry(registry, "alice")
    first = reg.register_case(case_path)
    with pytest.raises(CaseError, match="already registered"):
        reg.register_case(case_path)
    with pytest.raises(CaseError, match="is a registry, not a case"):
        reg.register_case(make_registry(tmp_path / "other-registry"))
    with pytest.raises(CaseError, match="not a bwc-redact case"):
        reg.register_case(tmp_path)
    moved = tmp_path / "moved"
    os.rename(case_path, moved)
    reg.sign_in("audrey", password("audrey"))
    with pytest.raises(CaseError, match="cannot be opened.*register it again"):
        reg.draw_audit("2026-11")
    reg.sign_in("alice", password("alice"))
    again = reg.register_case(moved)
    assert again.case_id == first.case_id and [c.path for c in reg.registered_cases()] == [moved]
    reg.close()
    with pytest.raises(CaseError, match="not a registry"):
        Registry.open(moved)
    assert Case.open(registry).info().title == "Test department"
    report = verify_case(registry, record=False)
    assert report.ok, report.lines()


def test_a_registry_row_changed_behind_the_ledger_is_caught(department):
    registry, _ = department
    conn = sqlite3.connect(registry / "case.db")
    conn.execute("UPDATE registered_cases SET path = '/elsewhere' WHERE rowid = 1")
    conn.commit()
    report = verify_case(registry, record=False)
    conn.execute("UPDATE registered_cases SET path = (SELECT json_extract(payload, '$.path') FROM ledger "
                 "WHERE seq = registered_cases.ledger_seq)")
    conn.commit()
    conn.close()
    assert not report.ok and any("registered_cases" in f.item and "path" in f.message for f in report.failures)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn = sqlite3.connect(registry / "case.db")
        try:
            conn.execute("DELETE FROM audits")
        finally:
            conn.close()


def test_who_may_do_what_in_the_registry(department):
    registry, _ = department
    reg = open_registry(registry, "audrey")
    audit = reg.draw_audit("2026-11", MINIMUM, seed="roles")
    item = audit.sample[0]
    attempts = {
        "draw": ("audit.record", lambda r: r.draw_audit("2026-11")),
        "finding": ("audit.record", lambda r: r.record_finding(audit.id, item["case"], item["recording"], YES)),
        "referral": ("audit.record", lambda r: r.refer(audit.id)),
        "report": ("report.produce", lambda r: r.quarterly_report("2026Q4")),
        "register": ("registry.manage", lambda r: r.register_case(registry)),
        "calendar": ("registry.manage", lambda r: r.set_calendar(timezone="UTC")),
        "read audits": ("audit.read", lambda r: r.audits()),
    }
    allowed = {"alice": {"report", "register", "calendar", "read audits"}, "chief": {"read audits"},
               "audrey": {"draw", "finding", "referral", "read audits"}, "paul": set(), "admin": set()}
    expected = []
    for name, may in allowed.items():
        reg.sign_in(name, password(name))
        for action, (permission, attempt) in attempts.items():
            if action in may:
                continue
            with pytest.raises(PermissionDenied, match="The attempt was recorded"):
                attempt(reg)
            expected.append((name, permission))
    reg.sign_in("audrey", password("audrey"))
    denied = [(e.actor, e.payload["permission"]) for e in reg.ledger_entries(action="denied")]
    assert denied[-len(expected):] == expected
    reg.close()


def test_the_draw_entry_carries_everything_needed_to_redraw(department):
    registry, _ = department
    reg = open_registry(registry, "audrey")
    audit = reg.draw_audit("2026-11", 5)
    payload = reg.ledger_entries(action="audit.draw")[-1].payload
    assert payload["population_sha256"] == hashlib.sha256(json.dumps(
        payload["population"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
    assert payload["timezone"] == "America/Denver" and payload["seed"] == audit.seed
    reg.close()


def test_the_readmes_redraw_recipe_gives_the_same_sample(department, tmp_path):
    import re
    import subprocess
    import sys

    from tests.review_support import ROOT

    registry, _ = department
    reg = open_registry(registry, "audrey")
    audit = reg.draw_audit("2026-11", 6)
    reg.close()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    recipe = tmp_path / "redraw.py"
    recipe.write_text(re.search(r"<!-- audit-redraw-recipe -->\n```\w*\n(.*?)\n```", text, re.S).group(1) + "\n")
    result = subprocess.run([sys.executable, str(recipe), str(registry), str(audit.id)], capture_output=True,
                            text=True, check=True)
    assert result.stdout.splitlines() == [f"{r['case']} {r['recording']} {r['sha256']}" for r in audit.sample]
