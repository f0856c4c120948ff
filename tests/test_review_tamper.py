"""Tampering is caught and named: single-byte flips anywhere in an original, a
release file, the ledger file, a ledger row or the raw database; entries
deleted, reordered or inserted; rows changed behind the ledger's back."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from review import schema
from review.verify import verify_case
from tests.review_support import (  # noqa: F401
    base_clip_fixture,
    fast_hashing_fixture,
    open_as,
    reviewed_case,
)

GENESIS = "0" * 64
ROW_COLUMNS = ("seq", "time", "actor", "role", "action", "payload", "prev_hash", "hash")


@pytest.fixture(scope="module")
def exported_case(tmp_path_factory, base_clip) -> Path:
    import review.auth as auth
    from tests.review_support import FAST_HASHER

    auth.HASHER, saved = FAST_HASHER, auth.HASHER
    try:
        root = tmp_path_factory.mktemp("exported")
        path, rec = reviewed_case(root, base_clip)
        case = open_as(path, "alice")
        case.export(rec)
        case.close()
    finally:
        auth.HASHER = saved
    assert verify_case(path, record=False).ok
    return path


@pytest.fixture
def case(exported_case, tmp_path) -> Path:
    target = tmp_path / "case"
    shutil.copytree(exported_case, target)
    return target


def _flip(path: Path, position: int, rng: random.Random) -> bytes:
    os.chmod(path, 0o644)
    with open(path, "r+b") as handle:
        handle.seek(position)
        old = handle.read(1)
        handle.seek(position)
        handle.write(bytes([old[0] ^ rng.randrange(1, 256)]))
    return old


def _put(path: Path, position: int, old: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.seek(position)
        handle.write(old)


def _items(report) -> set[str]:
    return {f.item for f in report.failures}


def _check_flips(path: Path, root: Path, item: str, seed: int, count: int) -> None:
    rng = random.Random(seed)
    size = path.stat().st_size
    for position in sorted(rng.sample(range(size), min(count, size))):
        old = _flip(path, position, rng)
        report = verify_case(root, record=False)
        assert not report.ok, f"flip at {position} of {item} went unnoticed"
        assert any(i.startswith(item) for i in _items(report)), (position, report.lines())
        _put(path, position, old)
    assert verify_case(root, record=False).ok


def test_any_byte_of_an_original(case):
    (original,) = (case / "evidence").iterdir()
    _check_flips(original, case, f"evidence/{original.name}", seed=1, count=40)


def test_any_byte_of_a_release_file(case):
    (folder,) = [p for p in (case / "exports").iterdir() if not p.name.startswith(".")]
    for n, path in enumerate(sorted(folder.iterdir())):
        _check_flips(path, case, f"exports/{folder.name}/{path.name}", seed=10 + n, count=12)


def test_any_byte_of_the_ledger_file(case):
    jsonl = case / "ledger.jsonl"
    _check_flips(jsonl, case, "ledger.jsonl", seed=2, count=60)


def _triggers(conn) -> list[str]:
    return [r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ledger'")]


def _edit_ledger(path: Path, sql: str, params=()) -> None:
    """Run ``sql`` on the ledger with its guards lifted, then put the guards back."""
    conn = sqlite3.connect(path / "case.db")
    saved = _triggers(conn)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ledger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    if isinstance(sql, str):
        conn.execute(sql, params)
    else:
        sql(conn)
    for statement in saved:
        conn.execute(statement)
    conn.commit()
    conn.close()


def _mutate(value, rng: random.Random):
    if isinstance(value, int):
        return value + rng.randrange(1000, 2000)
    position = rng.randrange(len(value))
    alphabet = "0123456789abcdef" if all(c in "0123456789abcdef" for c in value) else \
        "abcdefghijklmnopqrstuvwxyz0123456789{}[]:,\"'. _-ZT"
    choice = rng.choice([c for c in alphabet if c != value[position]])
    return value[:position] + choice + value[position + 1:]


def test_any_change_to_a_ledger_row_in_the_database(case):
    rng = random.Random(3)
    conn = sqlite3.connect(case / "case.db")
    rows = conn.execute(f"SELECT {', '.join(ROW_COLUMNS)} FROM ledger ORDER BY seq").fetchall()
    conn.close()
    for _ in range(40):
        row = rng.choice(rows)
        column = rng.randrange(len(ROW_COLUMNS))
        changed = _mutate(row[column], rng)
        name = ROW_COLUMNS[column]
        _edit_ledger(case, f"UPDATE ledger SET {name} = ? WHERE seq = ?", (changed, row[0]))
        report = verify_case(case, record=False)
        assert not report.ok, (name, row[0])
        assert f"ledger entry {row[0]}" in _items(report) or f"ledger entry {changed}" in _items(report), report.lines()
        where = changed if name == "seq" else row[0]
        _edit_ledger(case, f"UPDATE ledger SET {name} = ? WHERE seq = ?", (row[column], where))
    assert verify_case(case, record=False).ok


def test_raw_byte_flips_inside_ledger_rows_of_the_database_file(case):
    rng = random.Random(4)
    conn = sqlite3.connect(case / "case.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    rows = conn.execute("SELECT seq, payload FROM ledger").fetchall()
    conn.close()
    db = case / "case.db"
    data = db.read_bytes()
    checked = 0
    for seq, payload in rng.sample(rows, 20):
        start = data.find(payload.encode("utf-8"))
        if start < 0 or data.find(payload.encode("utf-8"), start + 1) >= 0:
            continue  # stored across overflow pages or not unique: not a single-place flip
        position = start + rng.randrange(len(payload))
        old = _flip(db, position, rng)
        report = verify_case(case, record=False)
        assert not report.ok, seq
        assert _items(report) & {f"ledger entry {seq}", "case.db"}, report.lines()
        _put(db, position, old)
        checked += 1
    assert checked >= 10
    assert verify_case(case, record=False).ok


def _jsonl(path: Path) -> list[bytes]:
    return (path / "ledger.jsonl").read_bytes().splitlines(keepends=True)


def test_deleting_an_entry_from_the_file_or_the_database_or_both(case):
    lines = _jsonl(case)
    middle = len(lines) // 2
    (case / "ledger.jsonl").write_bytes(b"".join(lines[:middle] + lines[middle + 1:]))
    assert not verify_case(case, record=False).ok
    (case / "ledger.jsonl").write_bytes(b"".join(lines))
    _edit_ledger(case, "DELETE FROM ledger WHERE seq = ?", (middle + 1,))
    report = verify_case(case, record=False)
    assert not report.ok and f"ledger entry {middle + 2}" in _items(report)
    (case / "ledger.jsonl").write_bytes(b"".join(lines[:middle] + lines[middle + 1:]))
    report = verify_case(case, record=False)  # gone from both: the chain is broken
    assert not report.ok and f"ledger entry {middle + 2}" in _items(report)


def test_deleting_the_newest_entries_from_both_copies(case):
    count = len(_jsonl(case))
    head_seq, head = count, json.loads(_jsonl(case)[-1])["hash"]
    for drop in range(1, 4):
        fresh = case.parent / f"drop{drop}"
        shutil.copytree(case, fresh)
        _edit_ledger(fresh, "DELETE FROM ledger WHERE seq > ?", (count - drop,))
        (fresh / "ledger.jsonl").write_bytes(b"".join(_jsonl(case)[: count - drop]))
        # Rows written by the dropped entries (the export, its delivery) give it away;
        # where none did, the head written down outside the case does.
        report = verify_case(fresh, record=False, expect_head=(head_seq, head))
        assert not report.ok and f"ledger entry {head_seq}" in _items(report)


def test_reordering_entries(case):
    lines = _jsonl(case)
    i = len(lines) // 3
    swapped = lines[:i] + [lines[i + 1], lines[i]] + lines[i + 2:]
    (case / "ledger.jsonl").write_bytes(b"".join(swapped))
    report = verify_case(case, record=False)
    assert not report.ok and {f"ledger.jsonl line {i + 1}", f"ledger.jsonl line {i + 2}"} <= _items(report)
    (case / "ledger.jsonl").write_bytes(b"".join(lines))

    def swap(conn):
        a = conn.execute("SELECT * FROM ledger WHERE seq = ?", (i + 1,)).fetchone()
        b = conn.execute("SELECT * FROM ledger WHERE seq = ?", (i + 2,)).fetchone()
        conn.execute("DELETE FROM ledger WHERE seq IN (?, ?)", (i + 1, i + 2))
        conn.execute("INSERT INTO ledger VALUES (?,?,?,?,?,?,?,?)", (a[0], *b[1:]))
        conn.execute("INSERT INTO ledger VALUES (?,?,?,?,?,?,?,?)", (b[0], *a[1:]))

    _edit_ledger(case, swap)
    report = verify_case(case, record=False)
    assert not report.ok and f"ledger entry {i + 1}" in _items(report)


def _rehash_from(conn, start: int) -> None:
    rows = conn.execute("SELECT * FROM ledger WHERE seq >= ? ORDER BY seq", (start,)).fetchall()
    prev = conn.execute("SELECT hash FROM ledger WHERE seq = ?", (start - 1,)).fetchone()[0]
    for seq, time, actor, role, action, payload, _, _ in rows:
        body = {"seq": seq, "time": time, "actor": actor, "role": role, "action": action, "payload": json.loads(payload)}
        digest = hashlib.sha256((prev + json.dumps(body, sort_keys=True, separators=(",", ":"),
                                                   ensure_ascii=False)).encode()).hexdigest()
        conn.execute("UPDATE ledger SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, seq))
        prev = digest


def _insert_forged(conn, at: int) -> None:
    rows = conn.execute("SELECT * FROM ledger WHERE seq >= ? ORDER BY seq DESC", (at,)).fetchall()
    for row in rows:
        conn.execute("UPDATE ledger SET seq = seq + 1 WHERE seq = ?", (row[0],))
    payload = json.dumps({"name": "chief"}, sort_keys=True, separators=(",", ":"))
    conn.execute("INSERT INTO ledger VALUES (?, '2026-11-22T00:00:00.000000Z', 'chief', 'approver', 'sign_in', ?, ?, ?)",
                 (at, payload, "x" * 64, "y" * 64))


def test_inserting_an_entry(case):
    at = 6
    _edit_ledger(case, lambda conn: _insert_forged(conn, at))
    report = verify_case(case, record=False)
    assert not report.ok and f"ledger entry {at}" in _items(report)


def test_inserting_an_entry_and_rehashing_everything_after_breaks_the_signatures(case):
    at = 6
    _edit_ledger(case, lambda conn: (_insert_forged(conn, at), _rehash_from(conn, at)))
    conn = sqlite3.connect(case / "case.db")
    lines = [json.dumps({"seq": r[0], "time": r[1], "actor": r[2], "role": r[3], "action": r[4],
                         "payload": json.loads(r[5]), "prev": r[6], "hash": r[7]}, sort_keys=True,
                        separators=(",", ":"), ensure_ascii=False) + "\n"
             for r in conn.execute("SELECT * FROM ledger ORDER BY seq")]
    conn.close()
    (case / "ledger.jsonl").write_text("".join(lines), encoding="utf-8")
    report = verify_case(case, record=False)
    assert not report.ok
    assert any("(checkpoint)" in item for item in _items(report)), report.lines()
    # The chain itself is consistent again: only the signatures (and the manifest's anchor) object.
    assert not any(f.message.startswith(("hash", "link")) for f in report.failures)


ROW_EDITS = [
    ("recordings", "UPDATE recordings SET officer = 'Someone Else'", "recordings 1"),
    ("decisions", "UPDATE decisions SET reason = 'RELEASE-REVIEWED', decision = 'release' WHERE track_id = 't2'", "decisions"),
    ("approvals", "UPDATE approvals SET approver = 'alice'", "approvals 1"),
    ("exports", "UPDATE exports SET release_sha256 = '" + "0" * 64 + "'", "exports"),
    (None, "UPDATE segments SET start_frame = 6", "segments 1/s1"),
    (None, "DELETE FROM segments", "segments 1/s1"),
    (None, "UPDATE keyframes SET x = x + 1 WHERE frame = 0", "track t1 of recording 1"),
    (None, "UPDATE users SET role = 'approver' WHERE name = 'alice'", "users alice"),
    (None, "UPDATE case_info SET title = 'Other'", "case_info 1"),
    (None, "INSERT INTO segments VALUES (1, 's7', 1, 2, 'blackout', NULL, 'D3-DEATH', '', 5)", "segments 1/s7"),
]


@pytest.mark.parametrize(("table", "sql", "item"), ROW_EDITS)
def test_rows_changed_behind_the_ledgers_back(case, table, sql, item):
    conn = sqlite3.connect(case / "case.db")
    if table:
        for name in schema.protection_triggers(table):
            conn.execute(f"DROP TRIGGER {name}")
    conn.execute(sql)
    if table:
        conn.executescript(schema._append_only(table))
    conn.commit()
    conn.close()
    report = verify_case(case, record=False)
    assert not report.ok
    assert any(i.startswith(item) for i in _items(report)), report.lines()


def test_a_removed_guard_is_reported(case):
    conn = sqlite3.connect(case / "case.db")
    conn.execute("DROP TRIGGER decisions_no_update")
    conn.commit()
    conn.close()
    report = verify_case(case, record=False)
    assert any("decisions_no_update" in f.message for f in report.failures)


def test_a_replaced_public_key_or_sums_file_is_reported(case, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    sums = case / "SHA256SUMS"
    text = sums.read_text()
    os.chmod(sums, 0o644)
    sums.write_text(text.replace(text[:8], "deadbeef", 1))
    assert "SHA256SUMS" in _items(verify_case(case, record=False))
    sums.write_text(text)
    pem = Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    key = case / "case-public-key.pem"
    os.chmod(key, 0o644)
    key.write_bytes(pem)
    assert "case-public-key.pem" in _items(verify_case(case, record=False))


def test_the_fingerprint_written_down_outside_the_case_must_match(case):
    conn = sqlite3.connect(case / "case.db")
    public = conn.execute("SELECT public_key FROM case_info").fetchone()[0]
    conn.close()
    right = hashlib.sha256(bytes.fromhex(public)).hexdigest()
    assert verify_case(case, record=False, expect_key=right).ok
    assert not verify_case(case, record=False, expect_key="0" * 64).ok
