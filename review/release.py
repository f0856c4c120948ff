"""Approvals and release packages.

An approval (ordinance F.3: the Chief of Police or the City Attorney permits
the edit) names the exact plan by its hash; change the plan and it needs
approving again. ``export`` refuses (and records the refusal) without one.

A release package is built in ``exports/.building-<id>/`` and renamed to
``exports/<id>/`` only when complete, then recorded; ``out_dir`` receives a
copy the same way. Neither final path ever holds a partial package.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redaction.errors import RedactionError
from redaction.fsutil import describe_os_error, fsync_dir
from redaction.progress import CancelToken, ProgressCallback

from . import package
from .errors import CaseError, PermissionDenied
from .filelock import hold_lock
from .hashing import canonical_json, sha256_file
from .ledger import utc_now
from .planstore import PlanMixin, plan_hash
from .reasons import load_reasons

RELEASE_NAME = "release.mp4"


@dataclass(frozen=True)
class Approval:
    id: int
    recording_id: int
    plan_hash: str
    approver: str
    approved_at: str
    note: str
    ledger_seq: int


@dataclass(frozen=True)
class ExportRecord:
    id: str
    recording_id: int
    approval_id: int
    plan_hash: str
    original_sha256: str
    release_sha256: str
    release_size: int
    manifest_sha256: str
    files: dict[str, str]  # file name in the package -> SHA-256
    exported_by: str
    exported_at: str
    ledger_seq: int
    folder: Path  # the package inside the case
    delivered_to: Path | None = None

    @property
    def release_path(self) -> Path:
        return self.folder / RELEASE_NAME


def _engine():
    """The engine's probe and export, or None where this installation lacks them."""
    try:
        from redaction.export import export_release
        from redaction.probe import probe
    except ImportError:
        return None
    return probe, export_release


ENGINE_FIELDS = ("frame_count", "width", "height", "has_audio", "frames_burned", "encoder")


def _engine_info(result: Any) -> dict[str, Any]:
    """What the manifest keeps of an ``ExportResult`` (not its temporary path or timing)."""
    info = {key: getattr(result, key) for key in ENGINE_FIELDS if hasattr(result, key)}
    return json.loads(json.dumps(info, default=str))


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def deliver(folder: Path, files: dict[str, str], out_dir: Path) -> None:
    """Copy a finished package to ``out_dir`` (new or empty), checking every copy."""
    out_dir = out_dir.absolute()
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise CaseError(f"{out_dir} already exists and is not empty; choose a new folder for the release.")
    if not out_dir.parent.is_dir():
        raise CaseError(f"The folder {out_dir.parent} does not exist.")
    work = out_dir.parent / f".{out_dir.name}.partial-{secrets.token_hex(4)}"
    try:
        work.mkdir()
        for name, sha in files.items():
            shutil.copyfile(folder / name, work / name)
            with open(work / name, "rb+") as handle:
                os.fsync(handle.fileno())
            if sha256_file(work / name) != sha:
                raise CaseError(f"The copy of {name} in {out_dir} came out different from the case's; nothing was delivered.")
        fsync_dir(work)
        if out_dir.exists():
            out_dir.rmdir()
        os.rename(work, out_dir)
        fsync_dir(out_dir.parent)
    except OSError as error:
        shutil.rmtree(work, ignore_errors=True)
        raise CaseError(describe_os_error(error, out_dir)) from error
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


class ReleaseMixin(PlanMixin):
    # -------------------------------------------------------------- approvals
    @staticmethod
    def _approval(row: dict[str, Any]) -> Approval:
        return Approval(row["id"], row["recording_id"], row["plan_hash"], row["approver"], row["approved_at"],
                        row["note"], row["ledger_seq"])

    def approvals(self, recording_id: int) -> list[Approval]:
        self.require("case.read", f"read approvals of recording {recording_id}")
        with self._lock:
            rows = self.db.query("SELECT * FROM approvals WHERE recording_id = ? ORDER BY id", [int(recording_id)])
            return [self._approval(r) for r in rows]

    def _approval_for(self, recording_id: int, digest: str) -> Approval | None:
        rows = list(self.db.query(
            "SELECT * FROM approvals WHERE recording_id = ? AND plan_hash = ? ORDER BY id DESC LIMIT 1",
            [recording_id, digest],
        ))
        return self._approval(rows[0]) if rows else None

    def approve(self, recording_id: int, plan_hash_seen: str | None = None, note: str = "") -> Approval:
        """Approve the recording's current plan for release (approvers only).

        Pass the plan hash the approver was shown: if the plan changed since, the
        approval is refused rather than given to something nobody looked at."""
        recording_id = int(recording_id)
        with self.write("release.approve", f"approve the release of recording {recording_id}",
                        {"recording": recording_id}) as tx:
            self._recording(recording_id)
            plan = self._plan(recording_id)
            digest = plan_hash(plan)
            if plan_hash_seen and plan_hash_seen != digest:
                raise CaseError(
                    f"The plan of recording {recording_id} changed since it was shown (it is now {digest[:12]}); "
                    "review it again before approving."
                )
            undecided = plan.undecided()
            if undecided:
                names = ", ".join(t.id for t in undecided[:10]) + (" ..." if len(undecided) > 10 else "")
                raise CaseError(f"{len(undecided)} tracks have no current decision yet ({names}); "
                                "every track needs one before approval.")
            self.store_plan(plan)
            entry = tx.record(
                "release.approve",
                {
                    "recording": recording_id,
                    "plan_hash": digest,
                    "note": note.strip(),
                    "tracks": len(plan.tracks),
                    "redacted_tracks": sum(1 for t in plan.tracks if t.decision == "redact"),
                    "segments": len(plan.segments),
                },
            )
            approval_id = tx.insert(
                "approvals",
                {"recording_id": recording_id, "plan_hash": digest, "approver": tx.actor,
                 "approved_at": entry.time, "note": note.strip(), "ledger_seq": entry.seq},
            )
        return Approval(approval_id, recording_id, digest, entry.actor, entry.time, note.strip(), entry.seq)

    # ---------------------------------------------------------------- exports
    def _export_record(self, row: dict[str, Any]) -> ExportRecord:
        return ExportRecord(
            row["id"], row["recording_id"], row["approval_id"], row["plan_hash"], row["original_sha256"],
            row["release_sha256"], row["release_size"], row["manifest_sha256"], json.loads(row["files"]),
            row["exported_by"], row["exported_at"], row["ledger_seq"], self.layout.exports / row["id"],
        )

    def exports(self, recording_id: int | None = None) -> list[ExportRecord]:
        self.require("case.read", "list exports")
        sql, params = "SELECT * FROM exports", []
        if recording_id is not None:
            sql, params = sql + " WHERE recording_id = ?", [int(recording_id)]
        with self._lock:
            return [self._export_record(r) for r in self.db.query(sql + " ORDER BY ledger_seq", params)]

    def export(
        self,
        recording_id: int,
        out_dir: Path | str | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> ExportRecord:
        """Render the approved plan through the engine into a release package in
        ``exports/<id>/`` and, if given, copy it to ``out_dir``. ``progress`` counts frames."""
        recording_id = int(recording_id)
        user = self.require("release.export", f"export recording {recording_id}")
        attempt = f"export recording {recording_id}"
        with self.recording_failures(attempt, {"recording": recording_id}):
            if out_dir is not None:
                out_dir = Path(out_dir).absolute()
                if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
                    raise CaseError(f"{out_dir} already exists and is not empty; choose a new folder for the release.")
            with self._snapshot():
                rec = self._recording(recording_id)
                plan = self._plan(recording_id)
                digest = plan_hash(plan)
                approval = self._approval_for(recording_id, digest)
            if plan.undecided():
                raise CaseError(f"{len(plan.undecided())} tracks of recording {recording_id} have no current "
                                "decision; decide them and have the plan approved first.")
            if approval is None:
                self._record_failure("denied", {"permission": "release.export", "attempt": attempt,
                                                "reason": "no approval of this plan", "plan_hash": digest})
                raise PermissionDenied(
                    f"Recording {recording_id} cannot be exported: its current plan ({digest[:12]}) has no approval. "
                    "An approver (Chief of Police or City Attorney) must approve it first (ordinance F.3). "
                    "The attempt was recorded in the case ledger."
                )
            engine = _engine()
            if engine is None:
                raise CaseError("The release engine (redaction.export) is not available in this installation.")
            if sha256_file(rec.path, cancel=cancel) != rec.sha256:
                raise CaseError(f"The original of recording {recording_id} no longer matches its recorded SHA-256; "
                                "nothing was exported. Run `bwc-redact verify`.")
            record = self._build_and_record(rec, plan, digest, approval, user.name, engine, progress, cancel)
        if out_dir is not None:
            with self.recording_failures(f"deliver export {record.id}", {"export": record.id}):
                try:
                    deliver(record.folder, record.files, out_dir)
                except CaseError as error:
                    raise CaseError(f"The release package was made and recorded in {record.folder}, but copying "
                                    f"it to {out_dir} failed: {error}") from error
                with self.transaction() as tx:
                    tx.record("release.deliver", {"export": record.id, "to": str(out_dir), "files": record.files})
            record = ExportRecord(**{**record.__dict__, "delivered_to": out_dir})
        return record

    def _build_and_record(self, rec, plan, digest, approval, user_name, engine, progress, cancel):  # noqa: ANN001, ANN202
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        export_id = f"R{rec.id}-{stamp}-{secrets.token_hex(4)}"
        exports = self.layout.exports
        building = exports / f".building-{export_id}"
        final = exports / export_id
        with hold_lock(exports / f".building-{export_id}.lock"):
            try:
                building.mkdir()
                probe, export_release = engine
                try:
                    info = probe(rec.path)
                    result = export_release(info, plan, building / RELEASE_NAME, progress=progress, cancel=cancel,
                                            source_sha256=rec.sha256)
                except RedactionError:
                    raise
                except OSError as error:
                    raise CaseError(describe_os_error(error, final / RELEASE_NAME)) from error
                files = {RELEASE_NAME: sha256_file(building / RELEASE_NAME)}
                size = (building / RELEASE_NAME).stat().st_size
                manifest = self._manifest(rec, plan, digest, approval, user_name, files[RELEASE_NAME], size, result)
                with self._snapshot():
                    rows = self._redaction_rows(rec.id, plan, approval, info.timebase.timecode)
                manifest["redactions"] = [r.to_json() for r in rows]
                texts = {
                    "manifest.json": json.dumps(manifest, indent=1, ensure_ascii=False) + "\n",
                    "redaction-log.csv": package.log_csv(rows),
                    "redaction-log.html": package.log_html(manifest, rows),
                }
                for name, text in texts.items():
                    _write_file(building / name, text.encode("utf-8"))
                    files[name] = sha256_file(building / name)
                _write_file(building / "SHA256SUMS", package.sha256sums(files).encode("utf-8"))
                files["SHA256SUMS"] = sha256_file(building / "SHA256SUMS")
                for name in files:
                    os.chmod(building / name, 0o444)
                fsync_dir(building)
                os.rename(building, final)
                fsync_dir(exports)
            except OSError as error:
                shutil.rmtree(building, ignore_errors=True)
                raise CaseError(describe_os_error(error, final)) from error
            except BaseException:
                shutil.rmtree(building, ignore_errors=True)
                raise
            finally:
                with contextlib.suppress(OSError):
                    (exports / f".building-{export_id}.lock").unlink()
        with self.transaction() as tx:
            entry = tx.record(
                "release.export",
                {
                    "recording": rec.id,
                    "export": export_id,
                    "approval": approval.ledger_seq,
                    "plan_hash": digest,
                    "original_sha256": rec.sha256,
                    "release_sha256": files[RELEASE_NAME],
                    "release_size": size,
                    "manifest_sha256": files["manifest.json"],
                    "files": files,
                },
            )
            tx.insert(
                "exports",
                {
                    "id": export_id, "recording_id": rec.id, "approval_id": approval.id, "plan_hash": digest,
                    "original_sha256": rec.sha256, "release_path": f"exports/{export_id}/{RELEASE_NAME}",
                    "release_sha256": files[RELEASE_NAME], "release_size": size,
                    "manifest_sha256": files["manifest.json"], "files": canonical_json(files),
                    "exported_by": tx.actor, "exported_at": entry.time, "ledger_seq": entry.seq,
                },
            )
        return ExportRecord(export_id, rec.id, approval.id, digest, rec.sha256, files[RELEASE_NAME], size,
                            files["manifest.json"], files, tx.actor, entry.time, entry.seq, final)

    def _manifest(self, rec, plan, digest, approval, user_name, release_sha, size, result) -> dict[str, Any]:  # noqa: ANN001
        count, head = self.head()
        info = self.info()
        return {
            "format": package.MANIFEST_FORMAT,
            "version": package.MANIFEST_VERSION,
            "case": {"id": info.case_id, "title": info.title},
            "recording": {"id": rec.id, "recorded_at": rec.recorded_at},
            "original": {"sha256": rec.sha256, "size": rec.size},
            "release": {"file": RELEASE_NAME, "sha256": release_sha, "size": size},
            "plan": {
                "sha256": digest,
                "file": f"plans/{digest}.json (kept in the case)",
                "tracks": len(plan.tracks),
                "segments": len(plan.segments),
                "style": plan.style.kind,
                "frame_count": plan.video.frame_count,
                "fps": round(plan.video.fps, 6),
            },
            "approval": {"approver": approval.approver, "approved_at": approval.approved_at,
                         "ledger_entry": approval.ledger_seq},
            "exported": {"by": user_name, "at": utc_now()},
            "engine": _engine_info(result),
            "reason_codes_version": load_reasons().version,
            "ledger": {"entries": count, "head": head, "public_key_fingerprint": info.fingerprint},
        }

    def _redaction_rows(self, recording_id: int, plan, approval: Approval, timecode) -> list[package.Redaction]:  # noqa: ANN001
        deciders = {}
        for row in self.conn.execute(
            "SELECT d.track_id, d.decided_by, d.decided_at FROM decisions d JOIN tracks t ON t.pk = d.track_pk "
            "WHERE d.recording_id = ? ORDER BY d.id",
            (recording_id,),
        ):
            deciders[row[0]] = (row[1], row[2])
        authors = {
            segment_id: (actor, time)
            for segment_id, actor, time in self.conn.execute(
                "SELECT s.segment_id, l.actor, l.time FROM segments s JOIN ledger l ON l.seq = s.ledger_seq "
                "WHERE s.recording_id = ?",
                (recording_id,),
            )
        }
        return package.redactions(
            plan, load_reasons(), deciders, authors, (approval.approver, approval.approved_at), timecode
        )

