"""The redaction plan: what will be hidden in a release, frame by frame.

Time is always an integer frame index into the decoded video (see
``redaction.probe``); boxes are in display pixels, after any rotation.

A **track** is one face or one manual region, stored as sparse keyframes
(CVAT's model): between two keyframes the box is interpolated linearly; a
keyframe without a box ("absent") hides the track from that frame until the
next keyframe with a box. Boxes stored here are the boxes that will be burned,
padding included, so what the window shows is what export renders.

A **segment** is a frame range ``[start, end)`` blacked out as a whole frame,
muted or toned in the audio, or both, with a reason code.

The plan is plain JSON (``tracks.json``) so it can be edited between
``bwc-redact detect`` and ``bwc-redact export``.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import PlanError
from .fsutil import atomic_write_text

PLAN_FORMAT = "bwc-redact-plan"
PLAN_VERSION = 1

Decision = Literal["redact", "release"]
KeyframeSource = Literal["auto", "human"]
TrackKind = Literal["face", "manual"]
StyleKind = Literal["solid", "blur", "pixelate"]
VideoAction = Literal["blackout"]
AudioAction = Literal["mute", "tone"]

_DECISIONS = ("redact", "release")
_STYLES = ("solid", "blur", "pixelate")


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned box ``(x, y, w, h)`` in display pixels."""

    x: float
    y: float
    w: float
    h: float

    @classmethod
    def from_list(cls, values: Iterable[float]) -> Box:
        x, y, w, h = (float(v) for v in values)
        if not all(math.isfinite(v) for v in (x, y, w, h)) or w < 0 or h < 0:
            raise PlanError(f"Invalid box {[x, y, w, h]}: width and height must be non-negative numbers.")
        return cls(x, y, w, h)

    def as_list(self, digits: int = 2) -> list[float]:
        # float(): a box built from ints must serialise (and hash) like the same box loaded back.
        return [round(float(v), digits) for v in (self.x, self.y, self.w, self.h)]

    @property
    def x2(self) -> float:
        return self.x + self.w

    @property
    def y2(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def area(self) -> float:
        return self.w * self.h

    def lerp(self, other: Box, t: float) -> Box:
        return Box(
            self.x + (other.x - self.x) * t,
            self.y + (other.y - self.y) * t,
            self.w + (other.w - self.w) * t,
            self.h + (other.h - self.h) * t,
        )

    def union(self, other: Box) -> Box:
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Box(x, y, max(self.x2, other.x2) - x, max(self.y2, other.y2) - y)

    def intersection_area(self, other: Box) -> float:
        w = min(self.x2, other.x2) - max(self.x, other.x)
        h = min(self.y2, other.y2) - max(self.y, other.y)
        return w * h if w > 0 and h > 0 else 0.0

    def iou(self, other: Box) -> float:
        inter = self.intersection_area(other)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def contains(self, other: Box, tolerance: float = 0.0) -> bool:
        return (
            other.x >= self.x - tolerance
            and other.y >= self.y - tolerance
            and other.x2 <= self.x2 + tolerance
            and other.y2 <= self.y2 + tolerance
        )

    def grown(self, dx: float, dy: float) -> Box:
        return Box(self.x - dx, self.y - dy, self.w + 2 * dx, self.h + 2 * dy)

    def clipped(self, width: int, height: int) -> Box | None:
        """The part inside a ``width`` x ``height`` frame, or None if nothing is."""
        x0, y0 = max(0.0, self.x), max(0.0, self.y)
        x1, y1 = min(float(width), self.x2), min(float(height), self.y2)
        if x1 <= x0 or y1 <= y0:
            return None
        return Box(x0, y0, x1 - x0, y1 - y0)

    def pixel_bounds(self, width: int, height: int) -> tuple[int, int, int, int] | None:
        """Integer ``(x0, y0, x1, y1)`` covering every pixel the box touches, clipped."""
        x0 = max(0, math.floor(self.x))
        y0 = max(0, math.floor(self.y))
        x1 = min(width, math.ceil(self.x2))
        y1 = min(height, math.ceil(self.y2))
        if x1 <= x0 or y1 <= y0:
            return None
        return x0, y0, x1, y1


@dataclass(frozen=True, slots=True)
class Keyframe:
    frame: int
    box: Box | None  # None: the track is absent from this frame until the next keyframe
    source: KeyframeSource = "auto"
    score: float | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"frame": self.frame}
        if self.box is None:
            out["absent"] = True
        else:
            out["box"] = self.box.as_list()
        out["source"] = self.source
        if self.score is not None:
            out["score"] = round(self.score, 3)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Keyframe:
        try:
            frame = int(data["frame"])
            box = None if data.get("absent") else Box.from_list(data["box"])
            source = data.get("source", "auto")
            score = data.get("score")
        except (KeyError, TypeError, ValueError) as error:
            raise PlanError(f"Invalid keyframe {data!r}: {error}") from error
        if frame < 0:
            raise PlanError(f"Invalid keyframe at frame {frame}: frames start at 0.")
        if source not in ("auto", "human"):
            raise PlanError(f"Invalid keyframe source {source!r}.")
        return cls(frame, box, source, None if score is None else float(score))


@dataclass(slots=True)
class Track:
    """One face or manual region over time."""

    id: str
    keyframes: list[Keyframe]
    kind: TrackKind = "face"
    label: str = "face"
    decision: Decision | None = None
    reason: str | None = None  # reason code (see resources/reason_codes.json)
    note: str = ""
    possible_minor: bool = False
    minor_evidence: dict[str, Any] | None = None
    _frames: list[int] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.keyframes = sorted(self.keyframes, key=lambda k: k.frame)
        self._reindex()

    def _reindex(self) -> None:
        frames = [k.frame for k in self.keyframes]
        if len(set(frames)) != len(frames):
            raise PlanError(f"Track {self.id} has two keyframes on the same frame.")
        self._frames = frames

    def set_keyframes(self, keyframes: Iterable[Keyframe]) -> None:
        self.keyframes = sorted(keyframes, key=lambda k: k.frame)
        self._reindex()

    @property
    def first_frame(self) -> int | None:
        for key in self.keyframes:
            if key.box is not None:
                return key.frame
        return None

    @property
    def last_frame(self) -> int | None:
        for key in reversed(self.keyframes):
            if key.box is not None:
                return key.frame
        return None

    @property
    def human_touched(self) -> bool:
        return any(k.source == "human" for k in self.keyframes)

    def keyframe_at(self, frame: int) -> Keyframe | None:
        i = bisect.bisect_left(self._frames, frame)
        if i < len(self._frames) and self._frames[i] == frame:
            return self.keyframes[i]
        return None

    def box_at(self, frame: int) -> Box | None:
        """The box on ``frame``: interpolated between keyframes, None where absent."""
        i = bisect.bisect_right(self._frames, frame) - 1
        if i < 0:
            return None
        before = self.keyframes[i]
        if before.box is None:
            return None
        if before.frame == frame:
            return before.box
        if i + 1 >= len(self.keyframes):
            return None  # past the last keyframe
        after = self.keyframes[i + 1]
        if after.box is None:
            # CVAT semantics: the shape holds until the frame where it goes absent.
            return before.box
        t = (frame - before.frame) / (after.frame - before.frame)
        return before.box.lerp(after.box, t)

    def present_frames(self) -> Iterator[int]:
        """Every frame on which the track has a box."""
        for i, key in enumerate(self.keyframes):
            if key.box is None:
                continue
            end = self.keyframes[i + 1].frame if i + 1 < len(self.keyframes) else key.frame + 1
            yield from range(key.frame, end)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "decision": self.decision,
            "reason": self.reason,
            "note": self.note,
            "possible_minor": self.possible_minor,
        }
        if self.minor_evidence is not None:
            out["minor_evidence"] = self.minor_evidence
        out["keyframes"] = [k.to_json() for k in self.keyframes]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Track:
        if not isinstance(data, dict) or "id" not in data:
            raise PlanError("Every track needs an id.")
        decision = data.get("decision")
        if decision not in (None, *_DECISIONS):
            raise PlanError(f"Track {data['id']}: decision must be 'redact' or 'release', not {decision!r}.")
        kind = data.get("kind", "face")
        if kind not in ("face", "manual"):
            raise PlanError(f"Track {data['id']}: kind must be 'face' or 'manual', not {kind!r}.")
        keyframes = data.get("keyframes")
        if not isinstance(keyframes, list):
            raise PlanError(f"Track {data['id']} has no keyframes list.")
        return cls(
            id=str(data["id"]),
            keyframes=[Keyframe.from_json(k) for k in keyframes],
            kind=kind,
            label=str(data.get("label", "face")),
            decision=decision,
            reason=data.get("reason"),
            note=str(data.get("note", "")),
            possible_minor=bool(data.get("possible_minor", False)),
            minor_evidence=data.get("minor_evidence"),
        )


@dataclass(slots=True)
class Segment:
    """A frame range ``[start, end)`` hidden as a whole frame and/or in the audio."""

    id: str
    start: int
    end: int
    video: VideoAction | None = "blackout"
    audio: AudioAction | None = None
    reason: str | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.start < 0 or self.end <= self.start:
            raise PlanError(f"Segment {self.id}: it must start at frame 0 or later and end after it starts.")
        if self.video not in (None, "blackout"):
            raise PlanError(f"Segment {self.id}: video action must be 'blackout' or none.")
        if self.audio not in (None, "mute", "tone"):
            raise PlanError(f"Segment {self.id}: audio action must be 'mute', 'tone' or none.")
        if self.video is None and self.audio is None:
            raise PlanError(f"Segment {self.id} hides neither picture nor sound.")

    def covers(self, frame: int) -> bool:
        return self.start <= frame < self.end

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "start": self.start,
            "end": self.end,
            "video": self.video,
            "audio": self.audio,
            "reason": self.reason,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Segment:
        try:
            return cls(
                id=str(data["id"]),
                start=int(data["start"]),
                end=int(data["end"]),
                video=data.get("video", "blackout"),
                audio=data.get("audio"),
                reason=data.get("reason"),
                note=str(data.get("note", "")),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise PlanError(f"Invalid segment {data!r}: {error}") from error


@dataclass(slots=True)
class Style:
    """How a redacted box is rendered. Solid fill is the default: blur and
    pixelation of a face can sometimes be reversed, a solid fill cannot."""

    kind: StyleKind = "solid"
    color: tuple[int, int, int] = (0, 0, 0)  # RGB

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "color": list(self.color)}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Style:
        if not data:
            return cls()
        kind = data.get("kind", "solid")
        if kind not in _STYLES:
            raise PlanError(f"Unknown redaction style {kind!r}; use one of {', '.join(_STYLES)}.")
        color = data.get("color", [0, 0, 0])
        if len(color) != 3 or not all(isinstance(c, int) and 0 <= c <= 255 for c in color):
            raise PlanError(f"Invalid style colour {color!r}: three integers 0-255 (RGB).")
        return cls(kind, (color[0], color[1], color[2]))


@dataclass(slots=True)
class VideoRef:
    """Which video a plan belongs to; export refuses a plan for another video."""

    width: int
    height: int
    frame_count: int
    fps: float
    sha256: str | None = None
    name: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sha256": self.sha256,
            "width": self.width,
            "height": self.height,
            "frame_count": self.frame_count,
            "fps": round(self.fps, 6),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VideoRef:
        try:
            return cls(
                width=int(data["width"]),
                height=int(data["height"]),
                frame_count=int(data["frame_count"]),
                fps=float(data["fps"]),
                sha256=data.get("sha256"),
                name=str(data.get("name", "")),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise PlanError(f"The plan's video section is invalid: {error}") from error


@dataclass(slots=True)
class Plan:
    video: VideoRef
    tracks: list[Track] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    style: Style = field(default_factory=Style)
    engine: dict[str, Any] = field(default_factory=dict)  # versions and parameters that produced it

    def track(self, track_id: str) -> Track:
        for track in self.tracks:
            if track.id == track_id:
                return track
        raise PlanError(f"There is no track {track_id}.")

    def redacted_boxes(self, frame: int) -> list[tuple[Track, Box]]:
        """Boxes to burn on ``frame``: every track not explicitly released.

        An undecided track is redacted: a face is only ever shown on purpose.
        """
        out = []
        for track in self.tracks:
            if track.decision == "release":
                continue
            box = track.box_at(frame)
            if box is not None:
                out.append((track, box))
        return out

    def blackout(self, frame: int) -> bool:
        return any(s.video == "blackout" and s.covers(frame) for s in self.segments)

    def undecided(self) -> list[Track]:
        return [t for t in self.tracks if t.decision is None]

    def new_id(self, prefix: str) -> str:
        taken = {t.id for t in self.tracks} | {s.id for s in self.segments}
        n = 1
        while f"{prefix}{n}" in taken:
            n += 1
        return f"{prefix}{n}"

    def copy(self) -> Plan:
        return Plan.from_json(self.to_json())

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "version": PLAN_VERSION,
            "video": self.video.to_json(),
            "engine": self.engine,
            "style": self.style.to_json(),
            "tracks": [t.to_json() for t in self.tracks],
            "segments": [s.to_json() for s in self.segments],
        }

    @classmethod
    def from_json(cls, data: Any) -> Plan:
        if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
            raise PlanError("This is not a bwc-redact plan (tracks.json).")
        if data.get("version") != PLAN_VERSION:
            raise PlanError(
                f"Plan version {data.get('version')!r} is not supported (expected {PLAN_VERSION})."
            )
        plan = cls(
            video=VideoRef.from_json(data.get("video") or {}),
            tracks=[Track.from_json(t) for t in data.get("tracks", [])],
            segments=[Segment.from_json(s) for s in data.get("segments", [])],
            style=Style.from_json(data.get("style")),
            engine=dict(data.get("engine") or {}),
        )
        ids = [t.id for t in plan.tracks] + [s.id for s in plan.segments]
        if len(set(ids)) != len(ids):
            raise PlanError("Two tracks or segments in the plan share an id.")
        for segment in plan.segments:
            if segment.end > plan.video.frame_count:
                raise PlanError(
                    f"Segment {segment.id} ends at frame {segment.end}, past the video's {plan.video.frame_count} frames."
                )
        return plan

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1, sort_keys=False) + "\n"

    def save(self, path: Path | str) -> None:
        atomic_write_text(path, self.dumps())

    @classmethod
    def load(cls, path: Path | str) -> Plan:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError as error:
            raise PlanError(f"{path}: no such plan file.") from error
        except (OSError, UnicodeDecodeError) as error:
            raise PlanError(f"{path}: cannot read the plan ({error}).") from error
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise PlanError(f"{path}: the plan is not valid JSON (line {error.lineno}).") from error
        return cls.from_json(data)
