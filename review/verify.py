"""``verify``: check everything a skeptical auditor would.

1. The database opens and ``PRAGMA integrity_check`` is ok; the schema is
   current and the append-only triggers are in place.
2. The ledger: sequence numbers 1..n without gaps, each entry linked to the
   previous one's hash, each hash recomputed from its canonical body; entry 1
   creates the case and holds its public key.
3. Keys: ``case-public-key.pem`` is the key recorded in entry 1 (and the
   fingerprint given with ``expect_key``); the private key, if present, is its
   pair. Every checkpoint's head matches the chain and its signature holds.
4. ``ledger.jsonl`` is, line for line, the database's ledger.
5. Every table row matches the ledger entry that wrote it, both ways
   (``review.mirrors``); every track's stored hash matches its keyframes; every
   entry's role was allowed its action and was the actor's role at the time.
6. Every original, release-package file and stored plan re-hashes to its
   recorded SHA-256; ``SHA256SUMS`` lists exactly those.

Each problem is one line naming the file or entry, with expected and found
values; notes and warnings do not fail the verdict.
"""

from __future__ import annotations

import contextlib
import json
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from redaction.errors import RedactionError
from redaction.progress import ProgressCallback

from . import keys, schema
from .auth import ANONYMOUS, SYSTEM, allowed
from .case import Case
from .hashing import GENESIS_HASH, canonical_json, sha256_file
from .ledger import CHECKPOINT, SELECT, BadRow, Entry, checkpoint_message, row_to_entry
from .mirrors import ACTION_PERMISSIONS, MIRRORS, KeyedMirror, Mirror
from .planstore import track_hash
from .store import os_actor

Level = Literal["FAIL", "WARN", "NOTE"]
MAX_LINE_REPORTS = 25


@dataclass(frozen=True)
class Finding:
    level: Level
    item: str
    message: str

    def line(self) -> str:
        return f"{self.level} {self.item}: {self.message}"


@dataclass
class VerifyReport:
    findings: list[Finding] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(f.level == "FAIL" for f in self.findings)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "FAIL"]

    def fail(self, item: str, message: str) -> None:
        self.findings.append(Finding("FAIL", item, message))

    def warn(self, item: str, message: str) -> None:
        self.findings.append(Finding("WARN", item, message))

    def note(self, item: str, message: str) -> None:
        self.findings.append(Finding("NOTE", item, message))

    def verdict(self) -> str:
        s = self.stats
        if self.ok:
            return (
                f"VERIFIED: {s.get('originals', 0)} originals, {s.get('release_files', 0)} release files, "
                f"{s.get('entries', 0)} ledger entries with {s.get('checkpoints', 0)} signed checkpoints; "
                f"head {s.get('entries', 0)}:{s.get('head', '')}."
            )
        n = len(self.failures)
        return f"NOT VERIFIED: {n} problem{'s' if n != 1 else ''} found."

    def lines(self) -> list[str]:
        return [f.line() for f in self.findings] + [self.verdict()]


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _differs(report: VerifyReport, item: str, what: str, expected: Any, found: Any) -> None:
    report.fail(item, f"{what} expected {_short(expected)}, found {_short(found)}")


class _Verifier:
    def __init__(
        self, case: Case, report: VerifyReport, expect_key: str | None, expect_head: tuple[int, str] | None,
        progress: ProgressCallback | None,
    ):
        self.case = case
        self.expect_head = expect_head
        self.conn = case.conn
        self.layout = case.layout
        self.report = report
        self.expect_key = expect_key
        self.progress = progress
        self.entries: dict[int, Entry] = {}
        self.hashes: dict[int, str] = {}
        self.stored_rows: list[tuple] = []

    # ------------------------------------------------------------- database
    def database(self) -> bool:
        r = self.report
        try:
            rows = [row[0] for row in self.conn.execute("PRAGMA integrity_check")]
        except Exception as error:  # a damaged file raises here
            r.fail("case.db", f"the database cannot be read ({error})")
            return False
        if rows != ["ok"]:
            r.fail("case.db", f"the database is damaged: {'; '.join(map(str, rows[:5]))}")
            return False
        version = schema.schema_version(self.case.db)
        if version != schema.SCHEMA_VERSION:
            _differs(r, "case.db", "schema version", schema.SCHEMA_VERSION, version)
        triggers = {row[0] for row in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        wanted = {"ledger_in_order"} | {t for table in schema.APPEND_ONLY for t in schema.protection_triggers(table)}
        for name in sorted(wanted - triggers):
            r.fail("case.db", f"protection trigger {name} is missing (someone removed the append-only guard)")
        return True

    # --------------------------------------------------------------- ledger
    def chain(self) -> None:
        r = self.report
        self.stored_rows = list(self.conn.execute(f"{SELECT} ORDER BY seq"))
        prev_hash = GENESIS_HASH
        last_time = ""
        for index, row in enumerate(self.stored_rows, start=1):
            item = f"ledger entry {row[0]}"
            if row[0] != index:
                _differs(r, f"ledger entry {index}", "sequence number", index, row[0])
            try:
                entry = row_to_entry(row)
            except BadRow as error:
                r.fail(item, str(error))
                prev_hash = row[7]
                continue
            if entry.prev_hash != prev_hash:
                _differs(r, item, "link to the previous entry's hash", prev_hash, entry.prev_hash)
            computed = entry.computed_hash()
            if computed != entry.hash:
                _differs(r, item, "hash", computed, entry.hash)
            try:
                when = datetime.fromisoformat(entry.time.replace("Z", "+00:00"))
                if not entry.time.endswith("Z") or when.utcoffset() is None:
                    raise ValueError
            except (ValueError, AttributeError):
                r.fail(item, f"time {entry.time!r} is not a UTC time")
            else:
                if last_time and entry.time < last_time:
                    r.warn(item, f"time {entry.time} is earlier than the entry before ({last_time}); was the clock changed?")
                last_time = entry.time
            self.entries[entry.seq] = entry
            self.hashes[entry.seq] = entry.hash
            prev_hash = entry.hash
        count = len(self.stored_rows)
        self.report.stats["entries"] = count
        self.report.stats["head"] = self.stored_rows[-1][7] if self.stored_rows else GENESIS_HASH
        first = self.entries.get(1)
        if first is None or first.action != "case.create":
            r.fail("ledger entry 1", "the ledger does not begin with the creation of the case")
        if self.expect_head:
            seq, digest = self.expect_head
            if self.hashes.get(seq) != digest.lower():
                _differs(r, f"ledger entry {seq}", "hash (the head you gave verify)", digest.lower(), self.hashes.get(seq))

    def anchors(self) -> None:
        """Each release manifest recorded the ledger head at export time; a copy of
        the manifest kept outside the case pins the history before it."""
        for row in self.rows("exports"):
            path = self.layout.exports / row["id"] / "manifest.json"
            try:
                anchor = json.loads(path.read_text(encoding="utf-8"))["ledger"]
                seq, digest = int(anchor["entries"]), str(anchor["head"])
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a damaged manifest fails its own hash check
            if self.hashes.get(seq) != digest:
                _differs(self.report, f"exports/{row['id']}/manifest.json", f"ledger head at entry {seq}", digest,
                         self.hashes.get(seq))

    def keys_and_checkpoints(self) -> None:
        r = self.report
        first = self.entries.get(1)
        recorded = None
        if first is not None:
            try:
                recorded = bytes.fromhex(first.payload.get("public_key") or "")
            except ValueError:
                recorded = None
        info = self.conn.execute("SELECT case_id, public_key FROM case_info WHERE id = 1").fetchone()
        if info is None:
            r.fail("case.db", "the case record (case_info) is missing")
        elif first is not None:
            if info[0] != first.payload.get("case_id"):
                _differs(r, "case_info", "case id (ledger entry 1)", first.payload.get("case_id"), info[0])
            if info[1] != first.payload.get("public_key"):
                _differs(r, "case_info", "public key (ledger entry 1)", first.payload.get("public_key"), info[1])
        if not recorded:
            r.fail("ledger entry 1", "it records no public key; checkpoints cannot be checked")
            return
        fingerprint = keys.fingerprint(recorded)
        exported = keys.load_public_key_file(self.layout.public_key)
        if exported is None:
            r.fail("case-public-key.pem", "missing or not an Ed25519 public key")
        elif exported != recorded:
            _differs(r, "case-public-key.pem", "key fingerprint", fingerprint, keys.fingerprint(exported))
        if self.expect_key and self.expect_key.lower() != fingerprint:
            _differs(r, "ledger entry 1", "key fingerprint (as given to verify)", self.expect_key.lower(), fingerprint)
        private = keys.load_private_key(self.layout)
        if private is not None and keys.public_raw(private) != recorded:
            r.fail("keys/case-signing-key.pem", "it is not the pair of the case's public key")
        elif private is None:
            r.note("keys/case-signing-key.pem", "absent here; new entries will not be signed")
        case_id = first.payload.get("case_id") if first else ""
        signed = 0
        last_signed = 0
        for entry in self.entries.values():
            if entry.action != CHECKPOINT:
                continue
            item = f"ledger entry {entry.seq} (checkpoint)"
            count, head, signature = entry.payload.get("count"), entry.payload.get("head"), entry.payload.get("signature")
            if not isinstance(count, int) or not 0 < count < entry.seq:
                r.fail(item, f"covers an impossible entry count {count!r}")
                continue
            if self.hashes.get(count) != head:
                _differs(r, item, f"head (hash of entry {count})", self.hashes.get(count), head)
            if entry.payload.get("key") != fingerprint:
                _differs(r, item, "signing key fingerprint", fingerprint, entry.payload.get("key"))
            if not isinstance(signature, str) or not keys.signature_valid(
                recorded, checkpoint_message(case_id, count, str(head)), signature
            ):
                r.fail(item, "the signature does not verify with the case's public key")
                continue
            signed += 1
            last_signed = max(last_signed, count)
        r.stats["checkpoints"] = signed
        tail = len(self.stored_rows) - last_signed
        if signed == 0:
            r.warn("ledger", "no signed checkpoint at all")
        elif tail > 1:
            r.note("ledger", f"the last {tail - 1} entries come after the last signed checkpoint")

    def jsonl(self) -> None:
        r = self.report
        path = self.layout.ledger_jsonl
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            r.fail("ledger.jsonl", "missing")
            return
        expected: list[bytes | None] = []
        for row in self.stored_rows:
            try:
                expected.append(row_to_entry(row).line().encode("utf-8"))
            except BadRow:
                expected.append(None)
        if data and not data.endswith(b"\n"):
            r.fail("ledger.jsonl", "the last line is cut short")
        lines = data.splitlines(keepends=True)
        reported = 0
        for number, line in enumerate(lines, start=1):
            want = expected[number - 1] if number <= len(expected) else None
            if number > len(expected):
                r.fail(f"ledger.jsonl line {number}", "an entry the database does not have")
                reported += 1
            elif want is not None and line != want:
                r.fail(f"ledger.jsonl line {number}", self._line_difference(line, want))
                reported += 1
            if reported >= MAX_LINE_REPORTS:
                r.fail("ledger.jsonl", "more lines differ; stopped listing them")
                return
        if len(lines) < len(expected):
            if reported:
                r.fail("ledger.jsonl", f"{len(expected) - len(lines)} entries of the database are missing")
            else:
                r.note("ledger.jsonl", f"{len(expected) - len(lines)} newest entries not written yet "
                                       "(an update was interrupted); they are added on the next change")

    @staticmethod
    def _line_difference(line: bytes, want: bytes) -> str:
        try:
            found = json.loads(line)
        except ValueError:
            return "not a valid JSON entry (edited or damaged)"
        wanted = json.loads(want)
        if not isinstance(found, dict):
            return "not a JSON object"
        for key in ("seq", "time", "actor", "role", "action", "payload", "prev", "hash"):
            if found.get(key) != wanted.get(key):
                return f"{key} expected {_short(wanted.get(key))}, found {_short(found.get(key))}"
        return "differs from the database in its bytes (spacing or key order)"

    # -------------------------------------------------------- cross-checks
    def rows(self, table: str) -> list[dict[str, Any]]:
        return list(self.case.db.query(f"SELECT * FROM [{table}]"))

    def mirrors(self) -> None:
        for mirror in MIRRORS:
            if not self.case._has_table(mirror.table):
                continue
            if isinstance(mirror, Mirror):
                self._mirror(mirror)
            else:
                self._keyed(mirror)
        self._tracks()
        self._exports_link_approvals()

    def _compare(self, item: str, row: dict[str, Any], entry: Entry, fields: dict, json_columns: Iterable[str]) -> None:
        for column, getter in fields.items():
            expected = getter(entry)
            found = row.get(column)
            if column in json_columns and found is not None:
                with contextlib.suppress(TypeError, ValueError):
                    found = json.loads(found)
            if canonical_json(expected) != canonical_json(found):
                _differs(self.report, item, f"{column} (ledger entry {entry.seq})", expected, found)

    def _mirror(self, mirror: Mirror) -> None:
        seen = set()
        for row in self.rows(mirror.table):
            item = f"{mirror.table} {row.get(mirror.key)}"
            entry = self.entries.get(row.get("ledger_seq"))
            seen.add(row.get("ledger_seq"))
            if entry is None or entry.action != mirror.action:
                self.report.fail(item, f"no {mirror.action} ledger entry wrote it (ledger_seq {row.get('ledger_seq')})")
                continue
            self._compare(item, row, entry, mirror.fields, mirror.json_columns)
        for entry in self.entries.values():
            if entry.action == mirror.action and entry.seq not in seen:
                self.report.fail(f"ledger entry {entry.seq}", f"its {mirror.table} row is missing from the database")

    def _keyed(self, mirror: KeyedMirror) -> None:
        latest: dict[tuple, Entry] = {}
        for entry in self.entries.values():
            if entry.action in mirror.save_actions or entry.action in mirror.delete_actions:
                latest[mirror.entry_key(entry)] = entry
        rows = {tuple(row[c] for c in mirror.key_columns): row for row in self.rows(mirror.table)}
        for key, row in rows.items():
            item = f"{mirror.table} {'/'.join(map(str, key))}"
            entry = latest.get(key)
            if entry is None or entry.action in mirror.delete_actions:
                self.report.fail(item, "the ledger has no entry that leaves this row in place")
                continue
            if row.get("ledger_seq") != entry.seq:
                _differs(self.report, item, "last ledger entry", entry.seq, row.get("ledger_seq"))
            self._compare(item, row, entry, mirror.fields, ())
        for key, entry in latest.items():
            if entry.action in mirror.save_actions and key not in rows:
                self.report.fail(f"{mirror.table} {'/'.join(map(str, key))}",
                                 f"missing from the database (ledger entry {entry.seq} says it exists)")

    def _tracks(self) -> None:
        latest: dict[tuple, tuple[Entry, str | None]] = {}
        for entry in self.entries.values():
            p = entry.payload
            if entry.action == "detect.run" and isinstance(p.get("tracks"), dict):
                for track_id, digest in p["tracks"].items():
                    latest[(p.get("recording"), track_id)] = (entry, digest)
            elif entry.action == "track.save":
                latest[(p.get("recording"), p.get("track"))] = (entry, p.get("track_hash"))
            elif entry.action == "track.delete":
                latest[(p.get("recording"), p.get("track"))] = (entry, None)
        rows = {(row["recording_id"], row["track_id"]): row for row in self.rows("tracks")}
        recomputed = {}
        for recording_id in {k[0] for k in rows}:
            for pk, track, stored in self.case._tracks(recording_id):
                recomputed[pk] = (track_hash(track), stored)
        for key, row in rows.items():
            item = f"track {key[1]} of recording {key[0]}"
            now, stored = recomputed.get(row["pk"], (None, row["content_hash"]))
            if now != stored:
                _differs(self.report, item, "hash of its keyframes", stored, now)
            found = latest.get(key)
            if found is None or found[1] is None:
                self.report.fail(item, "the ledger has no entry that leaves this track in place")
                continue
            entry, digest = found
            if row["ledger_seq"] != entry.seq:
                _differs(self.report, item, "last ledger entry", entry.seq, row["ledger_seq"])
            if digest != stored:
                _differs(self.report, item, f"hash (ledger entry {entry.seq})", digest, stored)
        for key, (entry, digest) in latest.items():
            if digest is not None and key not in rows:
                self.report.fail(f"track {key[1]} of recording {key[0]}",
                                 f"missing from the database (ledger entry {entry.seq} says it exists)")

    def _exports_link_approvals(self) -> None:
        approvals = {row["id"]: row for row in self.rows("approvals")}
        for row in self.rows("exports"):
            entry = self.entries.get(row["ledger_seq"])
            approval = approvals.get(row["approval_id"])
            item = f"exports {row['id']}"
            if approval is None:
                self.report.fail(item, f"its approval {row['approval_id']} does not exist")
                continue
            if entry is not None and entry.payload.get("approval") != approval["ledger_seq"]:
                _differs(self.report, item, "approval ledger entry", entry.payload.get("approval"), approval["ledger_seq"])
            if approval["plan_hash"] != row["plan_hash"] or approval["recording_id"] != row["recording_id"]:
                self.report.fail(item, "it was not exported from the plan its approval names")

    def roles(self) -> None:
        """Each entry's role was the actor's role then, and that role may do the action."""
        role_of: dict[str, tuple[str, bool]] = {}
        for entry in self.entries.values():
            p = entry.payload
            if entry.action in ("user.add", "user.update") and isinstance(p.get("name"), str):
                # the change takes effect after this entry, judged by the role before it
                pending = (p.get("name"), (str(p.get("role")), bool(p.get("active"))))
            else:
                pending = None
            if entry.seq == 1 and entry.action == "case.create":
                role_of[entry.actor] = ("admin", True)  # the first administrator creates the case
            if entry.role not in (SYSTEM, ANONYMOUS):
                held = role_of.get(entry.actor)
                item = f"ledger entry {entry.seq}"
                if held is None:
                    self.report.fail(item, f"actor {entry.actor!r} has no account at that point")
                elif held[0] != entry.role:
                    _differs(self.report, item, f"role of {entry.actor!r}", held[0], entry.role)
                elif not held[1] and entry.action not in ("denied", "sign_in.failed"):
                    self.report.fail(item, f"account {entry.actor!r} was disabled at that point")
                permission = ACTION_PERMISSIONS.get(entry.action)
                if permission and not allowed(entry.role, permission):
                    self.report.fail(item, f"role {entry.role} may not do {entry.action}")
            if pending:
                role_of[pending[0]] = pending[1]

    # ---------------------------------------------------------------- files
    def files(self) -> None:
        r = self.report
        total = sum(row["size"] for row in self.rows("recordings")) + sum(
            row["release_size"] for row in self.rows("exports")
        )
        done = 0

        def tick(n: int, _total: int) -> None:
            if self.progress:
                self.progress(done + n, total)

        originals = 0
        for row in self.rows("recordings"):
            item = row["evidence_path"]
            path = self.layout.root / item
            if not path.is_file():
                r.fail(item, "the original is missing")
                continue
            found = sha256_file(path, tick)
            done += path.stat().st_size
            if found != row["sha256"]:
                _differs(r, item, "SHA-256", row["sha256"], found)
            if path.stat().st_size != row["size"]:
                _differs(r, item, "size", row["size"], path.stat().st_size)
            if path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
                r.warn(item, "the original is writable on disk; it should be read-only")
            originals += 1
        r.stats["originals"] = originals
        release_files = 0
        for row in self.rows("exports"):
            try:
                files = json.loads(row["files"])
            except (TypeError, ValueError):
                continue  # already reported by the cross-check
            for name, sha in files.items():
                item = f"exports/{row['id']}/{name}"
                path = self.layout.exports / row["id"] / name
                if not path.is_file():
                    r.fail(item, "missing")
                    continue
                found = sha256_file(path, tick)
                done += path.stat().st_size if name == "release.mp4" else 0
                if found != sha:
                    _differs(r, item, "SHA-256", sha, found)
                release_files += 1
            if files.get("release.mp4") != row["release_sha256"]:
                _differs(r, f"exports {row['id']}", "release SHA-256 in its file list", row["release_sha256"],
                         files.get("release.mp4"))
        r.stats["release_files"] = release_files
        plans = {row[0] for row in self.conn.execute(self.case._plan_hash_sql())}
        for digest in sorted(plans):
            item = f"plans/{digest}.json"
            path = self.layout.plan_blob(digest)
            if not path.is_file():
                r.fail(item, "missing")
            elif (found := sha256_file(path)) != digest:
                _differs(r, item, "SHA-256", digest, found)
        self._sums()
        self._strays()

    def _sums(self) -> None:
        r = self.report
        expected = self.case.expected_sums()
        try:
            lines = self.layout.sums.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            r.fail("SHA256SUMS", "missing")
            return
        except (OSError, UnicodeDecodeError) as error:
            r.fail("SHA256SUMS", f"unreadable ({error})")
            return
        extra = [line for line in lines if line not in expected]
        for line in extra[:MAX_LINE_REPORTS]:
            r.fail("SHA256SUMS", f"a line that matches no record: {_short(line)}")
        missing = [line for line in expected if line not in lines]
        if missing and not extra:
            r.note("SHA256SUMS", f"{len(missing)} newest lines not written yet (an update was interrupted)")

    def _strays(self) -> None:
        known = {row["evidence_path"] for row in self.rows("recordings")}
        for path in sorted(self.layout.evidence.iterdir()) if self.layout.evidence.is_dir() else []:
            rel = self.layout.relative(path)
            if rel not in known:
                self.report.note(rel, "not an ingested original (left by an interrupted ingest, or added by hand)")
        exported = {row["id"] for row in self.rows("exports")}
        for path in sorted(self.layout.exports.iterdir()) if self.layout.exports.is_dir() else []:
            if path.name.startswith("."):
                self.report.note(self.layout.relative(path), "unfinished work left by an interrupted export")
            elif path.name not in exported:
                self.report.note(self.layout.relative(path), "not a recorded export (interrupted before it was recorded?)")


def verify_case(
    path: Path | str,
    *,
    record: bool = True,
    expect_key: str | None = None,
    expect_head: tuple[int, str] | None = None,
    progress: ProgressCallback | None = None,
) -> VerifyReport:
    """Check a case; with ``record`` the run (and its verdict) goes into the ledger.

    ``expect_key`` is the public-key fingerprint and ``expect_head`` an (entry,
    hash) pair written down earlier, outside the case: they catch a history
    rewritten by someone holding the case's own signing key."""
    report = VerifyReport()
    try:
        case = Case.open(path, readonly=not record)
    except RedactionError as error:
        report.fail(str(path), str(error))
        return report
    # Bytes that are not UTF-8 (a hex editor's work) must become a finding, not a crash.
    case.conn.text_factory = lambda data: data.decode("utf-8", "replace")
    try:
        verifier = _Verifier(case, report, expect_key, expect_head, progress)
        if verifier.database():
            for step in (verifier.chain, verifier.keys_and_checkpoints, verifier.jsonl, verifier.mirrors,
                         verifier.roles, verifier.files, verifier.anchors):
                try:
                    step()
                except Exception as error:  # damaged data must be reported, never crash verify
                    report.fail("case.db", f"{step.__name__.replace('_', ' ')} could not be checked ({error})")
        case.conn.text_factory = str
        if record and not case.readonly:
            _record(case, report)
    finally:
        case.close()
    return report


def _record(case: Case, report: VerifyReport) -> None:
    user = case.user
    actor, role = (user.name, user.role.value) if user else (os_actor(), ANONYMOUS)
    payload = {
        "ok": report.ok,
        "failures": len(report.failures),
        "entries_checked": report.stats.get("entries", 0),
        "head_checked": report.stats.get("head", ""),
        "problems": [f.line() for f in report.failures[:20]],
    }
    try:
        with case.transaction(actor=actor, role=role) as tx:
            tx.record("verify.run", payload)
    except RedactionError as error:
        report.note("ledger", f"this verification could not be recorded ({error})")

