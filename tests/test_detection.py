"""Detection and tracking on clips with a real face at known places (see tests/faces_clip.py)."""

from __future__ import annotations

import numpy as np
import pytest

from redaction.errors import Cancelled
from redaction.pipeline import detect_faces
from redaction.plan import Plan
from redaction.progress import CancelToken
from tests.faces_clip import FaceClip, inner, make_face_clip


def coverage(plan: Plan, frame: int, box: tuple[int, int, int, int]) -> float:
    """Share of the face's inner box under the plan's boxes on ``frame``."""
    x, y, w, h = inner(box)
    mask = np.zeros((plan.video.height, plan.video.width), bool)
    for _track, b in plan.redacted_boxes(frame):
        bounds = b.pixel_bounds(plan.video.width, plan.video.height)
        if bounds:
            mask[bounds[1]:bounds[3], bounds[0]:bounds[2]] = True
    return float(mask[y:y + h, x:x + w].mean())


def uncovered_frames(plan: Plan, clip: FaceClip) -> list[int]:
    return [i for i, box in enumerate(clip.boxes) if box is not None and coverage(plan, i, box) < 0.8]


@pytest.fixture(scope="module")
def moving_face(tmp_path_factory: pytest.TempPathFactory) -> tuple[FaceClip, Plan]:
    clip = make_face_clip(tmp_path_factory.mktemp("moving") / "clip.mp4")
    return clip, detect_faces(clip.path)


def test_a_moving_face_is_covered_on_every_frame(moving_face: tuple[FaceClip, Plan]) -> None:
    clip, plan = moving_face
    assert plan.tracks, "no face was found"
    assert uncovered_frames(plan, clip) == []


def test_the_plan_names_its_video_and_every_face_starts_redacted(moving_face: tuple[FaceClip, Plan]) -> None:
    clip, plan = moving_face
    assert (plan.video.width, plan.video.height, plan.video.frame_count) == (clip.width, clip.height, clip.frames)
    assert plan.video.sha256 and len(plan.video.sha256) == 64
    assert all(t.decision == "redact" and t.kind == "face" for t in plan.tracks)
    assert "MediaPipe" in plan.engine["face_detector"]
    # one face, one track: the tracker links the detections instead of starting over
    assert len(plan.tracks) == 1


def test_boxes_stay_close_to_the_face(moving_face: tuple[FaceClip, Plan]) -> None:
    clip, plan = moving_face
    for i, box in enumerate(clip.boxes):
        burned = [b for _t, b in plan.redacted_boxes(i)]
        assert len(burned) == 1
        # padded for safety, but not wildly: under twice the face's size either way
        assert burned[0].w < 2 * box[2] and burned[0].h < 2 * box[3], (i, burned[0], box)


def test_a_face_walking_in_from_the_edge_is_covered_from_its_first_visible_frame(tmp_path) -> None:
    clip = make_face_clip(tmp_path / "edge.mp4", start=(-55, 80), end=(250, 80), frames=40)
    plan = detect_faces(clip.path)
    assert uncovered_frames(plan, clip) == []


def test_a_face_that_appears_suddenly_is_covered_at_once_and_not_long_before(tmp_path) -> None:
    clip = make_face_clip(tmp_path / "pop.mp4", appear_at=15, frames=45, start=(200, 60), end=(260, 100))
    plan = detect_faces(clip.path)
    assert uncovered_frames(plan, clip) == []
    first = min(t.first_frame for t in plan.tracks)
    assert first >= 15 - 6, f"boxes start at frame {first}, long before the face appears at 15"


def test_a_clip_without_faces_gives_no_tracks(tmp_path) -> None:
    clip = make_face_clip(tmp_path / "empty.mp4", appear_at=10_000, frames=30)
    assert detect_faces(clip.path).tracks == []


def test_detection_reports_progress_and_stops_when_cancelled(tmp_path) -> None:
    clip = make_face_clip(tmp_path / "cancel.mp4", frames=40)
    token = CancelToken()
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        assert total == 40
        if done == 5:
            token.cancel()

    with pytest.raises(Cancelled):
        detect_faces(clip.path, progress=progress, cancel=token)
    assert seen[:5] == [1, 2, 3, 4, 5] and max(seen) <= 6


def test_the_same_video_always_gives_the_same_plan(moving_face: tuple[FaceClip, Plan]) -> None:
    clip, plan = moving_face
    again = detect_faces(clip.path)
    assert again.to_json()["tracks"] == plan.to_json()["tracks"]
