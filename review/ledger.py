"""The hash-chained ledger.

Each entry is ``seq`` (1, 2, 3, ...), ``time`` (UTC, ISO 8601 with
microseconds and ``Z``), ``actor`` (user name), ``role``, ``action`` and a JSON
``payload``. Its **body** is the canonical JSON (``review.hashing``) of the
object with exactly those six keys, and::

    hash = SHA-256( prev_hash + body )      # both as UTF-8; prev_hash is 64 hex digits
    prev_hash of entry 1 = "0" * 64

so no field of an entry, and no entry before it, can change without changing
every later hash. Entries are only appended (SQLite triggers refuse updates,
deletes and out-of-order inserts as well).

A **checkpoint** is an entry with action ``checkpoint`` whose payload carries
``count`` (entries before it), ``head`` (hash of entry ``count``), the key
fingerprint and an Ed25519 signature over the canonical JSON of
``{"case": case_id, "count": count, "head": head}``.

``ledger.jsonl`` holds one line per entry: the canonical JSON of the body's
keys plus ``prev`` and ``hash``. It is brought up to date after every commit
by copying the old file, appending the new lines and renaming over it, and
only when its last line still matches the database, so an edited file is never
silently overwritten.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redaction.fsutil import atomic_path

from .hashing import GENESIS_HASH, canonical_json, sha256_text
from .layout import file_mode

CHECKPOINT = "checkpoint"
BODY_KEYS = ("seq", "time", "actor", "role", "action", "payload")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def entry_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return sha256_text(prev_hash + canonical_json(body))


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    time: str
    actor: str
    role: str
    action: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    def body(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "actor": self.actor,
            "role": self.role,
            "action": self.action,
            "payload": self.payload,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.body(), "prev": self.prev_hash, "hash": self.hash}

    def line(self) -> str:
        return canonical_json(self.to_json()) + "\n"

    def computed_hash(self) -> str:
        return entry_hash(self.prev_hash, self.body())


def checkpoint_message(case_id: str, count: int, head: str) -> bytes:
    return canonical_json({"case": case_id, "count": count, "head": head}).encode("utf-8")


class BadRow(ValueError):
    """A ledger row that cannot even be read as an entry (tampered or damaged)."""


def row_to_entry(row: sqlite3.Row | tuple | dict) -> Entry:
    if isinstance(row, dict):
        values = [row[k] for k in ("seq", "time", "actor", "role", "action", "payload", "prev_hash", "hash")]
    else:
        values = list(row)
    seq, time, actor, role, action, payload_text, prev_hash, hash_ = values
    try:
        payload = json.loads(payload_text)
    except (TypeError, ValueError) as error:
        raise BadRow(f"its payload is not valid JSON ({error})") from error
    if not isinstance(payload, dict):
        raise BadRow("its payload is not a JSON object")
    if canonical_json(payload) != payload_text:
        raise BadRow("its payload is not in canonical form")
    return Entry(seq, time, actor, role, action, payload, prev_hash, hash_)


SELECT = "SELECT seq, time, actor, role, action, payload, prev_hash, hash FROM ledger"


def head(conn: sqlite3.Connection) -> tuple[int, str]:
    row = conn.execute("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
    return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))


def append(
    conn: sqlite3.Connection, actor: str, role: str, action: str, payload: dict[str, Any]
) -> Entry:
    """Append one entry. The caller holds the write lock (BEGIN IMMEDIATE)."""
    if not conn.in_transaction:
        raise RuntimeError("ledger.append needs an open write transaction")
    text = canonical_json(payload)
    seq, prev = head(conn)
    body = {
        "seq": seq + 1,
        "time": utc_now(),
        "actor": actor,
        "role": role,
        "action": action,
        "payload": json.loads(text),
    }
    entry = Entry(
        body["seq"], body["time"], actor, role, action, body["payload"], prev, entry_hash(prev, body)
    )
    conn.execute(
        "INSERT INTO ledger (seq, time, actor, role, action, payload, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?)",
        (entry.seq, entry.time, actor, role, action, text, prev, entry.hash),
    )
    return entry


def entries(conn: sqlite3.Connection, start: int = 1, action: str | None = None) -> Iterator[Entry]:
    """Entries from ``start`` on, oldest first (optionally one action only)."""
    if action is None:
        rows = conn.execute(f"{SELECT} WHERE seq >= ? ORDER BY seq", (start,))
    else:
        rows = conn.execute(f"{SELECT} WHERE seq >= ? AND action = ? ORDER BY seq", (start, action))
    for row in rows:
        yield row_to_entry(row)


def _last_line(path: Path) -> bytes | None:
    """The last complete line of ``path`` (without reading the whole file)."""
    with open(path, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return b""
        block = 64 * 1024
        tail = b""
        pos = size
        while pos > 0:
            step = min(block, pos)
            pos -= step
            handle.seek(pos)
            tail = handle.read(step) + tail
            if tail.count(b"\n") >= 2 or pos == 0:
                break
    if not tail.endswith(b"\n"):
        return None  # a torn write cannot happen with rename; treat as tampered
    lines = tail[:-1].split(b"\n")
    return lines[-1] + b"\n"


def sync_jsonl(conn: sqlite3.Connection, path: Path) -> bool:
    """Bring ``ledger.jsonl`` up to date with the database.

    The caller holds the write lock so no one commits meanwhile. Returns False
    (and leaves the file alone) when the file's last line does not match the
    database: that is for ``verify`` to report, not for us to paper over.
    """
    count, _ = head(conn)
    known = 0
    if path.exists():
        last = _last_line(path)
        if last is None:
            return False
        if last:
            try:
                known = int(json.loads(last)["seq"])
            except (ValueError, KeyError, TypeError):
                return False
            row = conn.execute(f"{SELECT} WHERE seq = ?", (known,)).fetchone()
            try:
                if row is None or row_to_entry(row).line().encode("utf-8") != last:
                    return False
            except BadRow:
                return False
        if known == count:
            return True
    with atomic_path(path) as tmp:
        if known:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            # Copy, never rewrite: whatever is in the file stays as it was.
            shutil.copyfile(path, tmp)
        with open(tmp, "ab") as handle:
            for entry in entries(conn, start=known + 1):
                handle.write(entry.line().encode("utf-8"))
        os.chmod(tmp, file_mode())
    return True
