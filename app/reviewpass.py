"""What the review pass steps through (Qt-free, so it is tested on plain plans).

Two kinds of item, in time order:

- every track with no decision yet (export is blocked until there are none);
- every frame range where a *detected face* is visible in the release: a face
  track that was released (on purpose) and is not hidden there by a redacted
  box covering it or by a blackout segment. The reviewer sees each of those
  ranges once more before anything is exported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from redaction.plan import Plan, Track

ItemKind = Literal["undecided", "uncovered"]


@dataclass(frozen=True)
class ReviewItem:
    kind: ItemKind
    track_id: str
    start: int  # first frame
    end: int  # last frame (inclusive)
    text: str


def _covered(plan: Plan, track: Track, frame: int) -> bool:
    if plan.blackout(frame):
        return True
    box = track.box_at(frame)
    if box is None:
        return True
    bounds = box.pixel_bounds(plan.video.width, plan.video.height)
    if bounds is None:
        return True
    for other, cover in plan.redacted_boxes(frame):
        if other.id == track.id:
            continue
        outer = cover.pixel_bounds(plan.video.width, plan.video.height)
        if outer and outer[0] <= bounds[0] and outer[1] <= bounds[1] and outer[2] >= bounds[2] and outer[3] >= bounds[3]:
            return True
    return False


def uncovered_ranges(plan: Plan, track: Track) -> list[tuple[int, int]]:
    """Inclusive frame ranges where ``track`` shows in the release."""
    if track.decision != "release":
        return []
    ranges: list[tuple[int, int]] = []
    start = last = None
    for frame in track.present_frames():
        if frame >= plan.video.frame_count:
            break
        if _covered(plan, track, frame):
            continue
        if start is not None and frame == last + 1:
            last = frame
            continue
        if start is not None:
            ranges.append((start, last))
        start = last = frame
    if start is not None:
        ranges.append((start, last))
    return ranges


def review_items(plan: Plan, timecode=None) -> list[ReviewItem]:  # noqa: ANN001 - timecode: frame -> str
    """Every undecided track and every visible released face range, by start frame."""
    tc = timecode or (lambda f: f"frame {f}")
    items: list[ReviewItem] = []
    for track in plan.tracks:
        first, last = track.first_frame, track.last_frame
        if first is None or last is None:
            continue
        what = "possible minor " if track.possible_minor else ("region " if track.kind == "manual" else "face ")
        if track.decision is None:
            items.append(ReviewItem("undecided", track.id, first, last,
                                    f"{what}{track.id} ({tc(first)}) has no decision yet"))
        elif track.kind == "face":
            for start, end in uncovered_ranges(plan, track):
                items.append(ReviewItem("uncovered", track.id, start, end,
                                        f"released {what}{track.id} is visible from {tc(start)} to {tc(end)}"))
    items.sort(key=lambda i: (i.start, i.kind != "undecided", i.track_id))
    return items
