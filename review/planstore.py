"""The redaction plan of each recording, kept in the case: detection runs,
tracks with keyframes, segments and decisions, each change in the ledger.

``Case.plan(recording_id)`` rebuilds a ``redaction.plan.Plan`` from the
tables; it is what the window shows, what an approver approves (by its hash)
and what export renders. Case releases always use the opaque solid fill.

A *release* decision holds only for the geometry it was made on: if a track's
keyframes change afterwards, the track counts as undecided again (and so is
redacted, and blocks approval) until someone decides anew. A face is only
ever shown on purpose.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from redaction.errors import PlanError
from redaction.fsutil import atomic_write_text
from redaction.plan import Box, Keyframe, Plan, Segment, Style, Track, VideoRef

from .errors import CaseError
from .hashing import canonical_json, sha256_text
from .ingest import RecordingsMixin
from .reasons import load_reasons
from .store import Tx


def track_content(track: Track) -> dict[str, Any]:
    """What a track *is* (not what was decided about it): hashed into the ledger."""
    return {
        "id": track.id,
        "kind": track.kind,
        "label": track.label,
        "possible_minor": bool(track.possible_minor),
        "minor_evidence": track.minor_evidence,
        "keyframes": [k.to_json() for k in track.keyframes],
    }


def track_hash(track: Track) -> str:
    return sha256_text(canonical_json(track_content(track)))


def plan_text(plan: Plan) -> str:
    return canonical_json(plan.to_json())


def plan_hash(plan: Plan) -> str:
    """SHA-256 of the plan's canonical JSON: the identity an approval names."""
    return sha256_text(plan_text(plan))


@dataclass(frozen=True)
class Decision:
    id: int
    recording_id: int
    track_id: str
    track_hash: str
    decision: str
    reason: str | None
    note: str
    decided_by: str
    decided_at: str
    ledger_seq: int
    current: bool  # False: the track changed since; it needs deciding again


def _plain_json(value: Any) -> Any:
    """Detector output (numpy numbers and all) as plain JSON values."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=float))


class PlanMixin(RecordingsMixin):
    # ----------------------------------------------------------------- reading
    def plan(self, recording_id: int) -> Plan:
        """The current plan of a recording, rebuilt from the case tables."""
        self.require("case.read", f"read the plan of recording {recording_id}")
        with self._lock, self._snapshot():
            return self._plan(int(recording_id))

    def plan_hash(self, recording_id: int) -> str:
        return plan_hash(self.plan(recording_id))

    def decisions(self, recording_id: int, track_id: str | None = None) -> list[Decision]:
        """Every decision ever made on the recording's tracks, oldest first."""
        self.require("case.read", f"read decisions of recording {recording_id}")
        sql = "SELECT * FROM decisions WHERE recording_id = ?"
        params: list[Any] = [int(recording_id)]
        if track_id is not None:
            sql += " AND track_id = ?"
            params.append(track_id)
        with self._lock:
            rows = list(self.db.query(sql + " ORDER BY id", params))
            live = {
                pk: h for pk, h in self.conn.execute(
                    "SELECT pk, content_hash FROM tracks WHERE recording_id = ?", (int(recording_id),)
                )
            }
        latest: dict[int, int] = {}
        for row in rows:
            latest[row["track_pk"]] = row["id"]
        return [
            Decision(
                row["id"], row["recording_id"], row["track_id"], row["track_hash"], row["decision"], row["reason"],
                row["note"], row["decided_by"], row["decided_at"], row["ledger_seq"],
                current=latest.get(row["track_pk"]) == row["id"] and live.get(row["track_pk"]) == row["track_hash"],
            )
            for row in rows
        ]

    def _video_ref(self, recording_id: int) -> VideoRef:
        rec = self._recording(recording_id)
        media = rec.media or {}
        try:
            return VideoRef(
                width=int(media["width"]),
                height=int(media["height"]),
                frame_count=int(media["frame_count"]),
                fps=float(media["fps"]),
                sha256=rec.sha256,
                name=rec.original_name,
            )
        except (KeyError, TypeError, ValueError):
            pass
        row = self.conn.execute(
            "SELECT video FROM detection_runs WHERE recording_id = ? ORDER BY id DESC LIMIT 1", (recording_id,)
        ).fetchone()
        if row is None:
            raise CaseError(
                f"Recording {recording_id} has no video details yet (it was not probed and has no detection run)."
            )
        video = VideoRef.from_json(json.loads(row[0]))
        video.sha256, video.name = rec.sha256, rec.original_name
        return video

    def _tracks(self, recording_id: int) -> list[tuple[int, Track, str]]:
        """(pk, track with its current decision, stored content hash) in creation order."""
        out = []
        rows = self.conn.execute(
            "SELECT pk, track_id, kind, label, possible_minor, minor_evidence, content_hash "
            "FROM tracks WHERE recording_id = ? ORDER BY pk",
            (recording_id,),
        ).fetchall()
        for pk, track_id, kind, label, minor, evidence, content_hash in rows:
            keyframes = [
                Keyframe(frame, None if x is None else Box(x, y, w, h), source, score)
                for frame, x, y, w, h, source, score in self.conn.execute(
                    "SELECT frame, x, y, w, h, source, score FROM keyframes WHERE track_pk = ? ORDER BY frame", (pk,)
                )
            ]
            track = Track(
                id=track_id, keyframes=keyframes, kind=kind, label=label, possible_minor=bool(minor),
                minor_evidence=json.loads(evidence) if evidence else None,
            )
            decision = self.conn.execute(
                "SELECT decision, reason, note, track_hash FROM decisions WHERE track_pk = ? ORDER BY id DESC LIMIT 1",
                (pk,),
            ).fetchone()
            if decision is not None and decision[0] != "withdrawn":
                made_on = decision[3]
                if decision[0] == "redact" or made_on == content_hash:
                    track.decision, track.reason, track.note = decision[0], decision[1], decision[2]
            out.append((pk, track, content_hash))
        return out

    def _segments(self, recording_id: int) -> list[Segment]:
        return [
            Segment(segment_id, start, end, video, audio, reason, note)
            for segment_id, start, end, video, audio, reason, note in self.conn.execute(
                "SELECT segment_id, start_frame, end_frame, video, audio, reason, note FROM segments "
                "WHERE recording_id = ? ORDER BY start_frame, segment_id",
                (recording_id,),
            )
        ]

    def _plan(self, recording_id: int) -> Plan:
        video = self._video_ref(recording_id)
        engine_row = self.conn.execute(
            "SELECT engine FROM detection_runs WHERE recording_id = ? ORDER BY id DESC LIMIT 1", (recording_id,)
        ).fetchone()
        return Plan(
            video=video,
            tracks=[t for _, t, _ in self._tracks(recording_id)],
            segments=self._segments(recording_id),
            style=Style(),
            engine=json.loads(engine_row[0]) if engine_row else {},
        )

    def store_plan(self, plan: Plan) -> str:
        """Keep ``plan`` as ``plans/<hash>.json`` (read-only, content-addressed); return the hash."""
        text = plan_text(plan)
        digest = sha256_text(text)
        path = self.layout.plan_blob(digest)
        if not path.exists():
            self.layout.plans.mkdir(exist_ok=True)
            atomic_write_text(path, text)
            os.chmod(path, 0o444)
        return digest

    # ----------------------------------------------------------------- writing
    def _check_frames(self, recording_id: int, last: int, what: str) -> None:
        try:
            frames = self._video_ref(recording_id).frame_count
        except CaseError:
            return
        if last > frames:
            raise PlanError(f"{what} goes past the end of the recording ({frames} frames).")

    def _write_track(self, tx: Tx, recording_id: int, track: Track, seq: int, content_hash: str) -> int:
        row = tx.execute(
            "SELECT pk FROM tracks WHERE recording_id = ? AND track_id = ?", (recording_id, track.id)
        ).fetchone()
        values = (
            track.kind, track.label, int(bool(track.possible_minor)),
            canonical_json(_plain_json(track.minor_evidence)) if track.minor_evidence is not None else None,
            content_hash, seq,
        )
        if row is None:
            pk = tx.execute(
                "INSERT INTO tracks (recording_id, track_id, kind, label, possible_minor, minor_evidence, "
                "content_hash, ledger_seq) VALUES (?,?,?,?,?,?,?,?)",
                (recording_id, track.id, *values),
            ).lastrowid
        else:
            pk = row[0]
            tx.execute(
                "UPDATE tracks SET kind = ?, label = ?, possible_minor = ?, minor_evidence = ?, content_hash = ?, "
                "ledger_seq = ? WHERE pk = ?",
                (*values, pk),
            )
            tx.execute("DELETE FROM keyframes WHERE track_pk = ?", (pk,))
        tx.conn.executemany(
            "INSERT INTO keyframes (track_pk, frame, x, y, w, h, source, score) VALUES (?,?,?,?,?,?,?,?)",
            [
                (pk, k.frame, *(k.box.as_list() if k.box else (None, None, None, None)), k.source,
                 None if k.score is None else round(k.score, 3))
                for k in track.keyframes
            ],
        )
        return int(pk)

    @staticmethod
    def _normalised(track: Track) -> Track:
        """The track exactly as the tables will give it back (rounded boxes and scores)."""
        data = track.to_json()
        if data.get("minor_evidence") is not None:
            data["minor_evidence"] = _plain_json(data["minor_evidence"])
        return Track.from_json(data)

    def _check_track(self, recording_id: int, track: Track) -> None:
        if not any(k.box is not None for k in track.keyframes):
            raise PlanError(f"Track {track.id} has no keyframe with a box.")
        self._check_frames(recording_id, track.keyframes[-1].frame + 1, f"Track {track.id}")

    def record_detection(self, recording_id: int, plan: Plan, *, replace: bool = False) -> str:
        """Record a detection run's plan (tracks, segments, any decisions in it) for a
        recording. Returns the plan hash. With ``replace`` the recording's current
        tracks and segments are removed first (each removal is in the ledger)."""
        recording_id = int(recording_id)
        with self.write("plan.edit", f"record detection for recording {recording_id}",
                        {"recording": recording_id}) as tx:
            rec = self._recording(recording_id)
            if plan.video.sha256 and plan.video.sha256 != rec.sha256:
                raise PlanError(f"This plan belongs to another video (SHA-256 {plan.video.sha256[:12]}...), "
                                f"not to recording {recording_id}.")
            tracks = [self._normalised(t) for t in plan.tracks]
            for track in tracks:
                self._check_track(recording_id, track)
            existing = [r[0] for r in tx.execute("SELECT track_id FROM tracks WHERE recording_id = ?", (recording_id,))]
            segments = [r[0] for r in tx.execute("SELECT segment_id FROM segments WHERE recording_id = ?", (recording_id,))]
            if (existing or segments) and not replace:
                raise CaseError(
                    f"Recording {recording_id} already has {len(existing)} tracks and {len(segments)} segments; "
                    "replace them (their history stays in the ledger) or edit them instead."
                )
            for track_id in existing:
                self._delete_track(tx, recording_id, track_id)
            for segment_id in segments:
                self._delete_segment(tx, recording_id, segment_id)
            digest = self.store_plan(plan)
            hashes = {t.id: track_hash(t) for t in tracks}
            entry = tx.record(
                "detect.run",
                {
                    "recording": recording_id,
                    "plan_hash": digest,
                    "engine": _plain_json(plan.engine),
                    "video": plan.video.to_json(),
                    "tracks": hashes,
                    "segments": len(plan.segments),
                },
            )
            tx.insert(
                "detection_runs",
                {
                    "recording_id": recording_id,
                    "plan_hash": digest,
                    "video": canonical_json(plan.video.to_json()),
                    "engine": canonical_json(_plain_json(plan.engine)),
                    "tracks": len(tracks),
                    "segments": len(plan.segments),
                    "run_at": entry.time,
                    "run_by": tx.actor,
                    "ledger_seq": entry.seq,
                },
            )
            for track in tracks:
                self._write_track(tx, recording_id, track, entry.seq, hashes[track.id])
            for segment in plan.segments:
                self._save_segment(tx, recording_id, segment)
            for track in tracks:
                if track.decision is not None:
                    self._decide(tx, recording_id, track.id, track.decision, track.reason, track.note)
        return digest

    def _save_track(self, tx: Tx, recording_id: int, track: Track) -> bool:
        track = self._normalised(track)
        self._check_track(recording_id, track)
        digest = track_hash(track)
        row = tx.execute(
            "SELECT content_hash FROM tracks WHERE recording_id = ? AND track_id = ?", (recording_id, track.id)
        ).fetchone()
        if row is not None and row[0] == digest:
            return False
        boxed = [k.frame for k in track.keyframes if k.box is not None]
        entry = tx.record(
            "track.save",
            {
                "recording": recording_id,
                "track": track.id,
                "track_hash": digest,
                "created": row is None,
                "kind": track.kind,
                "label": track.label,
                "keyframes": len(track.keyframes),
                "first_frame": min(boxed),
                "last_frame": max(k.frame for k in track.keyframes),
                "human": track.human_touched,
                "possible_minor": bool(track.possible_minor),
            },
        )
        self._write_track(tx, recording_id, track, entry.seq, digest)
        return True

    def save_track(self, recording_id: int, track: Track) -> bool:
        """Create or replace one track's geometry (kind, label, keyframes, minor flag).
        Decisions are separate (``decide``). Returns False if nothing changed."""
        recording_id = int(recording_id)
        with self.write("plan.edit", f"save track {track.id} of recording {recording_id}",
                        {"recording": recording_id, "track": track.id}) as tx:
            self._recording(recording_id)
            return self._save_track(tx, recording_id, track)

    def save_plan(self, recording_id: int, plan: Plan) -> Plan:
        """Make the recording's tracks and segments those of ``plan``, in one
        transaction, recording only what changed (for a window's edits and their
        undo: merge, split, drag). Decisions are not taken from ``plan``: they
        are deliberate acts (``decide``, ``withdraw_decision``). Returns the
        case's plan afterwards, whose decisions are the ones in force."""
        recording_id = int(recording_id)
        with self.write("plan.edit", f"save the plan of recording {recording_id}",
                        {"recording": recording_id}) as tx:
            rec = self._recording(recording_id)
            if plan.video.sha256 and plan.video.sha256 != rec.sha256:
                raise PlanError(f"This plan belongs to another video, not to recording {recording_id}.")
            ids = [t.id for t in plan.tracks] + [s.id for s in plan.segments]
            if len(set(ids)) != len(ids):
                raise PlanError("Two tracks or segments in the plan share an id.")
            tracks = {t.id for _, t, _ in self._tracks(recording_id)}
            segments = {s.id for s in self._segments(recording_id)}
            for track_id in sorted(tracks - {t.id for t in plan.tracks}):
                self._delete_track(tx, recording_id, track_id)
            for segment_id in sorted(segments - {s.id for s in plan.segments}):
                self._delete_segment(tx, recording_id, segment_id)
            for track in plan.tracks:
                self._save_track(tx, recording_id, track)
            for segment in plan.segments:
                self._save_segment(tx, recording_id, segment)
            return self._plan(recording_id)

    def _delete_track(self, tx: Tx, recording_id: int, track_id: str) -> None:
        row = tx.execute(
            "SELECT pk, content_hash FROM tracks WHERE recording_id = ? AND track_id = ?", (recording_id, track_id)
        ).fetchone()
        if row is None:
            raise CaseError(f"Recording {recording_id} has no track {track_id}.")
        tx.record("track.delete", {"recording": recording_id, "track": track_id, "track_hash": row[1]})
        tx.execute("DELETE FROM keyframes WHERE track_pk = ?", (row[0],))
        tx.execute("DELETE FROM tracks WHERE pk = ?", (row[0],))

    def delete_track(self, recording_id: int, track_id: str) -> None:
        recording_id = int(recording_id)
        with self.write("plan.edit", f"delete track {track_id} of recording {recording_id}",
                        {"recording": recording_id, "track": track_id}) as tx:
            self._delete_track(tx, recording_id, track_id)

    def _decide(
        self, tx: Tx, recording_id: int, track_id: str, decision: str, reason: str | None, note: str
    ) -> None:
        row = tx.execute(
            "SELECT pk, content_hash, possible_minor FROM tracks WHERE recording_id = ? AND track_id = ?",
            (recording_id, track_id),
        ).fetchone()
        if row is None:
            raise CaseError(f"Recording {recording_id} has no track {track_id}.")
        pk, content_hash, minor = row
        table = load_reasons()
        if decision == "redact":
            if not reason:
                raise CaseError(f"Redacting track {track_id} needs a reason code (see `bwc-redact reasons`).")
            table.check(reason, "withhold")
        elif decision == "withdrawn":
            if reason:
                raise CaseError("Withdrawing a decision takes no reason code; add a note if useful.")
        elif decision == "release":
            if reason:
                table.check(reason, "release")
            elif minor:
                raise CaseError(
                    f"Track {track_id} is flagged as a possible minor: releasing it needs a release reason code "
                    "(for example RELEASE-NOT-MINOR)."
                )
        else:
            raise CaseError(f"A decision is 'redact' or 'release', not {decision!r}.")
        note = (note or "").strip()
        entry = tx.record(
            "track.decide",
            {
                "recording": recording_id,
                "track": track_id,
                "track_pk": pk,
                "track_hash": content_hash,
                "decision": decision,
                "reason": reason or None,
                "note": note,
                "reason_table": table.version,
            },
        )
        tx.insert(
            "decisions",
            {
                "recording_id": recording_id,
                "track_pk": pk,
                "track_id": track_id,
                "track_hash": content_hash,
                "decision": decision,
                "reason": reason or None,
                "note": note,
                "decided_by": tx.actor,
                "decided_at": entry.time,
                "ledger_seq": entry.seq,
            },
        )

    def withdraw_decision(self, recording_id: int, track_id: str, note: str = "") -> None:
        """Take back the decision on a track (undo): it is undecided again, so it is
        redacted and blocks approval until someone decides."""
        recording_id = int(recording_id)
        with self.write("plan.edit", f"withdraw the decision on track {track_id} of recording {recording_id}",
                        {"recording": recording_id, "track": track_id}) as tx:
            self._decide(tx, recording_id, track_id, "withdrawn", None, note)

    def decide(
        self, recording_id: int, track_id: str, decision: str, reason: str | None = None, note: str = ""
    ) -> None:
        """Redact or release a track. Redacting needs a withholding reason code;
        releasing a possible minor needs a release reason code; a note may be added."""
        recording_id = int(recording_id)
        with self.write("plan.edit", f"decide track {track_id} of recording {recording_id}",
                        {"recording": recording_id, "track": track_id}) as tx:
            self._decide(tx, recording_id, track_id, decision, reason, note)

    def _save_segment(self, tx: Tx, recording_id: int, segment: Segment) -> bool:
        if not segment.reason:
            raise CaseError(f"Segment {segment.id} needs a reason code (see `bwc-redact reasons`).")
        load_reasons().check(segment.reason, "withhold")
        self._check_frames(recording_id, segment.end, f"Segment {segment.id}")
        data = segment.to_json()
        data["note"] = (data["note"] or "").strip()
        row = tx.execute(
            "SELECT start_frame, end_frame, video, audio, reason, note FROM segments "
            "WHERE recording_id = ? AND segment_id = ?",
            (recording_id, segment.id),
        ).fetchone()
        values = (data["start"], data["end"], data["video"], data["audio"], data["reason"], data["note"])
        if row is not None and tuple(row) == values:
            return False
        entry = tx.record("segment.save", {"recording": recording_id, "segment": data})
        tx.execute(
            "INSERT INTO segments (recording_id, segment_id, start_frame, end_frame, video, audio, reason, note, "
            "ledger_seq) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (recording_id, segment_id) DO UPDATE SET "
            "start_frame = excluded.start_frame, end_frame = excluded.end_frame, video = excluded.video, "
            "audio = excluded.audio, reason = excluded.reason, note = excluded.note, ledger_seq = excluded.ledger_seq",
            (recording_id, segment.id, *values, entry.seq),
        )
        return True

    def save_segment(self, recording_id: int, segment: Segment) -> bool:
        """Create or change a blackout/mute segment; it must carry a reason code."""
        recording_id = int(recording_id)
        with self.write("plan.edit", f"save segment {segment.id} of recording {recording_id}",
                        {"recording": recording_id, "segment": segment.id}) as tx:
            self._recording(recording_id)
            return self._save_segment(tx, recording_id, segment)

    def _delete_segment(self, tx: Tx, recording_id: int, segment_id: str) -> None:
        row = tx.execute(
            "SELECT 1 FROM segments WHERE recording_id = ? AND segment_id = ?", (recording_id, segment_id)
        ).fetchone()
        if row is None:
            raise CaseError(f"Recording {recording_id} has no segment {segment_id}.")
        tx.record("segment.delete", {"recording": recording_id, "segment": segment_id})
        tx.execute("DELETE FROM segments WHERE recording_id = ? AND segment_id = ?", (recording_id, segment_id))

    def delete_segment(self, recording_id: int, segment_id: str) -> None:
        recording_id = int(recording_id)
        with self.write("plan.edit", f"delete segment {segment_id} of recording {recording_id}",
                        {"recording": recording_id, "segment": segment_id}) as tx:
            self._delete_segment(tx, recording_id, segment_id)
