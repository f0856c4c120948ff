"""Forward migrations: a case made at every older schema version opens, upgrades,
keeps its data and ledger, and ends with exactly the schema of a new case."""

from __future__ import annotations

import functools
import sqlite3
import subprocess
import sys

import pytest

from review import Case, CaseError, schema
from review.verify import verify_case
from tests.review_support import (  # noqa: F401
    ROOT,
    base_clip_fixture,
    fast_hashing_fixture,
    make_case,
    open_as,
    password,
    sample_plan,
)


def _schema(path):
    conn = sqlite3.connect(path / "case.db")
    rows = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
    ).fetchall()
    conn.close()
    return rows


@pytest.mark.parametrize("version", range(1, schema.SCHEMA_VERSION))
def test_every_older_version_upgrades_to_the_current_schema(tmp_path, monkeypatch, version, base_clip):
    fresh = make_case(tmp_path / "fresh")
    stop = schema._ORDER[version]
    with monkeypatch.context() as m:
        m.setattr(schema, "migrate", functools.partial(schema.migrate, stop_before=stop))
        old = make_case(tmp_path / "old")
        case = open_as(old, "alice")
        assert schema.schema_version(case.db) == version
        rec = case.ingest(base_clip, officer="J. Doe").recording
        if version >= 2:  # the review tables exist: put rows in them before upgrading
            case.record_detection(rec.id, sample_plan())
            case.decide(rec.id, "t1", "redact", "GRAMA-PRIVATE", "before the upgrade")
        case.close()
    assert _schema(old) != _schema(fresh)

    case = open_as(old, "alice")  # opening upgrades
    assert schema.schema_version(case.db) == schema.SCHEMA_VERSION
    assert case.conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    upgrades = case.ledger_entries(action="schema.upgrade")
    assert [(e.payload["from"], e.payload["to"]) for e in upgrades] == [(version, schema.SCHEMA_VERSION)]
    assert upgrades[0].role == "system"
    # The data made before the upgrade is intact and the new tables work.
    assert case.recording(rec.id).sha256 == rec.sha256
    assert case.recording(rec.id).officer == "J. Doe"
    if version >= 2:
        assert [(d.decision, d.note) for d in case.decisions(rec.id)] == [("redact", "before the upgrade")]
        assert case.plan(rec.id).track("t1").decision == "redact"
    else:
        case.record_detection(rec.id, sample_plan())
        case.decide(rec.id, "t1", "redact", "GRAMA-PRIVATE")
    case.decide(rec.id, "t2", "redact", "D3-MINOR")
    case.withdraw_decision(rec.id, "t2")
    case.decide(rec.id, "t2", "redact", "D3-MINOR")
    digest = case.plan_hash(rec.id)
    case.sign_in("chief", password("chief"))
    case.approve(rec.id, digest)
    case.close()
    assert _schema(old) == _schema(fresh)
    report = verify_case(old, record=False)
    assert report.ok, report.lines()


def test_a_case_from_a_newer_program_is_refused(tmp_path):
    path = make_case(tmp_path / "case")
    conn = sqlite3.connect(path / "case.db")
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES (?, 'm999_future', 'later')",
        (schema.MIGRATIONS.name,),
    )
    conn.commit()
    conn.close()
    with pytest.raises(CaseError, match="newer bwc-redact"):
        Case.open(path)


def test_two_programs_opening_an_old_case_at_once_upgrade_it_once(tmp_path, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(schema, "migrate", functools.partial(schema.migrate, stop_before=schema._ORDER[1]))
        path = make_case(tmp_path / "case")
    code = "import sys; from review import Case; Case.open(sys.argv[1]).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=ROOT) for _ in range(4)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    case = open_as(path, "admin")
    assert len(case.ledger_entries(action="schema.upgrade")) == 1
    case.close()
    assert verify_case(path, record=False).ok
