"""From tracked faces to redaction tracks: padding, time margins, keyframes.

The tracker estimates where each face is; this module decides what to burn.
A box is grown more the longer it has gone without the detector confirming
it (optical flow drifts), and every box is merged with the track's boxes on
the neighbouring frames, so a face that jumps between two frames (a jolt of
the camera) is still covered on both. The per-frame boxes are then thinned to
keyframes, keeping only those the interpolation needs to stay over every
per-frame box, so the plan is small and editable but never uncovers a pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

from .plan import Box, Keyframe, Track
from .track import FaceObservation, FaceTrack


@dataclass
class PaddingParams:
    # Measured on the bench footage (build/): on frames the detector confirmed or within 4
    # frames of it, 6% a side covers 99% of faces; the rest are tracking failures no padding fixes.
    base: float = 0.06  # share of the face size added on each side
    per_unconfirmed_frame: float = 0.006
    max_extra: float = 0.25
    unreliable: float = 0.08  # extra when only camera motion carried the box
    pixels: float = 2.0  # absolute margin on each side
    neighbours: int = (
        0  # frames on each side merged into each box (measured: no fewer leaks, 1.5% more cost) ...
    )
    neighbour_shift: float = 9.0  # ... unless that frame's box is further than this share of the face away


def _padded(obs: FaceObservation, p: PaddingParams) -> Box:
    share = p.base + min(p.max_extra, p.per_unconfirmed_frame * obs.since_detection)
    if not obs.reliable:
        share += p.unreliable
    return obs.box.grown(share * obs.box.w + p.pixels, share * obs.box.h + p.pixels)


def redaction_box_at(
    track: FaceTrack, frame: int, width: int, height: int, params: PaddingParams | None = None
) -> Box | None:
    """The box to burn for one tracked face on one frame (clipped), or None."""
    p = params or PaddingParams()
    obs = track.observations.get(frame)
    if obs is None:
        return None
    merged = _padded(obs, p)
    size = max(obs.box.w, obs.box.h)
    for k in range(1, p.neighbours + 1):
        for other in (track.observations.get(frame - k), track.observations.get(frame + k)):
            if other is None:
                continue
            shift = max(abs(other.box.cx - obs.box.cx), abs(other.box.cy - obs.box.cy))
            if shift <= p.neighbour_shift * size:
                merged = merged.union(_padded(other, p))
    return merged.clipped(width, height)


def redaction_boxes(
    track: FaceTrack, width: int, height: int, params: PaddingParams | None = None
) -> dict[int, Box]:
    """Per-frame boxes to burn for one tracked face (clipped to the picture)."""
    out = {}
    for frame in track.observations:
        box = redaction_box_at(track, frame, width, height, params)
        if box is not None:
            out[frame] = box
    return out


def simplify(boxes: dict[int, Box], tolerance: float = 0.5) -> list[Keyframe]:
    """Keyframes whose interpolation covers every per-frame box.

    Greedy: extend each keyframe span as far as the straight line between its
    ends still contains every box in between (within ``tolerance`` px); gaps
    in the frames become absent keyframes.
    """
    frames = sorted(boxes)
    keys: list[Keyframe] = []
    i = 0
    while i < len(frames):
        start = frames[i]
        keys.append(Keyframe(start, boxes[start]))
        # the run of consecutive frames starting here
        j = i
        while j + 1 < len(frames) and frames[j + 1] == frames[j] + 1:
            j += 1
        run = frames[i : j + 1]
        a = 0
        while a < len(run) - 1:
            b = a + 1
            best = b
            while b < len(run):
                if _line_covers(boxes, run[a], run[b], tolerance):
                    best = b
                    b += 1
                else:
                    break
            keys.append(Keyframe(run[best], boxes[run[best]]))
            a = best
        if j + 1 < len(frames):
            keys.append(Keyframe(run[-1] + 1, None))  # gone until the next run (after the last, box_at says so)
        i = j + 1
    # A span's end is the next span's start: keep one keyframe per frame.
    unique: dict[int, Keyframe] = {}
    for key in keys:
        unique.setdefault(key.frame, key)
    return sorted(unique.values(), key=lambda k: k.frame)


def _line_covers(boxes: dict[int, Box], f0: int, f1: int, tolerance: float) -> bool:
    a, b = boxes[f0], boxes[f1]
    span = f1 - f0
    return all(a.lerp(b, (f - f0) / span).contains(boxes[f], tolerance) for f in range(f0 + 1, f1))


def to_plan_track(
    face: FaceTrack, track_id: str, width: int, height: int, params: PaddingParams | None = None
) -> Track | None:
    """The redaction track for one tracked face (None if it never shows in the picture)."""
    boxes = redaction_boxes(face, width, height, params)
    if not boxes:
        return None
    return Track(id=track_id, keyframes=simplify(boxes), kind="face", label="face")
