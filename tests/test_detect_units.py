"""Unit tests of the detection building blocks: regions, NMS, mosaics, sweep, padding, keyframes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from redaction.detect import Detection, FaceDetector, Region, grid, non_max_suppression
from redaction.faces import PaddingParams, redaction_box_at, simplify
from redaction.plan import Box
from redaction.schedule import Level, Sweep
from redaction.track import FaceObservation, FaceTrack
from redaction.yuv import YuvFrame
from tests.faces_clip import DEMO, FACE_IN_PHOTO


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (640, 360), (333, 201)])
@pytest.mark.parametrize("side,overlap", [(160, 32), (384, 48), (720, 180)])
def test_grid_covers_every_pixel_with_the_promised_overlap(size, side, overlap):
    width, height = size
    regions = grid(width, height, side, overlap)
    hits = np.zeros((height, width), np.int32)
    for r in regions:
        hits[max(0, r.y):max(0, r.y + r.side), max(0, r.x):max(0, r.x + r.side)] += 1
        assert r.side == min(side, max(width, height))
    assert hits.min() >= 1
    if width > side:  # neighbours share at least `overlap` columns
        xs = sorted({r.x for r in regions})
        assert all(b - a <= side - overlap for a, b in zip(xs, xs[1:], strict=False))


def det(x, y, w, h, score, cut=False, side=160):
    return Detection(Box(x, y, w, h), score, side, cut=cut)


def test_nms_keeps_one_detection_per_face_and_prefers_whole_views():
    whole = det(100, 100, 50, 50, 0.7)
    cut = det(100, 100, 30, 50, 0.95, cut=True)  # higher score, but a tile edge cut it
    other = det(300, 100, 50, 50, 0.8)
    kept = non_max_suppression([cut, other, whole])
    assert whole in kept and other in kept and cut not in kept


def test_nms_suppresses_a_box_lying_inside_a_better_one():
    big = det(0, 0, 100, 100, 0.9)
    part = det(10, 10, 30, 30, 0.6)
    assert non_max_suppression([part, big]) == [big]


def _frame_with_faces(positions, face_width=30, size=(480, 272)):
    """A frame with the astronaut's face pasted at each (x, y) (top-left of the face box)."""
    width, height = size
    rng = np.random.default_rng(1)
    frame = cv2.GaussianBlur(rng.integers(60, 190, (height, width, 3), dtype=np.uint8), (0, 0), 2)
    photo = cv2.imread(str(DEMO / "astronaut.jpg"))
    fx, fy, fw, fh = FACE_IN_PHOTO["astronaut.jpg"]
    k = face_width / fw
    crop = photo[fy - 20: fy + fh + 20, fx - 20: fx + fw + 20]
    sprite = cv2.resize(crop, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    boxes = []
    for x, y in positions:
        sx, sy = round(x - 20 * k), round(y - 20 * k)
        frame[sy:sy + sprite.shape[0], sx:sx + sprite.shape[1]] = sprite
        boxes.append(Box(x, y, fw * k, fh * k))
    return YuvFrame.from_bgr(frame), boxes


def test_small_crops_share_one_call_and_each_face_maps_back_to_its_place():
    frame, faces = _frame_with_faces([(60, 60), (300, 80), (150, 180)])
    detector = FaceDetector()
    regions = [Region(round(f.cx - 48), round(f.cy - 48), 96, "full") for f in faces]
    found = detector.detect_all(frame, regions)
    assert detector.calls["full"] == 1  # three crops, one mosaic
    for face in faces:
        near = [d for d in found if d.face_box().contains(Box(face.cx - 2, face.cy - 2, 4, 4))]
        assert near, f"face at {face} not found in {[d.box for d in found]}"
        assert 0.6 < near[0].face_box().w / face.w < 1.7
    detector.close()


def test_sweep_visits_every_region_of_every_level_within_its_period():
    levels = [Level("a", 320, 40, 5), Level("b", 160, 32, 12)]
    sweep = Sweep(640, 360, levels)
    seen = {lv.name: set() for lv in levels}
    change = np.zeros((90, 160), np.uint8)
    for index in range(12):
        for r in sweep.regions_for(index, change):
            seen[r.level].add((r.x, r.y))
    for lv in levels:
        assert seen[lv.name] == {(r.x, r.y) for r in sweep.regions[lv.name]}
    # the cost per frame stays near the level's share
    counts = [len(sweep.regions_for(i, change)) for i in range(12, 36)]
    assert max(counts) - min(counts) <= 2


def test_sweep_looks_first_where_the_picture_changed():
    levels = [Level("small", 160, 32, 60)]
    sweep = Sweep(640, 360, levels)
    for index in range(30):  # settle: every tile waits about the same
        sweep.regions_for(index, np.zeros((90, 160), np.uint8))
    change = np.zeros((90, 160), np.uint8)
    change[60:90, 130:160] = 255  # something new in the bottom-right corner
    chosen = [r for i in range(30, 33) for r in sweep.regions_for(i, change)]
    assert any(r.x + r.side >= 600 and r.y + r.side >= 330 for r in chosen)


FACE = Box(100, 100, 40, 40)


def _track(frames, since=0, reliable=True, box=FACE):
    t = FaceTrack(1)
    for f in frames:
        t.observations[f] = FaceObservation(f, box, since, reliable)
    return t


def test_padding_grows_while_a_face_goes_unconfirmed_and_when_only_the_camera_carried_it():
    p = PaddingParams(neighbours=0)
    sure = redaction_box_at(_track([5], since=0), 5, 640, 360, p)
    stale = redaction_box_at(_track([5], since=20), 5, 640, 360, p)
    guessed = redaction_box_at(_track([5], since=0, reliable=False), 5, 640, 360, p)
    assert sure.contains(Box(100, 100, 40, 40))
    assert stale.area > sure.area and guessed.area > sure.area


def test_neighbouring_frames_merge_so_a_jump_between_frames_stays_covered():
    t = FaceTrack(1)
    t.observations[0] = FaceObservation(0, Box(100, 100, 40, 40), 0, True)
    t.observations[1] = FaceObservation(1, Box(160, 100, 40, 40), 0, True)
    box = redaction_box_at(t, 0, 640, 360, PaddingParams(neighbours=1))
    assert box.contains(Box(100, 100, 100, 40))


def test_keyframes_interpolate_over_every_per_frame_box():
    rng = np.random.default_rng(7)
    boxes = {}
    x, y = 50.0, 50.0
    for f in list(range(0, 40)) + list(range(55, 80)):  # two runs with a gap
        x += rng.normal(3, 2)
        y += rng.normal(0, 2)
        boxes[f] = Box(x, y, 30 + rng.normal(0, 1), 30 + rng.normal(0, 1))
    keys = simplify(boxes)
    from redaction.plan import Track

    track = Track("f1", keys)
    for f, b in boxes.items():
        assert track.box_at(f).contains(b, tolerance=0.5), f
    for f in range(40, 55):
        assert track.box_at(f) is None
    assert track.box_at(80) is None
    assert len(keys) < len(boxes)  # thinned
