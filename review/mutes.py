"""Mute and deactivation records (ordinance B.2), and an assistant that finds
candidate mutes in the audio itself.

A record names the officer, the recording, the time (offset in the recording
and, when the recording's start time is known, the time of day) and the reason
the officer stated on the recording, or that none was stated. Kinds: ``mute``
(sound muted), ``deactivation`` (camera switched off before the end of the
encounter) and ``not_activated`` (not switched on before the encounter).
Records are never edited; a wrong one is withdrawn with a reason and stays in
the ledger.

The assistant decodes the main audio track in constant memory and reports:

- ``silence``: samples that are digitally silent (|x| below -80 dBFS: a muted
  microphone, not a quiet room, whose noise floor is far above that) for at
  least ``min_seconds``;
- ``dropout``: a gap in the audio stream's timestamps inside the recording;
- ``audio_ends`` / ``audio_starts``: the audio stream ending before the video
  ends, or starting after it starts;
- ``no_audio``: the recording has no audio track at all.

Times are measured from the first video frame and come with the frame range
they cover, so a reviewer can jump there and confirm. Candidates are only
offered: nothing is recorded as a mute until a reviewer confirms it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import av
import numpy as np

from redaction.errors import InputError
from redaction.probe import probe
from redaction.progress import CancelToken, ProgressCallback

from .errors import CaseError
from .hashing import canonical_json
from .store import CaseStore, parse_time
from .workdays import iso, utc

KINDS = {"mute": "sound muted", "deactivation": "camera deactivated", "not_activated": "not activated before the encounter"}
SILENCE_DBFS = -80.0
MIN_SECONDS = 0.5
GAP_SECONDS = 0.1  # a timestamp jump this long is a dropout, not jitter


@dataclass(frozen=True)
class Candidate:
    kind: str  # silence, dropout, audio_ends, audio_starts, no_audio
    start: float  # seconds from the first video frame
    end: float
    start_frame: int
    end_frame: int  # exclusive

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def describe(self) -> str:
        what = {"silence": "digital silence", "dropout": "audio stream drops out", "audio_ends": "audio stream ends",
                "audio_starts": "audio stream starts late", "no_audio": "no audio track"}[self.kind]
        return f"{_clock(self.start)}-{_clock(self.end)} (frames {self.start_frame}-{self.end_frame - 1}), " \
               f"{what}, {self.seconds:.2f} s"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "start": round(self.start, 4), "end": round(self.end, 4),
                "start_frame": self.start_frame, "end_frame": self.end_frame}


def _clock(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _as_float(frame: av.AudioFrame) -> np.ndarray:
    """Samples as (n, channels) floats in [-1, 1], whatever the decoder's format."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    data = data.reshape(channels, -1).T if frame.format.is_planar else data.reshape(-1, channels)
    if data.dtype.kind == "f":
        return data.astype(np.float32, copy=False)
    if data.dtype == np.uint8:
        return (data.astype(np.float32) - 128) / 128
    return data.astype(np.float32) / float(np.iinfo(data.dtype).max)


def detect_mutes(
    path: Path | str,
    *,
    min_seconds: float = MIN_SECONDS,
    silence_dbfs: float = SILENCE_DBFS,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> list[Candidate]:
    """Candidate mute stretches of the recording at ``path``, in time order."""
    info = probe(path)
    timebase = info.timebase
    zero = timebase.pts_seconds(0)  # where the first video frame is; audio times are measured from it
    duration = timebase.duration
    frames = timebase.frame_count

    def span(kind: str, start: float, end: float) -> Candidate:
        start, end = max(0.0, start), min(duration, end)
        first = timebase.nearest_frame(start)
        last = max(first + 1, timebase.nearest_frame(end) if end < duration else frames)
        return Candidate(kind, start, end, first, min(last, frames))

    audio = info.main_audio
    if audio is None:
        return [span("no_audio", 0.0, duration)]
    threshold = 10 ** (silence_dbfs / 20)
    found: list[Candidate] = []
    run_start: float | None = None  # start of the current silent stretch
    expected: float | None = None  # where the next audio frame should start
    first_start: float | None = None
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as error:
        raise InputError(f"{path}: the audio cannot be read ({error}).") from error
    try:
        stream = container.streams[audio.index]
        for frame in container.decode(stream):
            if cancel is not None:
                cancel.raise_if_cancelled()
            if frame.pts is None or frame.samples == 0:
                continue
            rate = frame.sample_rate or audio.sample_rate
            start = float(frame.pts * frame.time_base) - zero
            if first_start is None:
                first_start = start
            if expected is not None and start - expected > GAP_SECONDS:
                if run_start is not None:
                    found.append(span("silence", run_start, expected))
                    run_start = None
                found.append(span("dropout", expected, start))
            loud = np.abs(_as_float(frame)).max(axis=1) > threshold
            # Transitions inside the frame: silent -> loud ends a run, loud -> silent starts one.
            changes = np.flatnonzero(np.diff(loud.astype(np.int8))) + 1
            edges = [0, *changes.tolist(), len(loud)]
            for a in edges[:-1]:
                if loud[a]:
                    if run_start is not None:
                        found.append(span("silence", run_start, start + a / rate))
                        run_start = None
                elif run_start is None:
                    run_start = start + a / rate
            expected = start + frame.samples / rate
            if progress is not None:
                progress(min(frames, timebase.frame_at(max(0.0, expected))), frames)
    except av.error.FFmpegError as error:
        raise InputError(f"{path}: the audio could not be decoded to the end ({error}).") from error
    finally:
        container.close()
    if expected is None:
        return [span("no_audio", 0.0, duration)]
    if run_start is not None:
        found.append(span("silence", run_start, min(expected, duration)))
    if first_start is not None and first_start > GAP_SECONDS:
        found.append(span("audio_starts", 0.0, first_start))
    if duration - expected > GAP_SECONDS:
        found.append(span("audio_ends", expected, duration))
    kept = [c for c in found if c.kind != "silence" or c.seconds >= min_seconds]
    return sorted((c for c in kept if c.end > c.start), key=lambda c: (c.start, c.end))


@dataclass(frozen=True)
class CameraEvent:
    id: int
    recording_id: int
    kind: str
    start_seconds: float | None
    end_seconds: float | None
    occurred_at: str | None
    officer: str | None
    stated_reason: str | None  # None: no reason was stated on the recording
    source: str  # reviewer, detected
    detection_id: int | None
    note: str
    recorded_by: str
    recorded_at: str
    withdrawn: str | None = None  # reason, when withdrawn

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Detection:
    id: int
    recording_id: int
    candidates: list[Candidate]
    run_by: str
    run_at: str


def read_events(conn: Any, include_withdrawn: bool = True) -> list[CameraEvent]:
    """Every camera event of an open case connection (callers check permissions)."""
    withdrawn = dict(conn.execute("SELECT event_id, reason FROM camera_event_withdrawals").fetchall())
    cursor = conn.execute(
        "SELECT id, recording_id, kind, start_seconds, end_seconds, occurred_at, officer, stated_reason, source, "
        "detection_id, note, recorded_by, recorded_at FROM camera_events ORDER BY id"
    )
    events = [CameraEvent(*row, withdrawn=withdrawn.get(row[0])) for row in cursor.fetchall()]
    return [e for e in events if include_withdrawn or e.withdrawn is None]


class MutesMixin(CaseStore):
    def detect_mutes(
        self, recording_id: int, *, min_seconds: float = MIN_SECONDS, progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Detection:
        """Find candidate mutes in the recording's audio and record the run (records officers)."""
        recording_id = int(recording_id)
        self.require("mute.record", f"look for mutes in recording {recording_id}")
        with self.recording_failures(f"look for mutes in recording {recording_id}", {"recording": recording_id}):
            rec = self._recording(recording_id)
            candidates = detect_mutes(rec.path, min_seconds=min_seconds, progress=progress, cancel=cancel)
        settings = {"min_seconds": min_seconds, "silence_dbfs": SILENCE_DBFS, "gap_seconds": GAP_SECONDS}
        with self.write("mute.record", f"record the mute search of recording {recording_id}") as tx:
            payload = {"recording": recording_id, "sha256": rec.sha256,
                       "candidates": [c.to_json() for c in candidates], "settings": settings}
            entry = tx.record("mute.detect", payload)
            detection_id = tx.insert("mute_detections", {
                "recording_id": recording_id, "candidates": canonical_json(payload["candidates"]),
                "settings": canonical_json(settings), "run_by": tx.actor, "run_at": entry.time,
                "ledger_seq": entry.seq})
        return Detection(detection_id, recording_id, candidates, entry.actor, entry.time)

    def mute_detections(self, recording_id: int) -> list[Detection]:
        self.require("case.read", f"read the mute searches of recording {recording_id}")
        with self._lock:
            rows = self.conn.execute(
                "SELECT id, recording_id, candidates, run_by, run_at FROM mute_detections WHERE recording_id = ? "
                "ORDER BY id", (int(recording_id),)).fetchall()
        return [Detection(r[0], r[1], [Candidate(**c) for c in json.loads(r[2])], r[3], r[4]) for r in rows]

    def record_camera_event(
        self,
        recording_id: int,
        kind: str,
        *,
        start: float | None = None,
        end: float | None = None,
        stated_reason: str | None = None,
        candidate: int | None = None,
        occurred_at: str | None = None,
        officer: str | None = None,
        note: str = "",
    ) -> CameraEvent:
        """Record one instance of muting, deactivation or failure to activate (B.2).

        ``candidate`` (1-based) confirms a candidate of the latest mute search of the
        recording and takes its times. ``stated_reason=None`` records that no reason
        was stated on the recording. ``occurred_at`` defaults to the recording's start
        time plus ``start``."""
        recording_id = int(recording_id)
        if kind not in KINDS:
            raise CaseError(f"Unknown kind {kind!r}; use one of: {', '.join(KINDS)}.")
        with self.write("mute.record", f"record a {kind} in recording {recording_id}",
                        {"recording": recording_id}) as tx:
            rec = self._recording(recording_id)
            detection_id = None
            if candidate is not None:
                row = tx.execute("SELECT id, candidates FROM mute_detections WHERE recording_id = ? "
                                 "ORDER BY id DESC LIMIT 1", (recording_id,)).fetchone()
                if row is None:
                    raise CaseError(f"Recording {recording_id} has no mute search yet; run `mute detect` first.")
                found = json.loads(row[1])
                if not 1 <= candidate <= len(found):
                    raise CaseError(f"The latest mute search of recording {recording_id} offered "
                                    f"{len(found)} candidates; there is no candidate {candidate}.")
                detection_id = row[0]
                start, end = found[candidate - 1]["start"], found[candidate - 1]["end"]
            duration = (rec.media or {}).get("duration")
            for label, value in (("start", start), ("end", end)):
                if value is not None and (value < 0 or (duration and value > float(duration) + 0.5)):
                    raise CaseError(f"The {label} time {value} s is outside the recording.")
            if start is not None and end is not None and end <= start:
                raise CaseError("The end must come after the start.")
            if kind != "not_activated" and start is None:
                raise CaseError("Say when in the recording it happened (a start time, or a detected candidate).")
            if occurred_at:
                when = parse_time(occurred_at, "The time it happened")
            elif rec.recorded_at and start is not None:
                when = iso(utc(rec.recorded_at) + timedelta(seconds=float(start)))
            else:
                when = rec.recorded_at
            reason = stated_reason.strip() if stated_reason and stated_reason.strip() else None
            payload = {
                "recording": recording_id, "kind": kind,
                "start": None if start is None else round(float(start), 4),
                "end": None if end is None else round(float(end), 4),
                "occurred_at": when, "officer": (officer or rec.officer or None), "stated_reason": reason,
                "source": "detected" if detection_id else "reviewer", "detection": detection_id, "note": note.strip(),
            }
            entry = tx.record("mute.record", payload)
            event_id = tx.insert("camera_events", {
                "recording_id": recording_id, "kind": kind, "start_seconds": payload["start"],
                "end_seconds": payload["end"], "occurred_at": when, "officer": payload["officer"],
                "stated_reason": reason, "source": payload["source"], "detection_id": detection_id,
                "note": payload["note"], "recorded_by": tx.actor, "recorded_at": entry.time, "ledger_seq": entry.seq,
            })
        return next(e for e in self.camera_events(recording_id) if e.id == event_id)

    def withdraw_camera_event(self, event_id: int, reason: str) -> None:
        """Withdraw a wrong record; it stays in the ledger, marked withdrawn, and leaves the report."""
        if not reason.strip():
            raise CaseError("Say why the record is withdrawn.")
        with self.write("mute.record", f"withdraw camera record {event_id}", {"event": event_id}) as tx:
            if tx.execute("SELECT 1 FROM camera_events WHERE id = ?", (int(event_id),)).fetchone() is None:
                raise CaseError(f"There is no camera record {event_id} in this case.")
            if tx.execute("SELECT 1 FROM camera_event_withdrawals WHERE event_id = ?", (int(event_id),)).fetchone():
                raise CaseError(f"Camera record {event_id} was already withdrawn.")
            entry = tx.record("mute.withdraw", {"event": int(event_id), "reason": reason.strip()})
            tx.insert("camera_event_withdrawals", {"event_id": int(event_id), "reason": reason.strip(),
                                                   "withdrawn_by": tx.actor, "withdrawn_at": entry.time,
                                                   "ledger_seq": entry.seq})

    def camera_events(self, recording_id: int | None = None) -> list[CameraEvent]:
        self.require("case.read", "read the mute and deactivation records")
        with self._lock:
            events = read_events(self.conn)
        return [e for e in events if recording_id is None or e.recording_id == int(recording_id)]
