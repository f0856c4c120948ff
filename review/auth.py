"""Roles, the one permission table, and password hashing.

Roles (ordinance references in brackets):

- ``admin``: manages user accounts and nothing else; the first account of a case.
- ``records_officer``: ingests, reviews, redacts, exports.
- ``approver``: the Chief of Police or the City Attorney; approves an edit for
  release [F.3]. Cannot edit or export, so nobody approves their own work.
- ``auditor``: reads everything, records audit findings [E].
- ``preview_host``: runs next-of-kin viewings only [D.4].

A permission not listed, or listed with no roles (``original.alter``), is
refused to everyone. Add permissions here, never in the window: the case layer
checks them through ``Case.require``, which also records every refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .errors import CaseError


class Role(StrEnum):
    ADMIN = "admin"
    RECORDS_OFFICER = "records_officer"
    APPROVER = "approver"
    AUDITOR = "auditor"
    PREVIEW_HOST = "preview_host"


ROLE_TITLES: dict[Role, str] = {
    Role.ADMIN: "administrator",
    Role.RECORDS_OFFICER: "records officer",
    Role.APPROVER: "approver (Chief of Police or City Attorney)",
    Role.AUDITOR: "auditor",
    Role.PREVIEW_HOST: "preview host",
}

# Actors that are not user accounts.
ANONYMOUS = "anonymous"  # nobody signed in (verify runs, failed sign-ins)
SYSTEM = "system"  # the program itself (schema upgrades)

_ALL = frozenset(Role)
_READERS = frozenset({Role.ADMIN, Role.RECORDS_OFFICER, Role.APPROVER, Role.AUDITOR, Role.PREVIEW_HOST})

# permission -> (roles allowed, what it lets you do: completes "may not ...")
PERMISSIONS: dict[str, tuple[frozenset[Role], str]] = {
    "case.read": (_READERS, "open this case"),
    "case.edit": (frozenset({Role.RECORDS_OFFICER}), "change the case details"),
    "ledger.read": (frozenset({Role.ADMIN, Role.RECORDS_OFFICER, Role.APPROVER, Role.AUDITOR}), "read the ledger"),
    "user.manage": (frozenset({Role.ADMIN}), "manage user accounts"),
    "recording.ingest": (frozenset({Role.RECORDS_OFFICER}), "ingest recordings"),
    "plan.edit": (frozenset({Role.RECORDS_OFFICER}), "change what is redacted"),
    "release.approve": (frozenset({Role.APPROVER}), "approve a release"),
    "release.export": (frozenset({Role.RECORDS_OFFICER}), "export a release"),
    "audit.record": (frozenset({Role.AUDITOR}), "record audit findings"),
    "preview.host": (frozenset({Role.PREVIEW_HOST}), "host a next-of-kin viewing"),
    # Ordinance workflows (review.nok, review.mutes, review.clocks, review.registry, review.audits).
    "nok.record": (frozenset({Role.RECORDS_OFFICER, Role.PREVIEW_HOST}), "record next-of-kin steps"),
    "mute.record": (frozenset({Role.RECORDS_OFFICER}), "record camera muting or deactivation"),
    "clock.mark": (frozenset({Role.RECORDS_OFFICER, Role.APPROVER}), "mark critical-incident deadlines"),
    "registry.manage": (frozenset({Role.RECORDS_OFFICER}), "register cases or change the registry settings"),
    "audit.read": (frozenset({Role.RECORDS_OFFICER, Role.APPROVER, Role.AUDITOR}), "read the monthly audits"),
    "report.produce": (frozenset({Role.RECORDS_OFFICER}), "produce the quarterly record"),
    # Nobody: originals are kept byte for byte and never removed (ordinance F.3).
    "original.alter": (frozenset(), "alter or delete an original recording"),
}


def allowed(role: str | None, permission: str) -> bool:
    entry = PERMISSIONS.get(permission)
    return bool(entry) and role in {r.value for r in entry[0]}


def describe(permission: str) -> str:
    entry = PERMISSIONS.get(permission)
    return entry[1] if entry else permission


def who_may(permission: str) -> str:
    entry = PERMISSIONS.get(permission)
    if not entry or not entry[0]:
        return "nobody may"
    titles = [ROLE_TITLES[r] for r in Role if r in entry[0]]
    if len(titles) == len(_ALL):
        return "every role may"
    joined = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " or " + titles[-1]
    return f"only {'an' if joined[0] in 'aeiou' else 'a'} {joined} may"


def parse_role(text: str) -> Role:
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return Role(key)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise CaseError(f"Unknown role {text!r}; use one of: {choices}.") from None


_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD = 8


def check_user_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise CaseError(
            f"User name {name!r} is not allowed: use 1-64 lower-case letters, digits, '.', '_' or '-'."
        )
    return name


def check_new_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise CaseError(f"Passwords need at least {MIN_PASSWORD} characters.")


# argon2id with the library's defaults (RFC 9106 low-memory profile). The
# parameters travel inside each hash, so tests may swap in a cheaper hasher
# without weakening hashes made by the product.
HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    display_name: str = ""
    active: bool = True
    created_at: str = ""

    @property
    def title(self) -> str:
        return ROLE_TITLES[self.role]

    def label(self) -> str:
        return f"{self.title.split(' (')[0].capitalize()} '{self.name}'"
