"""The case store core: open or create a case, transactions, the ledger, sign-in.

Everything that changes a case goes through ``CaseStore.write(permission,
attempt)``: it checks the signed-in user's role (a refusal is recorded in the
ledger and raised as ``PermissionDenied``), takes SQLite's write lock with
``BEGIN IMMEDIATE`` (so two programs writing one case queue up instead of
forking the chain), lets the caller change rows and append ledger entries in
one transaction, adds a signed checkpoint when due, commits, and then brings
``ledger.jsonl`` and ``SHA256SUMS`` up to date.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from sqlite_utils import Database

from redaction.errors import Cancelled, RedactionError
from redaction.fsutil import atomic_write_text

from . import keys, ledger, schema
from .auth import (
    ANONYMOUS,
    SYSTEM,
    User,
    allowed,
    check_new_password,
    check_user_name,
    describe,
    hash_password,
    password_matches,
    who_may,
)
from .errors import CaseError, PermissionDenied, SignInError
from .filelock import holds_no_lock
from .layout import CaseLayout, file_mode, folder_mode
from .ledger import Entry

BUSY_TIMEOUT = 60.0  # seconds a writer waits for another to finish
CHECKPOINT_EVERY = 20
# Actions after which the head is signed at once, not only every CHECKPOINT_EVERY entries.
SIGNED_ACTIONS = frozenset(
    {"case.create", "case.update", "ingest", "release.approve", "release.export", "verify.run", "user.add", "user.update"}
)
SOFTWARE = "bwc-redact"


def _software_version() -> str:
    try:
        from importlib.metadata import version

        return version("bwc-redact")
    except Exception:  # not installed (running from a checkout)
        return "0+unknown"


def os_actor() -> str:
    """Who is at the keyboard when nobody is signed in: the operating-system login."""
    try:
        return f"os:{getpass.getuser()}"
    except Exception:
        return "os:unknown"


def parse_time(text: str, what: str) -> str:
    """An ISO 8601 date-time as UTC ``...Z``; a time without zone is refused."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CaseError(f"{what} {text!r} is not a date and time like 2026-11-03T14:05:00-07:00.") from None
    if value.tzinfo is None:
        raise CaseError(f"{what} {text!r} has no time zone; add one, e.g. -07:00 or Z.")
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class CaseInfo:
    case_id: str
    title: str
    created_at: str
    incident: str | None
    incident_time: str | None
    public_key: str  # raw Ed25519 public key, hex
    fingerprint: str
    schema_version: int
    path: Path


def _sql_error(error: sqlite3.Error) -> CaseError:
    text = str(error).lower()
    if "locked" in text or "busy" in text:
        return CaseError("The case is busy: another program kept it locked too long. Try again.")
    if "readonly" in text or "read-only" in text:
        return CaseError("The case folder is read-only here; changes cannot be saved.")
    if "full" in text:
        return CaseError("The disk is full; nothing was changed in the case.")
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return CaseError("The case database (case.db) is damaged; restore it from a backup.")
    return CaseError(f"The case database refused the change ({error}).")


def connect(path: Path, readonly: bool = False) -> tuple[sqlite3.Connection, Database]:
    try:
        if readonly:
            conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT, check_same_thread=False)
            try:
                conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
            except sqlite3.OperationalError:
                # Read-only media: WAL needs a writable folder for its index; a closed
                # case has no pending WAL, so read the file as it is.
                conn.close()
                conn = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        else:
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT, check_same_thread=False)
        # FULL: a committed custody record survives a power cut, not just a crash.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        db = Database(conn, execute_plugins=False)
    except sqlite3.Error as error:
        raise _sql_error(error) from error
    return conn, db


class Tx:
    """One write transaction: change rows, append ledger entries."""

    def __init__(self, store: CaseStore, actor: str, role: str) -> None:
        self.store = store
        self.conn = store.conn
        self.actor = actor
        self.role = role
        self.entries: list[Entry] = []

    def execute(self, sql: str, params: tuple | list | dict = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert ``row`` into ``table``; return its rowid."""
        return int(self.store.db[table].insert(row).last_rowid or 0)

    def record(self, action: str, payload: dict[str, Any]) -> Entry:
        entry = ledger.append(self.conn, self.actor, self.role, action, payload)
        self.entries.append(entry)
        return entry


class CaseStore:
    """An open case. Use ``Case.open`` / ``Case.create`` (``review.case``)."""

    def __init__(self, root: Path, conn: sqlite3.Connection, db: Database, readonly: bool = False) -> None:
        self.layout = CaseLayout(root)
        self.conn = conn
        self.db = db
        self.readonly = readonly
        self._user: User | None = None
        self._lock = threading.RLock()
        self._info: CaseInfo | None = None
        self._signing_key: Any = None

    # ----------------------------------------------------------- open / create
    @classmethod
    def open(cls, path: Path | str, *, readonly: bool = False) -> Self:
        """Open an existing case; upgrade its schema if it is older (unless read-only)."""
        layout = CaseLayout(Path(path).absolute())
        if not layout.db.is_file():
            raise CaseError(f"{path} is not a bwc-redact case (there is no case.db in it).")
        conn, db = connect(layout.db, readonly=readonly)
        store = cls(layout.root, conn, db, readonly=readonly)
        try:
            store._upgrade()
            store._load_info()
            if not readonly:
                store._recover()
        except sqlite3.DatabaseError as error:
            store.close()
            raise _sql_error(error) from error
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def create(
        cls,
        path: Path | str,
        *,
        title: str,
        admin: str,
        password: str,
        display_name: str = "",
        incident: str | None = None,
        incident_time: str | None = None,
        users_from: Path | str | None = None,
    ) -> Self:
        """Make a new case folder with its key pair, database and first administrator,
        who is signed in on the returned case. The folder appears complete or not at all."""
        final = Path(path).absolute()
        if final.exists() and (not final.is_dir() or any(final.iterdir())):
            raise CaseError(f"{final} already exists and is not empty; choose a new folder for the case.")
        if not final.parent.is_dir():
            raise CaseError(f"The folder {final.parent} does not exist.")
        if not title.strip():
            raise CaseError("A case needs a title.")
        check_user_name(admin)
        check_new_password(password)
        if incident not in (None, "critical"):
            raise CaseError(f"Unknown incident kind {incident!r}; the only kind is 'critical'.")
        when = parse_time(incident_time, "The incident time") if incident_time else None
        if when and not incident:
            raise CaseError("An incident time only makes sense with --incident critical.")
        copied = cls._users_of(users_from) if users_from else []

        work = Path(tempfile.mkdtemp(prefix=f".{final.name}.creating-", dir=final.parent))
        try:
            layout = CaseLayout(work)
            for folder in (layout.exports, layout.plans):
                folder.mkdir()
            layout.incoming.mkdir()
            layout.evidence.mkdir()
            public = keys.create_key_pair(layout)
            conn, db = connect(layout.db)
            db.enable_wal()
            schema.migrate(db)
            store = cls(work, conn, db)
            case_id = os.urandom(8).hex()
            now = ledger.utc_now()
            try:
                with store.transaction(actor=admin, role="admin") as tx:
                    info_payload = {
                        "case_id": case_id,
                        "title": title.strip(),
                        "incident": incident,
                        "incident_time": when,
                        "public_key": public.hex(),
                        "key_fingerprint": keys.fingerprint(public),
                        "schema_version": schema.schema_version(db),
                        "software": f"{SOFTWARE} {_software_version()}",
                    }
                    store._info = CaseInfo(
                        case_id, title.strip(), now, incident, when, public.hex(), keys.fingerprint(public), 0, work
                    )
                    entry = tx.record("case.create", info_payload)
                    tx.insert(
                        "case_info",
                        {
                            "id": 1,
                            "case_id": case_id,
                            "title": title.strip(),
                            "created_at": entry.time,
                            "incident": incident,
                            "incident_time": when,
                            "public_key": public.hex(),
                            "ledger_seq": entry.seq,
                        },
                    )
                    store._insert_user(tx, admin, "admin", hash_password(password), display_name, {})
                    for row in copied:
                        if row["name"] == admin:
                            continue
                        store._insert_user(
                            tx, row["name"], row["role"], row["password_hash"], row["display_name"],
                            {"copied_from": row["case_id"]}, active=bool(row["active"]),
                        )
            finally:
                store.close()
            os.chmod(layout.evidence, 0o555)
            atomic_write_text(layout.readme, _CASE_README.format(title=title.strip(), case_id=case_id))
            os.chmod(layout.readme, file_mode())
            os.chmod(work, folder_mode())
            if final.exists():
                final.rmdir()
            os.rename(work, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.chmod(work / "evidence", 0o755)
            shutil.rmtree(work, ignore_errors=True)
            raise
        case = cls.open(final)
        case._user = case.get_user(admin)
        return case

    @staticmethod
    def _users_of(other: Path | str) -> list[dict[str, Any]]:
        source = CaseStore.open(other, readonly=True)
        try:
            case_id = source.info().case_id
            rows = list(source.db.query("SELECT name, role, display_name, password_hash, active FROM users"))
        finally:
            source.close()
        return [{**row, "case_id": case_id} for row in rows]

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _upgrade(self) -> None:
        version = schema.schema_version(self.db)
        if version == schema.SCHEMA_VERSION:
            return
        if self.readonly:
            if version > schema.SCHEMA_VERSION:
                raise CaseError("This case was written by a newer bwc-redact; upgrade bwc-redact to open it.")
            raise CaseError(f"This case uses an older database layout (version {version}); open it once "
                            "with write access so bwc-redact can upgrade it.")
        old, new = schema.migrate(self.db)
        if new != old:
            with self.transaction(actor=SOFTWARE, role=SYSTEM) as tx:
                tx.record("schema.upgrade", {"from": old, "to": new, "software": _software_version()})

    def _load_info(self) -> None:
        row = self.conn.execute(
            "SELECT case_id, title, created_at, incident, incident_time, public_key FROM case_info WHERE id = 1"
        ).fetchone()
        if row is None:
            raise CaseError(f"{self.layout.root} has no case record; it was never finished or is damaged.")
        public = bytes.fromhex(row[5])
        self._info = CaseInfo(
            row[0], row[1], row[2], row[3], row[4], row[5], keys.fingerprint(public),
            schema.schema_version(self.db), self.layout.root,
        )

    def _recover(self) -> None:
        """Tidy what a killed program left behind; never touches a final path."""
        for partial in self.layout.incoming.glob("*.partial"):
            if holds_no_lock(partial):
                with contextlib.suppress(OSError):
                    partial.unlink()
        for lock in self.layout.exports.glob(".building-*.lock"):
            if holds_no_lock(lock):
                shutil.rmtree(lock.with_suffix(""), ignore_errors=True)
                with contextlib.suppress(OSError):
                    lock.unlink()
        self.sync_files()

    def info(self) -> CaseInfo:
        assert self._info is not None
        return self._info

    # ------------------------------------------------------------ transactions
    @contextlib.contextmanager
    def transaction(self, actor: str | None = None, role: str | None = None) -> Iterator[Tx]:
        """A write transaction under the write lock, as ``actor``/``role`` (default: the
        signed-in user). Prefer ``write()``, which checks a permission first."""
        if self.readonly:
            raise CaseError("This case was opened read-only; changes cannot be saved.")
        if actor is None:
            if self._user is None:
                raise CaseError("Sign in first.")
            actor, role = self._user.name, self._user.role.value
        with self._lock:
            if self.conn.in_transaction:
                raise RuntimeError("case transactions do not nest")
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise _sql_error(error) from error
            tx = Tx(self, actor, role or ANONYMOUS)
            try:
                yield tx
                if tx.entries:
                    self._checkpoint_if_due(tx)
                self.conn.execute("COMMIT")
            except BaseException as error:
                if self.conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self.conn.execute("ROLLBACK")
                if isinstance(error, sqlite3.Error):
                    raise _sql_error(error) from error
                raise
        if tx.entries:
            self.sync_files()

    @contextlib.contextmanager
    def write(self, permission: str, attempt: str, failure: dict[str, Any] | None = None) -> Iterator[Tx]:
        """Check ``permission`` (refusals are recorded), then open a transaction as the
        signed-in user. A ``RedactionError`` raised inside is recorded as a failed
        ``attempt`` (with ``failure`` details) and re-raised; the transaction rolls back."""
        self.require(permission, attempt)
        with self.recording_failures(attempt, failure or {}), self.transaction() as tx:
            yield tx

    @contextlib.contextmanager
    def recording_failures(self, attempt: str, details: dict[str, Any]) -> Iterator[None]:
        """Record a failed or cancelled long action in the ledger (outside its own,
        rolled-back transaction), then let the error go on to the user."""
        try:
            yield
        except PermissionDenied:
            raise
        except Cancelled:
            self._record_failure("action.cancelled", {"attempt": attempt, **details})
            raise
        except RedactionError as error:
            self._record_failure("action.failed", {"attempt": attempt, "error": str(error), **details})
            raise

    def _record_failure(self, action: str, payload: dict[str, Any]) -> None:
        if self.readonly:
            return
        actor, role = (self._user.name, self._user.role.value) if self._user else (os_actor(), ANONYMOUS)
        with contextlib.suppress(RedactionError), self.transaction(actor=actor, role=role) as tx:
            tx.record(action, payload)

    def _checkpoint_if_due(self, tx: Tx) -> None:
        last = self.conn.execute("SELECT MAX(seq) FROM ledger WHERE action = ?", (ledger.CHECKPOINT,)).fetchone()[0]
        count, head = ledger.head(self.conn)
        due = count - (last or 0) >= CHECKPOINT_EVERY or any(e.action in SIGNED_ACTIONS for e in tx.entries)
        if not due:
            return
        if self._signing_key is None:
            self._signing_key = keys.load_private_key(self.layout) or False
        if not self._signing_key:
            return  # key kept offline: verify reports the unsigned tail
        message = ledger.checkpoint_message(self.info().case_id, count, head)
        payload = {
            "count": count,
            "head": head,
            "key": self.info().fingerprint,
            "signature": keys.sign(self._signing_key, message),
        }
        entry = ledger.append(self.conn, SOFTWARE, SYSTEM, ledger.CHECKPOINT, payload)
        tx.entries.append(entry)

    def sync_files(self) -> bool:
        """Bring ``ledger.jsonl`` and ``SHA256SUMS`` up to date with the database.

        The database is the record; these are copies, so a failure here (full
        disk, say) never undoes a committed action. Returns False when a file
        could not be brought up to date (``verify`` says why)."""
        if self.readonly:
            return False
        with self._lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error:
                return False
            try:
                ok = ledger.sync_jsonl(self.conn, self.layout.ledger_jsonl)
                ok = self._sync_sums() and ok
            except (OSError, RedactionError, sqlite3.Error):
                ok = False
            finally:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
        return ok

    def expected_sums(self) -> list[str]:
        """The lines SHA256SUMS should hold: originals, release files, stored plans."""
        lines = [f"{sha}  {path}" for sha, path in self.conn.execute("SELECT sha256, evidence_path FROM recordings")]
        if self._has_table("exports"):
            for export_id, files in self.conn.execute("SELECT id, files FROM exports"):
                with contextlib.suppress(ValueError, TypeError, AttributeError):
                    for name, sha in json.loads(files).items():
                        lines.append(f"{sha}  exports/{export_id}/{name}")
        for (plan_hash,) in self.conn.execute(self._plan_hash_sql()):
            lines.append(f"{plan_hash}  plans/{plan_hash}.json")
        return sorted(set(lines), key=lambda line: line[66:])

    def _plan_hash_sql(self) -> str:
        parts = [f"SELECT plan_hash FROM {t}" for t in ("detection_runs", "approvals", "exports") if self._has_table(t)]
        return " UNION ".join(parts) if parts else "SELECT NULL WHERE 0"

    def _has_table(self, name: str) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None

    def _sync_sums(self) -> bool:
        expected = self.expected_sums()
        text = "".join(line + "\n" for line in expected)
        path = self.layout.sums
        try:
            current = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        if current == text:
            return True
        if current is not None and not set(current.splitlines()) <= set(expected):
            return False  # lines we never wrote: leave them for verify to report
        atomic_write_text(path, text)
        os.chmod(path, file_mode())
        return True

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Several reads that see one state of the case, even while others write."""
        with self._lock:
            if self.conn.in_transaction:
                yield
                return
            self.conn.execute("BEGIN")
            try:
                yield
            finally:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")

    # ----------------------------------------------------------------- ledger
    def head(self) -> tuple[int, str]:
        """(number of ledger entries, hash of the last one)."""
        with self._lock:
            return ledger.head(self.conn)

    def ledger_entries(self, start: int = 1, action: str | None = None) -> list[Entry]:
        self.require("ledger.read", "read the ledger")
        with self._lock:
            return list(ledger.entries(self.conn, start, action))

    def record(self, action: str, payload: dict[str, Any], permission: str) -> Entry:
        """Append one entry for an action that changes no table (a viewing note, say)."""
        with self.write(permission, action) as tx:
            return tx.record(action, payload)

    # ------------------------------------------------------------------ users
    @property
    def user(self) -> User | None:
        return self._user

    def _user_row(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            rows = list(self.db.query("SELECT * FROM users WHERE name = ?", [name]))
        return rows[0] if rows else None

    @staticmethod
    def _to_user(row: dict[str, Any]) -> User:
        from .auth import Role

        return User(row["name"], Role(row["role"]), row["display_name"], bool(row["active"]), row["created_at"])

    def get_user(self, name: str) -> User:
        row = self._user_row(name)
        if row is None:
            raise CaseError(f"There is no user {name!r} in this case.")
        return self._to_user(row)

    def users(self) -> list[User]:
        with self._lock:
            return [self._to_user(r) for r in self.db.query("SELECT * FROM users ORDER BY name")]

    def sign_in(self, name: str, password: str) -> User:
        """Check the password and make ``name`` the acting user of this session."""
        row = self._user_row(name)
        reason = None
        if row is None:
            reason = "unknown user"
        elif not password_matches(row["password_hash"], password):
            reason = "wrong password"
        elif not row["active"]:
            reason = "account disabled"
        if reason:
            self._user = None
            with contextlib.suppress(RedactionError):
                if not self.readonly:
                    with self.transaction(actor=os_actor(), role=ANONYMOUS) as tx:
                        tx.record("sign_in.failed", {"name": name, "reason": reason})
            if reason == "account disabled":
                raise SignInError(f"The account {name!r} is disabled; ask an administrator.")
            raise SignInError("Wrong user name or password.")
        assert row is not None
        self._user = self._to_user(row)
        if not self.readonly:
            with self.transaction() as tx:
                tx.record("sign_in", {"name": name})
        return self._user

    def sign_out(self) -> None:
        self._user = None

    def require(self, permission: str, attempt: str) -> User:
        """The signed-in user if their role allows ``permission``; otherwise record the
        refusal in the ledger and raise ``PermissionDenied`` with a clear message."""
        user = self._user
        if user is not None:
            row = self._user_row(user.name)  # a role change or disabling applies at once
            user = self._to_user(row) if row and row["active"] else None
            self._user = user
        if user is not None and allowed(user.role.value, permission):
            return user
        if user is None:
            message = f"Sign in first: you need an account that may {describe(permission)}."
            actor, role = os_actor(), ANONYMOUS
        else:
            message = f"{user.label()} may not {describe(permission)}; {who_may(permission)}."
            actor, role = user.name, user.role.value
        if not self.readonly:
            with contextlib.suppress(RedactionError), self.transaction(actor=actor, role=role) as tx:
                tx.record("denied", {"permission": permission, "attempt": attempt})
            message += " The attempt was recorded in the case ledger."
        raise PermissionDenied(message)

    def _insert_user(
        self, tx: Tx, name: str, role: str, password_hash: str, display_name: str,
        extra: dict[str, Any], active: bool = True,
    ) -> Entry:
        entry = tx.record(
            "user.add", {"name": name, "role": role, "display_name": display_name, "active": active, **extra}
        )
        tx.insert(
            "users",
            {
                "name": name,
                "display_name": display_name,
                "role": role,
                "password_hash": password_hash,
                "active": int(active),
                "created_at": entry.time,
                "ledger_seq": entry.seq,
            },
        )
        return entry


_CASE_README = """\
This folder is a bwc-redact case: {title}
Case id: {case_id}

evidence/            the ingested original recordings, read-only, never altered
exports/             release packages (redacted video, manifest, checksums, redaction log)
plans/               every redaction plan that was detected or approved, named by its SHA-256
case.db              the case database (SQLite)
ledger.jsonl         every event, hash-chained; one JSON object per line
SHA256SUMS           checksums of everything above: run `sha256sum -c SHA256SUMS` here
case-public-key.pem  the key that checks the ledger's signed checkpoints
keys/                the private signing key: keep this folder private

To check everything: bwc-redact verify <this folder>
To check without bwc-redact, see the section "Checking a case without bwc-redact"
in the bwc-redact README.
"""
