"""How database rows answer to the ledger, for ``verify`` to cross-check.

Every table that holds custody facts is written in the same transaction as the
ledger entry that describes it, and its rows carry ``ledger_seq``. Declaring
the correspondence here lets ``verify`` check, both ways, that no row was
added, changed or removed behind the ledger's back:

- ``Mirror``: an append-only table, one row per entry of one action.
- ``KeyedMirror``: a table of current state, one row per key, equal to the
  latest entry about that key (and absent if that entry was a delete).

Workflow tables added later register the same way (``register``), and new
ledger actions name the permission they need (``ACTION_PERMISSIONS``), so
``verify`` also checks that the role recorded on each entry was allowed it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .ledger import Entry

Getter = Callable[[Entry], Any]


def P(*path: str) -> Getter:  # noqa: N802 - reads like a path in the declarations below
    """The payload value at ``path``."""

    def get(entry: Entry) -> Any:
        value: Any = entry.payload
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    return get


def ACTOR(entry: Entry) -> str:  # noqa: N802
    return entry.actor


def TIME(entry: Entry) -> str:  # noqa: N802
    return entry.time


def as_int(getter: Getter) -> Getter:
    return lambda entry: None if getter(entry) is None else int(getter(entry))


@dataclass(frozen=True)
class Mirror:
    table: str
    action: str
    key: str  # column that names a row in messages
    fields: dict[str, Getter]
    json_columns: frozenset[str] = frozenset()


@dataclass(frozen=True)
class KeyedMirror:
    table: str
    key_columns: tuple[str, ...]
    entry_key: Callable[[Entry], tuple[Any, ...]]
    save_actions: tuple[str, ...]
    delete_actions: tuple[str, ...]
    fields: dict[str, Getter] = field(default_factory=dict)


MIRRORS: list[Mirror | KeyedMirror] = [
    Mirror(
        "recordings", "ingest", "id",
        {
            "id": P("recording"), "sha256": P("sha256"), "size": P("size"), "original_name": P("name"),
            "evidence_path": P("path"), "officer": P("officer"), "camera": P("camera"),
            "recorded_at": P("recorded_at"), "media": P("media"), "ingested_by": ACTOR, "ingested_at": TIME,
        },
        frozenset({"media"}),
    ),
    Mirror(
        "detection_runs", "detect.run", "id",
        {
            "recording_id": P("recording"), "plan_hash": P("plan_hash"), "video": P("video"),
            "engine": P("engine"), "tracks": lambda e: len(e.payload.get("tracks") or {}),
            "segments": P("segments"), "run_by": ACTOR, "run_at": TIME,
        },
        frozenset({"video", "engine"}),
    ),
    Mirror(
        "decisions", "track.decide", "id",
        {
            "recording_id": P("recording"), "track_id": P("track"), "track_pk": P("track_pk"),
            "track_hash": P("track_hash"), "decision": P("decision"), "reason": P("reason"), "note": P("note"),
            "decided_by": ACTOR, "decided_at": TIME,
        },
    ),
    Mirror(
        "approvals", "release.approve", "id",
        {
            "recording_id": P("recording"), "plan_hash": P("plan_hash"), "note": P("note"),
            "approver": ACTOR, "approved_at": TIME,
        },
    ),
    Mirror(
        "exports", "release.export", "id",
        {
            "id": P("export"), "recording_id": P("recording"), "plan_hash": P("plan_hash"),
            "original_sha256": P("original_sha256"), "release_sha256": P("release_sha256"),
            "release_size": P("release_size"), "manifest_sha256": P("manifest_sha256"), "files": P("files"),
            "exported_by": ACTOR, "exported_at": TIME,
        },
        frozenset({"files"}),
    ),
    KeyedMirror(
        "users", ("name",), lambda e: (e.payload.get("name"),), ("user.add", "user.update"), (),
        {"role": P("role"), "display_name": P("display_name"), "active": as_int(P("active"))},
    ),
    KeyedMirror(
        "segments", ("recording_id", "segment_id"),
        lambda e: (
            e.payload.get("recording"),
            e.payload["segment"].get("id") if isinstance(e.payload.get("segment"), dict) else e.payload.get("segment"),
        ),
        ("segment.save",), ("segment.delete",),
        {
            "start_frame": P("segment", "start"), "end_frame": P("segment", "end"), "video": P("segment", "video"),
            "audio": P("segment", "audio"), "reason": P("segment", "reason"), "note": P("segment", "note"),
        },
    ),
    KeyedMirror(
        "case_info", ("id",), lambda e: (1,), ("case.create", "case.update"), (),
        {"title": P("title"), "incident": P("incident"), "incident_time": P("incident_time")},
    ),
]

# Which permission each action needs; verify checks the role on every such entry.
ACTION_PERMISSIONS: dict[str, str] = {
    "ingest": "recording.ingest",
    "ingest.duplicate": "recording.ingest",
    "detect.run": "plan.edit",
    "track.save": "plan.edit",
    "track.delete": "plan.edit",
    "track.decide": "plan.edit",
    "segment.save": "plan.edit",
    "segment.delete": "plan.edit",
    "release.approve": "release.approve",
    "release.export": "release.export",
    "release.deliver": "release.export",
    "user.add": "user.manage",
    "user.update": "user.manage",
    "case.update": "case.edit",
}


def register(mirror: Mirror | KeyedMirror, permissions: dict[str, str] | None = None) -> None:
    """Declare a new table's correspondence with its ledger actions."""
    MIRRORS.append(mirror)
    ACTION_PERMISSIONS.update(permissions or {})
