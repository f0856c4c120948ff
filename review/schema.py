"""The case database schema, created and upgraded by forward migrations.

Migrations run through ``sqlite_utils.Migrations``; the applied ones are listed
in its ``_sqlite_migrations`` table and their count is mirrored in
``PRAGMA user_version`` (the schema version). To change the schema, append a new
``@migration`` function at the end of this file; never edit or reorder one that
has shipped, because cases in the field have already applied it.

Every table that mirrors ledger entries carries ``ledger_seq`` (the entry that
wrote the row) so ``verify`` can check rows against the chain (see
``review.mirrors``). Append-only tables are protected by triggers as well as
by the code: SQLite refuses to update or delete their rows.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database, Migrations

from .errors import CaseError
from .hashing import GENESIS_HASH

MIGRATIONS = Migrations("bwc-redact-case")
_ORDER: list[str] = []

# Tables whose rows may never change or disappear once written.
APPEND_ONLY = (
    "ledger", "recordings", "decisions", "detection_runs", "approvals", "exports",
    # the ordinance workflows (m005)
    "clock_receipts", "clock_marks", "camera_events", "camera_event_withdrawals", "mute_detections",
    "nok_records", "content_warnings", "audits", "audit_findings", "audit_referrals", "reports",
)


def migration(fn: Callable[[Database], None]) -> Callable[[Database], None]:
    MIGRATIONS(name=fn.__name__)(fn)
    _ORDER.append(fn.__name__)
    return fn


def _run(db: Database, sql: str) -> None:
    for statement in sql.split(";\n"):
        if statement.strip():
            db.execute(statement)


def _append_only(table: str) -> str:
    return f"""
CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END;
CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END;
"""


def protection_triggers(table: str) -> tuple[str, str]:
    return f"{table}_no_update", f"{table}_no_delete"


@migration
def m001_core(db: Database) -> None:
    _run(
        db,
        f"""
CREATE TABLE case_info (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    case_id TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    incident TEXT,
    incident_time TEXT,
    public_key TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL
);
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    display_name TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL
);
CREATE TABLE ledger (
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE
);
CREATE INDEX ledger_action ON ledger (action);
CREATE TRIGGER ledger_in_order BEFORE INSERT ON ledger
WHEN NEW.seq IS NOT COALESCE((SELECT MAX(seq) FROM ledger), 0) + 1
  OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM ledger ORDER BY seq DESC LIMIT 1), '{GENESIS_HASH}')
BEGIN SELECT RAISE(ABORT, 'ledger entries are appended in order, each linked to the last'); END;
{_append_only("ledger")}
CREATE TABLE recordings (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    original_name TEXT NOT NULL,
    evidence_path TEXT NOT NULL UNIQUE,
    officer TEXT,
    camera TEXT,
    recorded_at TEXT,
    ingested_at TEXT NOT NULL,
    ingested_by TEXT NOT NULL,
    media TEXT,
    ledger_seq INTEGER NOT NULL UNIQUE
);
{_append_only("recordings")}
""",
    )


@migration
def m002_review(db: Database) -> None:
    _run(
        db,
        f"""
CREATE TABLE detection_runs (
    id INTEGER PRIMARY KEY,
    recording_id INTEGER NOT NULL REFERENCES recordings (id),
    plan_hash TEXT NOT NULL,
    video TEXT NOT NULL,
    engine TEXT NOT NULL,
    tracks INTEGER NOT NULL,
    segments INTEGER NOT NULL,
    run_at TEXT NOT NULL,
    run_by TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL UNIQUE
);
{_append_only("detection_runs")}
CREATE TABLE tracks (
    pk INTEGER PRIMARY KEY AUTOINCREMENT,
    recording_id INTEGER NOT NULL REFERENCES recordings (id),
    track_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    possible_minor INTEGER NOT NULL DEFAULT 0,
    minor_evidence TEXT,
    content_hash TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL,
    UNIQUE (recording_id, track_id)
);
CREATE TABLE keyframes (
    track_pk INTEGER NOT NULL REFERENCES tracks (pk),
    frame INTEGER NOT NULL,
    x REAL, y REAL, w REAL, h REAL,
    source TEXT NOT NULL,
    score REAL,
    PRIMARY KEY (track_pk, frame)
);
CREATE TABLE segments (
    recording_id INTEGER NOT NULL REFERENCES recordings (id),
    segment_id TEXT NOT NULL,
    start_frame INTEGER NOT NULL,
    end_frame INTEGER NOT NULL,
    video TEXT,
    audio TEXT,
    reason TEXT,
    note TEXT NOT NULL DEFAULT '',
    ledger_seq INTEGER NOT NULL,
    PRIMARY KEY (recording_id, segment_id)
);
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    recording_id INTEGER NOT NULL REFERENCES recordings (id),
    track_pk INTEGER NOT NULL,
    track_id TEXT NOT NULL,
    track_hash TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('redact', 'release')),
    reason TEXT,
    note TEXT NOT NULL DEFAULT '',
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL UNIQUE
);
CREATE INDEX decisions_track ON decisions (track_pk, id);
{_append_only("decisions")}
""",
    )


@migration
def m003_release(db: Database) -> None:
    _run(
        db,
        f"""
CREATE TABLE approvals (
    id INTEGER PRIMARY KEY,
    recording_id INTEGER NOT NULL REFERENCES recordings (id),
    plan_hash TEXT NOT NULL,
    approver TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    ledger_seq INTEGER NOT NULL UNIQUE
);
{_append_only("approvals")}
CREATE TABLE exports (
    id TEXT PRIMARY KEY,
    recording_id INTEGER NOT NULL REFERENCES recordings (id),
    approval_id INTEGER NOT NULL REFERENCES approvals (id),
    plan_hash TEXT NOT NULL,
    original_sha256 TEXT NOT NULL,
    release_path TEXT NOT NULL,
    release_sha256 TEXT NOT NULL,
    release_size INTEGER NOT NULL,
    manifest_sha256 TEXT NOT NULL,
    files TEXT NOT NULL,
    exported_by TEXT NOT NULL,
    exported_at TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL UNIQUE
);
{_append_only("exports")}
""",
    )


@migration
def m004_withdrawn_decisions(db: Database) -> None:
    """A decision can be withdrawn (undo back to undecided): the append-only
    decisions table is rebuilt with the wider check, keeping every row."""
    _run(
        db,
        f"""
DROP TRIGGER decisions_no_update;
DROP TRIGGER decisions_no_delete;
ALTER TABLE decisions RENAME TO decisions_v2;
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    recording_id INTEGER NOT NULL REFERENCES recordings (id),
    track_pk INTEGER NOT NULL,
    track_id TEXT NOT NULL,
    track_hash TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('redact', 'release', 'withdrawn')),
    reason TEXT,
    note TEXT NOT NULL DEFAULT '',
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL UNIQUE
);
INSERT INTO decisions SELECT * FROM decisions_v2;
DROP TABLE decisions_v2;
CREATE INDEX decisions_track ON decisions (track_pk, id);
{_append_only("decisions")}
""",
    )


@migration
def m005_workflows(db: Database) -> None:
    """The ordinance's workflows: critical-incident clocks (C, D), mute and
    deactivation records (B.2), next-of-kin steps and viewings (D.3, D.4), and
    the tables a department registry uses for monthly audits (E) and quarterly
    reports. A case folder leaves the registry tables empty, and a registry
    holds no recordings."""
    _run(
        db,
        f"""
CREATE TABLE incident_facts (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    death INTEGER,
    note TEXT NOT NULL DEFAULT '',
    ledger_seq INTEGER NOT NULL
);
CREATE TABLE clock_receipts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('grama', 'claim')),
    received_at TEXT NOT NULL,
    reference TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL UNIQUE
);
{_append_only("clock_receipts")}
CREATE TABLE clock_marks (
    id INTEGER PRIMARY KEY,
    item TEXT NOT NULL,
    done_at TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    marked_by TEXT NOT NULL,
    marked_at TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL UNIQUE
);
{_append_only("clock_marks")}
CREATE TABLE mute_detections (
    id INTEGER PRIMARY KEY,
    recording_id INTEGER NOT NULL REFERENCES recordings (id),
    candidates TEXT NOT NULL,
    settings TEXT NOT NULL,
    run_by TEXT NOT NULL,
    run_at TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL UNIQUE
);
{_append_only("mute_detections")}
CREATE TABLE camera_events (
    id INTEGER PRIMARY KEY,
    recording_id INTEGER NOT NULL REFERENCES recordings (id),
    kind TEXT NOT NULL CHECK (kind IN ('mute', 'deactivation', 'not_activated')),
    start_seconds REAL,
    end_seconds REAL,
    occurred_at TEXT,
    officer TEXT,
    stated_reason TEXT,
    source TEXT NOT NULL,
    detection_id INTEGER REFERENCES mute_detections (id),
    note TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL UNIQUE
);
CREATE INDEX camera_events_recording ON camera_events (recording_id);
{_append_only("camera_events")}
CREATE TABLE camera_event_withdrawals (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL UNIQUE REFERENCES camera_events (id),
    reason TEXT NOT NULL,
    withdrawn_by TEXT NOT NULL,
    withdrawn_at TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL UNIQUE
);
{_append_only("camera_event_withdrawals")}
CREATE TABLE nok_records (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('consult', 'notify', 'offer', 'request_unredacted')),
    recording_id INTEGER REFERENCES recordings (id),
    occurred_at TEXT NOT NULL,
    details TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL UNIQUE
);
{_append_only("nok_records")}
CREATE TABLE content_warnings (
    id INTEGER PRIMARY KEY,
    recording_id INTEGER NOT NULL REFERENCES recordings (id),
    start_frame INTEGER NOT NULL,
    end_frame INTEGER,
    label TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL UNIQUE
);
{_append_only("content_warnings")}
CREATE TABLE nok_viewings (
    id TEXT PRIMARY KEY,
    recording_id INTEGER NOT NULL REFERENCES recordings (id),
    shown TEXT NOT NULL CHECK (shown IN ('release', 'unredacted')),
    export_id TEXT,
    media_sha256 TEXT NOT NULL,
    request_id INTEGER REFERENCES nok_records (id),
    attendees TEXT NOT NULL,
    host TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    in_app INTEGER NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    ledger_seq INTEGER NOT NULL
);
CREATE TABLE registry_info (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    holidays TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL
);
CREATE TABLE registered_cases (
    case_id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    title TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL
);
CREATE TABLE audits (
    id INTEGER PRIMARY KEY,
    month TEXT NOT NULL,
    seed TEXT NOT NULL,
    requested INTEGER NOT NULL,
    population TEXT NOT NULL,
    population_sha256 TEXT NOT NULL,
    sample TEXT NOT NULL,
    drawn_by TEXT NOT NULL,
    drawn_at TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL UNIQUE
);
{_append_only("audits")}
CREATE TABLE audit_findings (
    id INTEGER PRIMARY KEY,
    audit_id INTEGER NOT NULL REFERENCES audits (id),
    case_id TEXT NOT NULL,
    recording_id INTEGER NOT NULL,
    recording_sha256 TEXT NOT NULL,
    checklist TEXT NOT NULL,
    material INTEGER NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    auditor TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL UNIQUE
);
{_append_only("audit_findings")}
CREATE TABLE audit_referrals (
    id INTEGER PRIMARY KEY,
    audit_id INTEGER NOT NULL REFERENCES audits (id),
    findings TEXT NOT NULL,
    folder TEXT NOT NULL,
    files TEXT NOT NULL,
    referred_by TEXT NOT NULL,
    referred_at TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL UNIQUE
);
{_append_only("audit_referrals")}
CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    period TEXT NOT NULL,
    folder TEXT NOT NULL,
    files TEXT NOT NULL,
    instances INTEGER NOT NULL,
    made_by TEXT NOT NULL,
    made_at TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL UNIQUE
);
{_append_only("reports")}
""",
    )


SCHEMA_VERSION = len(_ORDER)


def applied(db: Database) -> list[str]:
    return [m.name for m in MIGRATIONS.applied(db)]


def schema_version(db: Database) -> int:
    return len(applied(db))


def migrate(db: Database, stop_before: str | None = None) -> tuple[int, int]:
    """Apply pending migrations under the write lock; return (old, new) version.

    ``stop_before`` (a migration name) exists for tests that build older cases.
    """
    names = applied(db)
    unknown = [n for n in names if n not in _ORDER]
    if unknown:
        raise CaseError(
            "This case was written by a newer bwc-redact (its database has changes this version does "
            "not know); upgrade bwc-redact to open it."
        )
    old = len(names)
    if not MIGRATIONS.pending(db) or (stop_before and _ORDER.index(stop_before) <= old):
        return old, old
    # BEGIN IMMEDIATE takes the write lock first, so two programs opening an old
    # case at once cannot both upgrade it; sqlite-utils nests its own savepoints.
    db.execute("BEGIN IMMEDIATE")
    try:
        old = schema_version(db)  # another program may have upgraded while we waited
        MIGRATIONS.apply(db, stop_before=stop_before)
        new = schema_version(db)
        db.execute(f"PRAGMA user_version = {int(new)}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return old, new
