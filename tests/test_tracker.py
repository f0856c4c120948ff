"""The tracker's rules, with a scripted detector on synthetic frames (no model involved).

Each test draws a textured "face" patch on a textured background and tells the
fake detector on which frames it reports which boxes, so every rule (carry back,
appearance check, weak detections, lost and found again, leaving the picture)
is exercised exactly.
"""

from __future__ import annotations

import numpy as np

from redaction.detect import Detection, Region
from redaction.plan import Box
from redaction.track import FaceTracker, TrackerParams
from redaction.yuv import YuvFrame

W, H = 320, 240


class ScriptedDetector:
    """Reports ``script[frame]`` (BlazeFace-style boxes) for any region that contains them."""

    def __init__(self, script: dict[int, list[tuple[Box, float]]]) -> None:
        self.script = script
        self.frame = -1
        self.calls = {"full": 0, "short": 0}
        self.regions: list[Region] = []

    def detect_all(self, frame: YuvFrame, regions: list[Region]) -> list[Detection]:
        found = []
        for region in regions:
            self.calls[region.model] += 1
            self.regions.append(region)
            for box, score in self.script.get(self.frame, []):
                inside = (
                    region.x <= box.cx <= region.x + region.side
                    and region.y <= box.cy <= region.y + region.side
                )
                if inside and box.w <= region.side:
                    found.append(Detection(box, score, region.side, region.level, region.model))
        return found


def background(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(120, 30, (H, W)), 0, 255).astype(np.uint8)


FACE = np.clip(np.random.default_rng(99).normal(128, 60, (64, 64)), 0, 255).astype(np.uint8)


def frames(count: int, place) -> list[YuvFrame]:  # noqa: ANN001 - place(i) -> (x, y) or None
    base = background()
    out = []
    for i in range(count):
        y = base.copy()
        at = place(i)
        if at is not None:
            x0, y0 = at
            part = y[y0 : y0 + 64, x0 : x0 + 64]  # (clipped where the face is partly out of the picture)
            part[...] = FACE[: part.shape[0], : part.shape[1]]
        u = np.full((H // 2, W // 2), 128, np.uint8)
        out.append(YuvFrame(y, u, u.copy(), index=i))
    return out


def detection_box(x: float, y: float) -> Box:
    """What BlazeFace would report for the 64 px patch at (x, y): a bit smaller, centred."""
    return Box(x + 6, y + 8, 52, 48)


def run(
    video: list[YuvFrame],
    script,  # noqa: ANN001
    params: TrackerParams | None = None,
    detector: ScriptedDetector | None = None,
) -> FaceTracker:
    detector = detector or ScriptedDetector(script)
    tracker = FaceTracker(W, H, 30.0, detector, params)
    for frame in video:
        detector.frame = frame.index
        tracker.process(frame.index, frame, frame.y)
    tracker.settle()
    return tracker


def test_a_face_found_late_is_carried_back_to_where_it_appeared_and_no_further():
    video = frames(40, lambda i: (120, 80) if i >= 8 else None)
    script = {i: [(detection_box(120, 80), 0.95)] for i in range(25, 40)}
    tracker = run(video, script)
    (track,) = tracker.finish()
    assert track.first_frame <= 9, "not carried back to the face's first frames"
    assert track.first_frame >= 8 - 4, "carried back over frames where there was no face"
    assert all(track.box(i) is not None for i in range(track.first_frame, 40))


def test_a_face_cut_by_the_bottom_edge_is_not_carried_back_over_frames_without_it():
    # 54 of the patch's 64 rows in the picture: the face box is under 90% inside, where
    # carrying back neither counts against its reach (the face may be walking in)...
    video = frames(40, lambda i: (120, H - 54) if i >= 8 else None)
    script = {i: [(detection_box(120, H - 54), 0.95)] for i in range(25, 40)}
    tracker = run(video, script)
    (track,) = tracker.finish()
    assert track.box(25).clipped(W, H).area < 0.9 * track.box(25).area
    # ... but where it does not look like the face, it still stops.
    assert track.first_frame >= 8 - 4, "held at the edge over frames where there was no face"
    assert track.first_frame <= 9, "not carried back to the face's first frames"


class ShortRangeOnlyAfter(ScriptedDetector):
    """From frame ``start`` on, only short-range looks report: a weak pattern full-range rejects."""

    def __init__(self, script, start: int) -> None:  # noqa: ANN001
        super().__init__(script)
        self.start = start

    def detect_all(self, frame: YuvFrame, regions: list[Region]) -> list[Detection]:
        found = super().detect_all(frame, regions)
        return found if self.frame < self.start else [d for d in found if d.model == "short"]


def test_a_weak_detection_where_a_lost_face_should_be_does_not_bring_it_back():
    video = frames(90, lambda i: (100, 100) if i < 20 else None)  # the face leaves at 20
    script = {i: [(detection_box(100, 100), 0.95)] for i in range(0, 20)}
    script |= {i: [(detection_box(104, 100), 0.6)] for i in range(50, 90)}  # scenery, weakly
    tracks = run(video, script, detector=ShortRangeOnlyAfter(script, start=50)).finish()
    assert tracks, "the face was never tracked"
    covered = {i for t in tracks for i in t.observations}
    assert not covered & set(range(50, 90)), "a weak, unconfirmed pattern extended the lost face's track"
    assert not covered & set(range(20 + TrackerParams().tail_frames + 1, 50)), "the gap was painted"


def test_a_weak_detection_that_is_never_confirmed_leaves_no_track():
    video = frames(20, lambda i: None)
    script = {5: [(detection_box(100, 100), 0.55)]}  # one weak hit on a textured wall
    tracker = run(video, script)
    assert tracker.finish() == []


def test_a_weak_detection_confirmed_by_a_second_look_becomes_a_track():
    video = frames(20, lambda i: (100, 100))
    script = {i: [(detection_box(100, 100), 0.6)] for i in range(5, 20)}
    tracker = run(video, script)
    (track,) = tracker.finish()
    assert track.confirmed and track.last_frame == 19


def test_a_face_the_detector_stops_seeing_ends_after_a_short_tail():
    video = frames(60, lambda i: (100, 100) if i < 20 else None)  # the face leaves at 20
    script = {i: [(detection_box(100, 100), 0.95)] for i in range(0, 20)}
    tracker = run(video, script)
    (track,) = tracker.finish()
    p = TrackerParams()
    assert 19 <= track.last_frame <= 19 + p.tail_frames
    assert track.lost_since is not None or not track.alive


def test_a_lost_face_found_again_nearby_keeps_its_track_and_the_gap_is_bridged():
    video = frames(70, lambda i: (100, 100))
    seen = list(range(0, 15)) + list(range(36, 70))  # the detector misses 15-35 (say, blur)
    script = {i: [(detection_box(100, 100), 0.95)] for i in seen}
    tracker = run(video, script)
    tracks = tracker.finish()
    assert len(tracks) == 1, "found again, it should be the same track"
    assert all(tracks[0].box(i) is not None for i in range(0, 70)), "the gap was not bridged"


def test_a_face_that_leaves_the_picture_is_followed_and_ends_there():
    # moving right 8 px a frame from x=120: out of the 320 px picture after frame ~25
    video = frames(45, lambda i: (120 + 8 * i, 90) if 120 + 8 * i < W else None)
    script = {i: [(detection_box(120 + 8 * i, 90), 0.95)] for i in range(0, 18)}
    tracker = run(video, script)
    (track,) = tracker.finish()
    visible = [i for i in track.observations if track.box(i).clipped(W, H) is not None]
    assert max(visible) >= 22, "the box stopped before the face left"
    for i in range(0, 22):
        assert track.box(i).contains(Box(120 + 8 * i + 16, 106, 32, 32), tolerance=2), i


def test_a_tracked_face_is_confirmed_every_few_frames_and_the_first_frame_looks_everywhere():
    video = frames(30, lambda i: (100, 100))
    script = {i: [(detection_box(100, 100), 0.95)] for i in range(30)}
    detector = ScriptedDetector(script)
    tracker = FaceTracker(W, H, 30.0, detector)
    per_frame = []
    for frame in video:
        detector.frame = frame.index
        before = len(detector.regions)
        tracker.process(frame.index, frame, frame.y)
        per_frame.append(detector.regions[before:])
    (track,) = tracker.finish()
    assert max(o.since_detection for o in track.observations.values()) <= TrackerParams().refresh_every
    assert any(r.level == "refresh" for regions in per_frame for r in regions)
    # the first frame looks at every region of every level; later frames only at their share
    every_region = sum(len(regions) for regions in tracker.sweep.regions.values())
    assert len([r for r in per_frame[0] if r.level != "refresh"]) == every_region
    assert np.mean([len(r) for r in per_frame[1:]]) < every_region / 2
