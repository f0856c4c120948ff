"""Reversible edits of a redaction plan, shared by the review window and scripts.

Each operation looks at a plan and returns an ``Edit``: the before and after
state of every track, segment and decision it touches (Anki's "operation
returns its changes" idea). Nothing is changed until ``edit.apply(plan)``;
``edit.inverse()`` is the exact undo, so an undo stack is just a list of edits.
The window turns an edit into case-store calls (``Case.save_plan`` for
geometry and segments, ``Case.decide``/``withdraw_decision`` for decisions) so
every change lands in the ledger under the signed-in user.

Geometry follows CVAT: tracks are sparse keyframes; a box set by a person
(drawn, moved, resized) becomes a ``human`` keyframe, even where the detector
had an ``auto`` one. Boxes this module synthesises (splits, merges) are
rounded outwards to the plan's two decimals, so a stored plan never covers a
pixel less than the boxes it was made from.

A change of a track's geometry takes back a *release* decision on it (the case
store lets a release lapse when the geometry changes too: a face is only ever
shown on purpose); a *redact* decision stands.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from .errors import PlanError
from .plan import AudioAction, Box, Decision, Keyframe, Plan, Segment, Track, VideoAction

DecisionState = tuple[Decision | None, str | None, str]  # decision, reason code, note


@dataclass(frozen=True)
class TrackChange:
    """A track's geometry before and after (None: absent). Decisions travel separately."""

    id: str
    before: Track | None
    after: Track | None
    position: int | None = None  # where a re-created track goes back (undo of a delete)


@dataclass(frozen=True)
class SegmentChange:
    id: str
    before: Segment | None
    after: Segment | None


@dataclass(frozen=True)
class DecisionChange:
    track_id: str
    before: DecisionState
    after: DecisionState


@dataclass(frozen=True)
class Edit:
    """One user-visible step: what it is called and everything it changes."""

    label: str
    tracks: tuple[TrackChange, ...] = ()
    segments: tuple[SegmentChange, ...] = ()
    decisions: tuple[DecisionChange, ...] = ()
    select: str | None = field(default=None, compare=False)  # id the window should select afterwards

    @property
    def empty(self) -> bool:
        return not (self.tracks or self.segments or self.decisions)

    @property
    def changes_geometry(self) -> bool:
        return bool(self.tracks or self.segments)

    def changed_ids(self) -> set[str]:
        return (
            {c.id for c in self.tracks} | {c.id for c in self.segments} | {c.track_id for c in self.decisions}
        )

    def inverse(self) -> Edit:
        return Edit(
            self.label,
            tuple(TrackChange(c.id, c.after, c.before, c.position) for c in reversed(self.tracks)),
            tuple(SegmentChange(c.id, c.after, c.before) for c in reversed(self.segments)),
            tuple(DecisionChange(c.track_id, c.after, c.before) for c in reversed(self.decisions)),
        )

    def then(self, later: Edit) -> Edit:
        """This edit followed by ``later``, as one step (first before, last after)."""
        tracks = {c.id: c for c in self.tracks}
        for c in later.tracks:
            first = tracks.get(c.id, c)
            tracks[c.id] = TrackChange(c.id, first.before, c.after, first.position)
        segments = {c.id: c for c in self.segments}
        for c in later.segments:
            segments[c.id] = SegmentChange(
                c.id, segments[c.id].before if c.id in segments else c.before, c.after
            )
        decisions = {c.track_id: c for c in self.decisions}
        for c in later.decisions:
            first = decisions[c.track_id].before if c.track_id in decisions else c.before
            decisions[c.track_id] = DecisionChange(c.track_id, first, c.after)
        return Edit(
            later.label or self.label,
            tuple(tracks.values()),
            tuple(segments.values()),
            tuple(decisions.values()),
            later.select or self.select,
        )

    def apply(self, plan: Plan) -> None:
        """Bring ``plan`` to the "after" state (in place). Track order is kept (a
        re-created track goes back to its place); segments are in time order."""
        for change in self.tracks:
            index = next((i for i, t in enumerate(plan.tracks) if t.id == change.id), None)
            if change.after is None:
                if index is not None:
                    del plan.tracks[index]
                continue
            new = _copy_track(change.after)
            if index is not None:
                old = plan.tracks[index]
                new.decision, new.reason, new.note = old.decision, old.reason, old.note
                plan.tracks[index] = new
            elif change.position is not None:
                plan.tracks.insert(min(change.position, len(plan.tracks)), new)
            else:
                plan.tracks.append(new)
        for change in self.segments:
            index = next((i for i, s in enumerate(plan.segments) if s.id == change.id), None)
            if change.after is None:
                if index is not None:
                    del plan.segments[index]
            elif index is not None:
                plan.segments[index] = replace(change.after)
            else:
                plan.segments.append(replace(change.after))
        plan.segments.sort(key=lambda s: (s.start, s.id))
        present = {t.id: t for t in plan.tracks}
        for change in self.decisions:
            if change.track_id in present:
                track = present[change.track_id]
                track.decision, track.reason, track.note = change.after


# ------------------------------------------------------------------ helpers
def _copy_track(track: Track) -> Track:
    return Track(
        id=track.id,
        keyframes=list(track.keyframes),
        kind=track.kind,
        label=track.label,
        decision=track.decision,
        reason=track.reason,
        note=track.note,
        possible_minor=track.possible_minor,
        minor_evidence=None if track.minor_evidence is None else dict(track.minor_evidence),
    )


def copy_plan(plan: Plan) -> Plan:
    """A copy that edits may change without touching ``plan`` (cheaper than a JSON round trip:
    keyframes and boxes are immutable and shared)."""
    return Plan(
        video=replace(plan.video),
        tracks=[_copy_track(t) for t in plan.tracks],
        segments=[replace(s) for s in plan.segments],
        style=replace(plan.style),
        engine=dict(plan.engine),
    )


def _undecided(track: Track) -> Track:
    out = _copy_track(track)
    out.decision, out.reason, out.note = None, None, ""
    return out


def _position(plan: Plan, track_id: str) -> int:
    return next(i for i, t in enumerate(plan.tracks) if t.id == track_id)


def decision_state(track: Track) -> DecisionState:
    return (track.decision, track.reason, track.note)


def outward(box: Box, digits: int = 2) -> Box:
    """``box`` rounded to ``digits`` decimals without losing any of its area."""
    scale = 10**digits
    x0, y0 = math.floor(box.x * scale) / scale, math.floor(box.y * scale) / scale
    x1, y1 = math.ceil(box.x2 * scale) / scale, math.ceil(box.y2 * scale) / scale
    return Box(x0, y0, x1 - x0, y1 - y0)


def _check_frame(plan: Plan, frame: int) -> None:
    if not 0 <= frame < plan.video.frame_count:
        raise PlanError(f"Frame {frame} is outside the recording (0 to {plan.video.frame_count - 1}).")


def _check_box(plan: Plan, box: Box) -> Box:
    clipped = box.clipped(plan.video.width, plan.video.height)
    if clipped is None or clipped.w < 1 or clipped.h < 1:
        raise PlanError("The box is outside the picture or too small (at least 1 x 1 pixel inside it).")
    return clipped


def _geometry_edit(
    label: str, plan: Plan, before: Track, after: Track | None, select: str | None = None
) -> Edit:
    """A change of one track's geometry; a release decision on it lapses (it must be made again)."""
    decisions = ()
    if before.decision == "release" and after is not None:
        decisions = (DecisionChange(before.id, decision_state(before), (None, None, "")),)
    return Edit(label, (TrackChange(before.id, _copy_track(before), after),), (), decisions, select)


# ------------------------------------------------------------------ decisions
def set_decision(
    plan: Plan, track_id: str, decision: Decision | None, reason: str | None = None, note: str = ""
) -> Edit:
    """Redact or release a track (``None``: back to undecided).

    A possible minor is never released without a reason (ordinance D.3); the
    case store also checks that the code is a current release code.
    """
    track = plan.track(track_id)
    if decision not in (None, "redact", "release"):
        raise PlanError(f"A decision is 'redact' or 'release', not {decision!r}.")
    if decision == "release" and track.possible_minor and not reason:
        raise PlanError(f"Track {track_id} may show a minor: releasing it needs a release reason code.")
    after: DecisionState = (decision, reason or None, (note or "").strip()) if decision else (None, None, "")
    if after == decision_state(track):
        return Edit("No change")
    verb = {"redact": "Redact", "release": "Release", None: "Clear decision on"}[decision]
    return Edit(
        f"{verb} {track_id}",
        decisions=(DecisionChange(track_id, decision_state(track), after),),
        select=track_id,
    )


def set_decisions(
    plan: Plan, track_ids: Iterable[str], decision: Decision | None, reason: str | None = None, note: str = ""
) -> Edit:
    """The same decision on several tracks, as one step."""
    edit = Edit("No change")
    ids = list(track_ids)
    for track_id in ids:
        edit = edit.then(set_decision(plan, track_id, decision, reason, note))
    if len(ids) > 1 and not edit.empty:
        edit = replace(edit, label=f"{edit.label.split(' ')[0]} {len(ids)} tracks")
    return edit


# ------------------------------------------------------------------ keyframes
def set_box(plan: Plan, track_id: str, frame: int, box: Box) -> Edit:
    """Put the track's box on ``frame`` (a drawn, moved or resized box): a human
    keyframe there, interpolated towards its neighbours. Beyond the track's
    last keyframe this extends the track to ``frame``."""
    _check_frame(plan, frame)
    track = plan.track(track_id)
    box = _check_box(plan, box)
    old = track.keyframe_at(frame)
    if old is not None and old.box == box and old.source == "human":
        return Edit("No change")
    keyframes = [k for k in track.keyframes if k.frame != frame] + [Keyframe(frame, box, "human")]
    after = _undecided(track)
    after.set_keyframes(keyframes)
    return _geometry_edit(
        f"Move box of {track_id}" if old else f"Add keyframe to {track_id}", plan, track, after, track_id
    )


def add_keyframe(plan: Plan, track_id: str, frame: int) -> Edit:
    """Pin the box the track has on ``frame`` (interpolated or held) as a human keyframe."""
    track = plan.track(track_id)
    box = track.box_at(frame)
    if box is None:
        raise PlanError(f"Track {track_id} has no box on frame {frame} to pin.")
    return set_box(plan, track_id, frame, outward(box))


def delete_keyframe(plan: Plan, track_id: str, frame: int) -> Edit:
    """Remove the keyframe on ``frame``; the boxes around it are interpolated again."""
    track = plan.track(track_id)
    if track.keyframe_at(frame) is None:
        raise PlanError(f"Track {track_id} has no keyframe on frame {frame}.")
    rest = [k for k in track.keyframes if k.frame != frame]
    if not any(k.box is not None for k in rest):
        raise PlanError(f"That is the last keyframe of track {track_id}; delete the track instead.")
    after = _undecided(track)
    after.set_keyframes(_trim(rest))
    return _geometry_edit(f"Delete keyframe of {track_id}", plan, track, after, track_id)


def _trim(keyframes: list[Keyframe]) -> list[Keyframe]:
    """Drop leading absent keyframes (they hide nothing) and repeated trailing ones."""
    out = list(keyframes)
    while out and out[0].box is None:
        out.pop(0)
    while len(out) >= 2 and out[-1].box is None and out[-2].box is None:
        out.pop()
    return out


def end_track(plan: Plan, track_id: str, frame: int) -> Edit:
    """Make ``frame`` the track's last frame (nothing of it after)."""
    _check_frame(plan, frame)
    track = plan.track(track_id)
    box = track.box_at(frame)
    if box is None:
        raise PlanError(f"Track {track_id} has no box on frame {frame}; go to a frame where it shows.")
    keyframes = [k for k in track.keyframes if k.frame < frame] + [Keyframe(frame, outward(box), "human")]
    after = _undecided(track)
    after.set_keyframes(keyframes)
    return _geometry_edit(f"End {track_id} here", plan, track, after, track_id)


def extend_track(plan: Plan, track_id: str, frame: int) -> Edit:
    """Stretch the track to ``frame`` with the nearest box it has (before or after)."""
    _check_frame(plan, frame)
    track = plan.track(track_id)
    if track.box_at(frame) is not None:
        return add_keyframe(plan, track_id, frame)
    boxed = [k for k in track.keyframes if k.box is not None]
    nearest = min(boxed, key=lambda k: abs(k.frame - frame))
    return set_box(plan, track_id, frame, nearest.box)


# ------------------------------------------------------------------ tracks
def add_region(
    plan: Plan,
    frame: int,
    box: Box,
    *,
    end: int | None = None,
    label: str = "manual",
    track_id: str | None = None,
    reason: str | None = None,
) -> Edit:
    """A manual region (anything the detector missed: a face, screen, document,
    tattoo, plate) from ``frame`` to ``end`` (inclusive; default: that frame only).
    With a withholding ``reason`` it is decided "redact" in the same step."""
    _check_frame(plan, frame)
    box = _check_box(plan, box)
    end = frame if end is None else min(max(end, frame), plan.video.frame_count - 1)
    keyframes = [Keyframe(frame, box, "human")]
    if end > frame:
        keyframes.append(Keyframe(end, box, "human"))
    new_id = track_id or plan.new_id("m")
    track = Track(
        id=new_id,
        keyframes=keyframes,
        kind="manual",
        label=label,
        decision="redact" if reason else None,
        reason=reason,
    )
    return Edit(f"Add region {new_id}", (TrackChange(new_id, None, track),), select=new_id)


def delete_track(plan: Plan, track_id: str) -> Edit:
    """Remove a track; the copy kept in the edit (decision included) is what an undo restores."""
    track = plan.track(track_id)
    return Edit(
        f"Delete {track_id}", (TrackChange(track_id, _copy_track(track), None, _position(plan, track_id)),)
    )


def set_label(plan: Plan, track_id: str, label: str) -> Edit:
    track = plan.track(track_id)
    label = label.strip() or track.label
    if label == track.label:
        return Edit("No change")
    after = _copy_track(track)
    after.label = label
    return Edit(f"Rename {track_id}", (TrackChange(track_id, _copy_track(track), after),), select=track_id)


def split_track(plan: Plan, track_id: str, frame: int, new_id: str | None = None) -> Edit:
    """Cut a track in two at ``frame``: the original ends on ``frame - 1`` and a
    new track starts on ``frame``; every frame keeps the box it had."""
    track = plan.track(track_id)
    first, last = track.first_frame, track.last_frame
    if first is None or last is None or not first < frame <= last:
        raise PlanError(f"Split {track_id} on a frame after its first ({first}) and up to its last ({last}).")
    before_keys = [k for k in track.keyframes if k.frame < frame]
    head_box = track.box_at(frame - 1)
    if head_box is not None and (track.keyframe_at(frame - 1) is None):
        before_keys.append(Keyframe(frame - 1, outward(head_box), "human"))
    tail_box = track.box_at(frame)
    after_keys = [k for k in track.keyframes if k.frame > frame]
    start = track.keyframe_at(frame)
    if start is not None:
        after_keys.insert(0, start)
    elif tail_box is not None:
        after_keys.insert(0, Keyframe(frame, outward(tail_box), "human"))
    head = _undecided(track)
    head.set_keyframes(_trim(before_keys))
    tail = _undecided(track)
    tail.id = new_id or plan.new_id(track_id.rstrip("0123456789") or "t")
    tail.set_keyframes(_trim(after_keys))
    if not any(k.box for k in head.keyframes) or not any(k.box for k in tail.keyframes):
        raise PlanError(f"Splitting {track_id} on frame {frame} would leave an empty part.")
    if track.decision == "redact":
        tail.decision, tail.reason, tail.note = track.decision, track.reason, track.note
    edit = _geometry_edit(f"Split {track_id}", plan, track, head, tail.id)
    return Edit(edit.label, (*edit.tracks, TrackChange(tail.id, None, tail)), (), edit.decisions, tail.id)


def merge_tracks(plan: Plan, track_ids: Iterable[str]) -> Edit:
    """Join tracks (one face the tracker lost and found again) into the first one.

    On every frame the merged box covers every box the parts had there: the
    keyframes are the parts' keyframes (and the frames next to them, where a
    part appears or disappears), each holding the union of the parts' boxes.
    Linear interpolation of unions covers the interpolated parts in between.
    """
    ids = list(dict.fromkeys(track_ids))
    if len(ids) < 2:
        raise PlanError("Select two or more tracks to merge.")
    parts = [plan.track(i) for i in ids]
    count = plan.video.frame_count
    frames: set[int] = set()
    for part in parts:
        for key in part.keyframes:
            frames.update(f for f in (key.frame - 1, key.frame, key.frame + 1) if 0 <= f < count)
    keyframes: list[Keyframe] = []
    for frame in sorted(frames):
        boxes = [b for b in (p.box_at(frame) for p in parts) if b is not None]
        box = None
        if boxes:
            box = boxes[0]
            for other in boxes[1:]:
                box = box.union(other)
            box = outward(box)
        own = [p.keyframe_at(frame) for p in parts]
        source = (
            "auto"
            if len(boxes) == 1 and any(k is not None and k.box == box and k.source == "auto" for k in own)
            else "human"
        )
        keyframes.append(Keyframe(frame, box, source))
    merged = _undecided(parts[0])
    merged.set_keyframes(_simplify(_trim(keyframes)))
    merged.kind = "face" if any(p.kind == "face" for p in parts) else "manual"
    merged.possible_minor = any(p.possible_minor for p in parts)
    evidence = {p.id: p.minor_evidence for p in parts if p.minor_evidence}
    merged.minor_evidence = (
        evidence[ids[0]]
        if len(evidence) == 1 and ids[0] in evidence
        else ({"merged_from": evidence} if evidence else None)
    )
    changes = [TrackChange(ids[0], _copy_track(parts[0]), merged)]
    decisions = []
    # The merged track stays redacted only if every part was; otherwise someone decides it anew.
    if parts[0].decision is not None and not all(p.decision == "redact" for p in parts):
        decisions.append(DecisionChange(ids[0], decision_state(parts[0]), (None, None, "")))
    changes += [TrackChange(p.id, _copy_track(p), None, _position(plan, p.id)) for p in parts[1:]]
    return Edit(f"Merge {', '.join(ids)}", tuple(changes), (), tuple(decisions), ids[0])


def _simplify(keyframes: list[Keyframe]) -> list[Keyframe]:
    """Drop keyframes that lie exactly on the line between their neighbours."""
    out: list[Keyframe] = []
    for key in keyframes:
        if len(out) >= 2:
            a, b = out[-2], out[-1]
            if a.box is not None and b.box is not None and key.box is not None and b.source == key.source:
                t = (b.frame - a.frame) / (key.frame - a.frame)
                mid = a.box.lerp(key.box, t)
                if all(abs(p - q) < 1e-6 for p, q in zip(mid.as_list(6), b.box.as_list(6), strict=True)):
                    out[-1] = key
                    continue
            if a.box is None and b.box is None:
                out[-1] = key
                continue
        out.append(key)
    return out


# ------------------------------------------------------------------ segments
def add_segment(
    plan: Plan,
    start: int,
    end: int,
    *,
    video: VideoAction | None = "blackout",
    audio: AudioAction | None = None,
    reason: str | None = None,
    note: str = "",
    segment_id: str | None = None,
) -> Edit:
    """A whole-frame blackout and/or audio mute/tone over frames ``[start, end)``, with its reason code."""
    if not reason:
        raise PlanError("A segment needs a reason code from the ordinance (for example D3-RESIDENCE).")
    start, end = max(0, start), min(end, plan.video.frame_count)
    segment = Segment(segment_id or plan.new_id("s"), start, end, video, audio, reason, (note or "").strip())
    return Edit(
        f"Add segment {segment.id}", segments=(SegmentChange(segment.id, None, segment),), select=segment.id
    )


def change_segment(plan: Plan, segment_id: str, **changes: object) -> Edit:
    """Change a segment's range, actions, reason or note (an edge drag is ``start=`` or ``end=``)."""
    old = next((s for s in plan.segments if s.id == segment_id), None)
    if old is None:
        raise PlanError(f"There is no segment {segment_id}.")
    new = replace(old, **changes)  # Segment checks the range and the actions itself
    if new.end > plan.video.frame_count:
        raise PlanError(
            f"Segment {segment_id} would end past the recording's {plan.video.frame_count} frames."
        )
    if new == old:
        return Edit("No change")
    if not new.reason:
        raise PlanError(f"Segment {segment_id} needs a reason code.")
    return Edit(
        f"Change segment {segment_id}", segments=(SegmentChange(segment_id, old, new),), select=segment_id
    )


def delete_segment(plan: Plan, segment_id: str) -> Edit:
    old = next((s for s in plan.segments if s.id == segment_id), None)
    if old is None:
        raise PlanError(f"There is no segment {segment_id}.")
    return Edit(f"Delete segment {segment_id}", segments=(SegmentChange(segment_id, old, None),))


# ------------------------------------------------------------------ detector output
def fit_to_video(plan: Plan) -> int:
    """Drop keyframes at or past the video's end (the detector closes a track
    that lasts to the last frame with an "absent" keyframe one frame later,
    which hides nothing and which the case store refuses). Returns how many."""
    count = plan.video.frame_count
    dropped = 0
    for track in plan.tracks:
        keep = [k for k in track.keyframes if k.frame < count]
        if len(keep) != len(track.keyframes):
            dropped += len(track.keyframes) - len(keep)
            track.set_keyframes(keep)
    plan.tracks = [t for t in plan.tracks if t.first_frame is not None]
    return dropped
