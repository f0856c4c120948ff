"""Ingest: copy an original into ``evidence/`` once, hashed, read-only, recorded.

The copy is made in ``.incoming/`` (hashing as it goes, in constant memory),
flushed to disk, made read-only and then linked to its final name
``evidence/<first 16 hex of SHA-256>-<name>`` in the same transaction that
records it, so the final name only ever holds a complete copy. Bytes already in
the case are recognised by their hash and not stored twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redaction.errors import InputError
from redaction.fsutil import describe_os_error, fsync_dir
from redaction.progress import CancelToken, ProgressCallback

from .errors import CaseError
from .filelock import hold_lock
from .hashing import canonical_json, copy_and_hash, sha256_file
from .layout import safe_name
from .store import CaseStore, parse_time


@dataclass(frozen=True)
class Recording:
    id: int
    sha256: str
    size: int
    original_name: str
    evidence_path: str  # relative to the case folder
    path: Path  # absolute; open it read-only
    officer: str | None
    camera: str | None
    recorded_at: str | None
    ingested_at: str
    ingested_by: str
    media: dict[str, Any] | None
    ledger_seq: int


@dataclass(frozen=True)
class IngestResult:
    recording: Recording
    duplicate: bool  # True: these bytes were already in the case; nothing was copied


def _num(value: Any, digits: int = 6) -> Any:
    return round(float(value), digits) if isinstance(value, int | float) and not isinstance(value, bool) else value


def media_summary(info: Any) -> dict[str, Any]:
    """What custody needs to know of a ``redaction.probe.MediaInfo``, as plain JSON:
    picture size, frame count and rate, streams, tags. Per-frame tables stay out."""
    video = getattr(info, "video", None)
    summary: dict[str, Any] = {
        "container": str(getattr(info, "container", "")),
        "duration": _num(getattr(info, "duration", 0.0)),
        "width": int(info.width),
        "height": int(info.height),
        "frame_count": int(info.frame_count),
        "fps": _num(info.fps),
        "streams": [str(s.kind) for s in getattr(info, "streams", ())],
        "tags": {str(k): str(v) for k, v in (getattr(info, "tags", None) or {}).items()},
    }
    if video is not None:
        summary["video"] = {
            key: _num(getattr(video, key)) if key.endswith("fps") else getattr(video, key)
            for key in ("codec", "coded_width", "coded_height", "rotation", "pix_fmt", "nominal_fps", "average_fps",
                        "variable_frame_rate")
            if hasattr(video, key)
        }
    summary["audio"] = [
        {"codec": str(a.codec), "sample_rate": int(a.sample_rate), "channels": int(a.channels)}
        for a in getattr(info, "audio", ())
    ]
    return json.loads(json.dumps(summary, default=str))


def probe_media(path: Path) -> dict[str, Any] | None:
    """Probe with the engine when it is installed; its InputError names the file."""
    try:
        from redaction.probe import probe
    except ImportError:
        return None
    return media_summary(probe(path))


@contextlib.contextmanager
def writable(folder: Path) -> Iterator[None]:
    """Open the read-only evidence folder for one link, then close it again."""
    with contextlib.suppress(PermissionError):
        os.chmod(folder, 0o755)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o555)


class RecordingsMixin(CaseStore):
    def _recording_from_row(self, row: dict[str, Any]) -> Recording:
        return Recording(
            id=row["id"],
            sha256=row["sha256"],
            size=row["size"],
            original_name=row["original_name"],
            evidence_path=row["evidence_path"],
            path=self.layout.root / row["evidence_path"],
            officer=row["officer"],
            camera=row["camera"],
            recorded_at=row["recorded_at"],
            ingested_at=row["ingested_at"],
            ingested_by=row["ingested_by"],
            media=json.loads(row["media"]) if row["media"] else None,
            ledger_seq=row["ledger_seq"],
        )

    def recordings(self) -> list[Recording]:
        self.require("case.read", "list recordings")
        with self._lock:
            return [self._recording_from_row(r) for r in self.db.query("SELECT * FROM recordings ORDER BY id")]

    def recording(self, recording_id: int) -> Recording:
        self.require("case.read", f"open recording {recording_id}")
        return self._recording(recording_id)

    def _recording(self, recording_id: int) -> Recording:
        with self._lock:
            rows = list(self.db.query("SELECT * FROM recordings WHERE id = ?", [int(recording_id)]))
        if not rows:
            raise CaseError(f"There is no recording {recording_id} in this case.")
        return self._recording_from_row(rows[0])

    def delete_recording(self, recording_id: int) -> None:
        """Refused to everyone: originals are never altered or removed (ordinance F.3)."""
        self.require("original.alter", f"delete recording {recording_id}")
        raise AssertionError("unreachable: no role may alter an original")  # pragma: no cover

    def ingest(
        self,
        source: Path | str,
        *,
        officer: str | None = None,
        camera: str | None = None,
        recorded_at: str | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> IngestResult:
        """Copy ``source`` into the case as evidence. ``progress`` counts bytes."""
        source = Path(source)
        name = source.name
        self.require("recording.ingest", f"ingest {name}")
        with self.recording_failures(f"ingest {name}", {"file": name}):
            if not source.exists():
                raise InputError(f"{source}: no such file.")
            if not source.is_file():
                raise InputError(f"{source} is not a file.")
            when = parse_time(recorded_at, "The recording time") if recorded_at else None
            self.layout.incoming.mkdir(exist_ok=True)
            tmp = self.layout.incoming / f"{secrets.token_hex(8)}.partial"
            with hold_lock(tmp):
                try:
                    try:
                        sha, size = copy_and_hash(source, tmp, progress, cancel)
                    except OSError as error:
                        if error.filename and Path(error.filename) == source:
                            raise InputError(f"Cannot read {source}: {error.strerror or error}.") from error
                        raise CaseError(describe_os_error(error, self.layout.evidence / name)) from error
                    with self._lock:
                        known = self.conn.execute("SELECT 1 FROM recordings WHERE sha256 = ?", (sha,)).fetchone()
                    # Probe the copy, not the source: the record describes exactly the bytes kept.
                    media = None if known else self._probe_copy(tmp, source)
                    return self._place(tmp, sha, size, name, officer, camera, when, media)
                finally:
                    with contextlib.suppress(OSError):
                        tmp.unlink()

    @staticmethod
    def _probe_copy(tmp: Path, source: Path) -> dict[str, Any] | None:
        try:
            return probe_media(tmp)
        except InputError as error:
            raise InputError(str(error).replace(str(tmp), str(source))) from error

    def _place(
        self, tmp: Path, sha: str, size: int, name: str, officer: str | None, camera: str | None,
        when: str | None, media: dict[str, Any] | None,
    ) -> IngestResult:
        rel = f"evidence/{sha[:16]}-{safe_name(name)}"
        final = self.layout.root / rel
        created = False
        try:
            with self.transaction() as tx:
                row = tx.execute("SELECT id FROM recordings WHERE sha256 = ?", (sha,)).fetchone()
                if row is not None:
                    tx.record("ingest.duplicate", {"recording": row[0], "sha256": sha, "name": name})
                    duplicate_id = row[0]
                else:
                    duplicate_id = None
                    created = self._link(tmp, final, sha)
                    payload = {
                        "sha256": sha,
                        "size": size,
                        "name": name,
                        "path": rel,
                        "officer": officer or None,
                        "camera": camera or None,
                        "recorded_at": when,
                        "media": media,
                    }
                    recording_id = (tx.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM recordings").fetchone()[0])
                    entry = tx.record("ingest", {"recording": recording_id, **payload})
                    tx.insert(
                        "recordings",
                        {
                            "id": recording_id,
                            "sha256": sha,
                            "size": size,
                            "original_name": name,
                            "evidence_path": rel,
                            "officer": payload["officer"],
                            "camera": payload["camera"],
                            "recorded_at": when,
                            "ingested_at": entry.time,
                            "ingested_by": tx.actor,
                            "media": canonical_json(media) if media is not None else None,
                            "ledger_seq": entry.seq,
                        },
                    )
        except BaseException:
            if created:
                with writable(self.layout.evidence), contextlib.suppress(OSError):
                    final.unlink()
            raise
        if duplicate_id is not None:
            return IngestResult(self._recording(duplicate_id), duplicate=True)
        return IngestResult(self._recording(recording_id), duplicate=False)

    def _link(self, tmp: Path, final: Path, sha: str) -> bool:
        """Give the finished copy its final name; True if this call created it."""
        os.chmod(tmp, 0o444)
        with writable(self.layout.evidence):
            try:
                os.link(tmp, final)
                created = True
            except FileExistsError:
                created = False
            except OSError:  # file systems without hard links
                if final.exists():
                    created = False
                else:
                    os.replace(tmp, final)
                    created = True
        # Not created: left by an ingest killed after placing the file and before recording it.
        if not created and sha256_file(final) != sha:
            raise CaseError(f"{final.name} already exists in evidence/ with other content; run verify.")
        fsync_dir(self.layout.evidence)
        return created
