"""The department registry: one folder that lists the case folders, and holds
what spans them: monthly audits (ordinance E) and the quarterly record of
mutes and deactivations (B.2).

A registry is a case folder of its own kind, made by ``Registry.create``: it
has the same accounts, argon2 sign-in, permission table, hash-chained and
signed ledger and ``verify`` as any case, and holds no recordings. Its
``registry_info`` row carries the department's calendar (time zone and
holiday adjustments, ``review.workdays``), which places recordings in months
and quarters and counts business days.

Cases are registered by path (relative to the registry when they sit inside
it, so the whole tree can move). To build a sample or a report, the registry
opens each registered case **read-only** and reads metadata only (recording
times, officers, hashes, mute records, clock marks), as ``verify`` does; it
never signs into a case, reads footage or writes to a case. Every draw,
finding, referral and report is an entry in the registry's own ledger; the
files it writes (``referrals/``, ``reports/``) carry their own SHA256SUMS and
their hashes are in the ledger (``Registry.check_files``).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redaction.errors import RedactionError
from redaction.fsutil import atomic_write_text

from .audits import AuditMixin
from .case import Case
from .errors import CaseError
from .hashing import canonical_json, sha256_file
from .layout import file_mode
from .reports import ReportMixin
from .workdays import DEFAULT_TIMEZONE, WorkCalendar, zone

_README = """\
This folder is a bwc-redact department registry: {title}

It lists the case folders of the department and keeps what spans them:
monthly audits (ordinance E) and the quarterly record of camera mutes and
deactivations (ordinance B.2).

case.db, ledger.jsonl    the registry's database and its hash-chained ledger
referrals/               referral reports of material non-compliance found by audits
reports/                 quarterly records (CSV and HTML) for the Mayor and City Council
SHA256SUMS               in each report and referral folder: run `sha256sum -c SHA256SUMS` there

To check everything: bwc-redact registry verify <this folder>
"""


@dataclass(frozen=True)
class RegisteredCase:
    case_id: str
    path: Path
    title: str
    stored_path: str  # as recorded: relative to the registry, or absolute


def is_registry(conn: Any) -> bool:
    try:
        return conn.execute("SELECT 1 FROM registry_info WHERE id = 1").fetchone() is not None
    except Exception:  # an older database without the table
        return False


class Registry(AuditMixin, ReportMixin, Case):
    @classmethod
    def create(  # type: ignore[override]
        cls,
        path: Path | str,
        *,
        title: str,
        admin: str,
        password: str,
        display_name: str = "",
        timezone: str = DEFAULT_TIMEZONE,
        users_from: Path | str | None = None,
    ) -> Registry:
        """Make a registry folder with its first administrator, who is signed in on the result."""
        zone(timezone)
        base = Case.create(path, title=title, admin=admin, password=password, display_name=display_name,
                           users_from=users_from)
        try:
            calendar = WorkCalendar(timezone)
            with base.transaction() as tx:
                holidays = {"added": {}, "removed": []}
                entry = tx.record("registry.setup", {"name": title.strip(), "timezone": timezone,
                                                     "holidays": holidays})
                tx.insert("registry_info", {"id": 1, "name": title.strip(), "timezone": calendar.timezone,
                                            "holidays": canonical_json(holidays), "ledger_seq": entry.seq})
            root = base.layout.root
        finally:
            base.close()
        readme = root / "README.txt"
        atomic_write_text(readme, _README.format(title=title.strip()))
        os.chmod(readme, file_mode())
        registry = cls.open(root)
        registry._user = registry.get_user(admin)
        return registry

    @classmethod
    def open(cls, path: Path | str, *, readonly: bool = False) -> Registry:  # type: ignore[override]
        registry = super().open(path, readonly=readonly)
        if not is_registry(registry.conn):
            registry.close()
            raise CaseError(f"{path} is a case folder, not a registry; make one with `bwc-redact registry new`.")
        return registry

    # ---------------------------------------------------------------- settings
    def calendar(self) -> WorkCalendar:
        row = self.conn.execute("SELECT timezone, holidays FROM registry_info WHERE id = 1").fetchone()
        holidays = json.loads(row[1])
        return WorkCalendar(row[0], dict(holidays.get("added") or {}), tuple(holidays.get("removed") or ()))

    def set_calendar(self, *, timezone: str | None = None, added: dict[str, str] | None = None,
                     removed: list[str] | None = None) -> WorkCalendar:
        """Change the time zone and/or replace the holiday adjustments (records officers)."""
        with self.write("registry.manage", "change the registry's calendar") as tx:
            current = self.calendar()
            tz = timezone or current.timezone
            zone(tz)
            holidays = {"added": dict(sorted((added if added is not None else current.added).items())),
                        "removed": sorted(removed if removed is not None else current.removed)}
            name = self.conn.execute("SELECT name FROM registry_info WHERE id = 1").fetchone()[0]
            entry = tx.record("registry.settings", {"name": name, "timezone": tz, "holidays": holidays})
            tx.execute("UPDATE registry_info SET timezone = ?, holidays = ?, ledger_seq = ? WHERE id = 1",
                       (tz, canonical_json(holidays), entry.seq))
        return self.calendar()

    # ------------------------------------------------------------------- cases
    def _stored_path(self, folder: Path) -> str:
        folder = folder.absolute()
        try:
            return folder.relative_to(self.layout.root).as_posix()
        except ValueError:
            return str(folder)

    def _resolve(self, stored: str) -> Path:
        path = Path(stored)
        return path if path.is_absolute() else self.layout.root / path

    def register_case(self, folder: Path | str) -> RegisteredCase:
        """Add a case folder to the registry (or record that a registered case moved)."""
        folder = Path(folder).absolute()
        with self.write("registry.manage", f"register the case {folder}", {"folder": str(folder)}) as tx:
            if folder == self.layout.root:
                raise CaseError("A registry cannot register itself.")
            with self._case_at(folder) as case:
                if is_registry(case.conn):
                    raise CaseError(f"{folder} is a registry, not a case.")
                info = case.info()
            stored = self._stored_path(folder)
            known = tx.execute("SELECT path FROM registered_cases WHERE case_id = ?", (info.case_id,)).fetchone()
            if known and known[0] == stored:
                raise CaseError(f"The case {info.title!r} ({info.case_id}) is already registered at {folder}.")
            entry = tx.record("registry.register", {"case": info.case_id, "path": stored, "title": info.title,
                                                    "moved_from": known[0] if known else None})
            tx.execute(
                "INSERT INTO registered_cases (case_id, path, title, ledger_seq) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (case_id) DO UPDATE SET path = excluded.path, title = excluded.title, "
                "ledger_seq = excluded.ledger_seq",
                (info.case_id, stored, info.title, entry.seq),
            )
        return RegisteredCase(info.case_id, folder, info.title, stored)

    def registered_cases(self) -> list[RegisteredCase]:
        self.require("case.read", "list the registered cases")
        with self._lock:
            rows = self.conn.execute("SELECT case_id, path, title FROM registered_cases ORDER BY title, case_id")
            return [RegisteredCase(r[0], self._resolve(r[1]), r[2], r[1]) for r in rows.fetchall()]

    @contextlib.contextmanager
    def _case_at(self, folder: Path, case_id: str | None = None) -> Iterator[Case]:
        try:
            case = Case.open(folder, readonly=True)
        except RedactionError as error:
            what = f"The registered case {case_id} at {folder}" if case_id else str(folder)
            raise CaseError(f"{what} cannot be opened: {error} If it moved, register it again at its new "
                            "place (bwc-redact registry add).") from None
        try:
            if case_id and case.info().case_id != case_id:
                raise CaseError(f"{folder} now holds another case ({case.info().case_id}, not {case_id}); "
                                "register the right folder again.")
            yield case
        finally:
            case.close()

    def each_case(self) -> Iterator[tuple[RegisteredCase, Case]]:
        """Every registered case, opened read-only in turn (metadata reads only)."""
        for registered in self.registered_cases():
            with self._case_at(registered.path, registered.case_id) as case:
                yield registered, case

    # ------------------------------------------------------------------ files
    def check_files(self) -> list[str]:
        """Problems with the files of referrals and reports: each must match the hash in the ledger."""
        problems = []
        with self._lock:
            rows = self.conn.execute("SELECT folder, files FROM audit_referrals UNION ALL "
                                     "SELECT folder, files FROM reports").fetchall()
        for folder, files in rows:
            for name, digest in json.loads(files).items():
                path = self.layout.root / folder / name
                if not path.is_file():
                    problems.append(f"FAIL {folder}/{name}: missing")
                elif sha256_file(path) != digest:
                    problems.append(f"FAIL {folder}/{name}: SHA-256 expected {digest[:16]}..., found another")
        return problems
