"""The ledger's hash definition, append-only guards, checkpoints and JSON-lines copy."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from review import schema
from review.ledger import sync_jsonl
from review.verify import verify_case
from tests.review_support import base_clip_fixture, fast_hashing_fixture, make_case, open_as, reviewed_case  # noqa: F401

GENESIS = "0" * 64


def _rows(path):
    conn = sqlite3.connect(path / "case.db")
    rows = conn.execute("SELECT seq, time, actor, role, action, payload, prev_hash, hash FROM ledger ORDER BY seq").fetchall()
    conn.close()
    return rows


def test_each_hash_is_sha256_of_previous_hash_and_canonical_body(tmp_path):
    path = make_case(tmp_path / "case")
    rows = _rows(path)
    assert len(rows) >= 8
    prev = GENESIS
    for n, (seq, time, actor, role, action, payload, prev_hash, digest) in enumerate(rows, start=1):
        body = {"seq": seq, "time": time, "actor": actor, "role": role, "action": action, "payload": json.loads(payload)}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert seq == n
        assert prev_hash == prev
        assert digest == hashlib.sha256((prev + text).encode("utf-8")).hexdigest()
        assert time.endswith("Z")
        prev = digest
    assert rows[0][4] == "case.create"


def test_jsonl_is_the_database_ledger_line_for_line(tmp_path):
    path = make_case(tmp_path / "case")
    lines = (path / "ledger.jsonl").read_text(encoding="utf-8").splitlines()
    rows = _rows(path)
    assert len(lines) == len(rows)
    for line, row in zip(lines, rows, strict=True):
        entry = json.loads(line)
        assert (entry["seq"], entry["hash"], entry["prev"]) == (row[0], row[7], row[6])
        assert json.dumps(entry["payload"], sort_keys=True, separators=(",", ":"), ensure_ascii=False) == row[5]


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger SET actor = 'mallory' WHERE seq = 2",
        "DELETE FROM ledger WHERE seq = 3",
        "DELETE FROM ledger",
        "INSERT INTO ledger VALUES (2, 't', 'a', 'r', 'x', '{}', 'p', 'h')",
        "INSERT INTO ledger VALUES (999, 't', 'a', 'r', 'x', '{}', 'p', 'h')",
        "UPDATE recordings SET sha256 = 'x'",
        "DELETE FROM recordings",
        "UPDATE decisions SET decision = 'release'",
        "DELETE FROM approvals",
        "UPDATE exports SET release_sha256 = 'x'",
    ],
)
def test_append_only_tables_refuse_changes_at_the_database_level(tmp_path, sql, base_clip):
    path, _ = reviewed_case(tmp_path, base_clip)
    conn = sqlite3.connect(path / "case.db")
    conn.execute(  # inserting is allowed: a row to try changing
        "INSERT INTO exports VALUES ('E1', 1, 1, 'p', 'o', 'r', 'h', 1, 'm', '{}', 'u', 't', 100000)"
    )
    conn.commit()
    before = conn.execute("SELECT COUNT(*), MAX(hash) FROM ledger").fetchone()
    table = sql.split()[2] if sql.startswith(("DELETE", "INSERT")) else sql.split()[1]
    count_before = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(sql)
    conn.rollback()
    assert conn.execute("SELECT COUNT(*), MAX(hash) FROM ledger").fetchone() == before
    assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == count_before
    conn.close()


def test_out_of_order_insert_with_the_right_seq_but_wrong_link_is_refused(tmp_path):
    path = make_case(tmp_path / "case")
    conn = sqlite3.connect(path / "case.db")
    n = conn.execute("SELECT MAX(seq) FROM ledger").fetchone()[0]
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO ledger VALUES (?, 't', 'a', 'r', 'x', '{}', ?, 'h')", (n + 1, GENESIS))
    conn.close()


def test_checkpoints_are_ed25519_signatures_over_count_and_head(tmp_path):
    path = make_case(tmp_path / "case")
    rows = _rows(path)
    case_id = json.loads(rows[0][5])["case_id"]
    public = load_pem_public_key((path / "case-public-key.pem").read_bytes())
    checkpoints = [json.loads(r[5]) for r in rows if r[4] == "checkpoint"]
    assert checkpoints, "creating a case with users signs the head"
    hashes = {r[0]: r[7] for r in rows}
    for cp in checkpoints:
        assert cp["head"] == hashes[cp["count"]]
        message = json.dumps({"case": case_id, "count": cp["count"], "head": cp["head"]}, sort_keys=True,
                             separators=(",", ":")).encode()
        public.verify(bytes.fromhex(cp["signature"]), message)  # raises if invalid


def test_checkpoint_every_so_many_entries(tmp_path):
    path = make_case(tmp_path / "case")
    case = open_as(path, "alice")
    for _ in range(45):
        case.sign_in("alice", "alice-pass-1")
    case.close()
    rows = _rows(path)
    seqs = [r[0] for r in rows if r[4] == "checkpoint"]
    gaps = [b - a for a, b in zip(seqs, seqs[1:], strict=False)]
    assert max(gaps) <= 21  # CHECKPOINT_EVERY entries plus the checkpoint itself


def test_private_key_is_private_and_matches_public(tmp_path):
    path = make_case(tmp_path / "case")
    key = path / "keys" / "case-signing-key.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    assert (path / "keys").stat().st_mode & 0o777 == 0o700
    assert b"PRIVATE KEY" in key.read_bytes()


def test_sync_appends_and_never_overwrites_an_edited_file(tmp_path):
    path = make_case(tmp_path / "case")
    jsonl = path / "ledger.jsonl"
    original = jsonl.read_bytes()
    # A lagging file (as after a kill between commit and rename) is brought up to date.
    lines = original.splitlines(keepends=True)
    jsonl.write_bytes(b"".join(lines[:-3]))
    conn = sqlite3.connect(path / "case.db")
    assert sync_jsonl(conn, jsonl)
    assert jsonl.read_bytes() == original
    # An edited last line is left for verify to report.
    edited = original[:-5] + (b"0" if original[-5:-4] != b"0" else b"1") + original[-4:]
    jsonl.write_bytes(edited)
    assert not sync_jsonl(conn, jsonl)
    assert jsonl.read_bytes() == edited
    # A missing copy is rebuilt from the database.
    jsonl.unlink()
    assert sync_jsonl(conn, jsonl)
    assert jsonl.read_bytes() == original
    conn.close()


def test_verify_catches_up_a_lagging_jsonl_with_a_note_not_a_failure(tmp_path):
    path = make_case(tmp_path / "case")
    jsonl = path / "ledger.jsonl"
    lines = jsonl.read_bytes().splitlines(keepends=True)
    jsonl.write_bytes(b"".join(lines[:-2]))
    report = verify_case(path, record=False)
    assert report.ok, report.lines()
    assert any("not written yet" in f.message for f in report.findings)
    report = verify_case(path)  # with write access the copy is brought up to date
    assert report.ok
    assert len(jsonl.read_bytes().splitlines()) == len(_rows(path))


def test_schema_version_is_recorded(tmp_path):
    path = make_case(tmp_path / "case")
    conn = sqlite3.connect(path / "case.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
