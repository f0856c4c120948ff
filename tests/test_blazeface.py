"""The networks run by LiteRT must find exactly what MediaPipe's own face-detection graphs find."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from redaction import blazeface
from redaction.blazeface import SPECS, BlazeFace, anchor_centres, weighted_suppression
from redaction.errors import RedactionError

from .faces_clip import DEMO


def _pictures(side: int, count: int, seed: int) -> list[np.ndarray]:
    """Demo portraits at random sizes and places (some cut by the edge) on a noisy background."""
    rng = random.Random(seed)
    photos = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in sorted(DEMO.glob("*.jpg"))]
    noise = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        picture = noise.integers(0, 256, (side, side, 3), dtype=np.uint8)
        for _ in range(rng.randint(1, 3)):
            photo = rng.choice(photos)
            size = rng.randint(side // 5, side)
            small = cv2.resize(photo, (size, size * photo.shape[0] // photo.shape[1]))
            x, y = rng.randint(-size // 3, side - size // 2), rng.randint(-size // 3, side - size // 2)
            sx0, sy0 = max(0, -x), max(0, -y)
            dx0, dy0 = max(0, x), max(0, y)
            w = min(small.shape[1] - sx0, side - dx0)
            h = min(small.shape[0] - sy0, side - dy0)
            if w > 0 and h > 0:
                picture[dy0 : dy0 + h, dx0 : dx0 + w] = small[sy0 : sy0 + h, sx0 : sx0 + w]
        out.append(picture)
    return out


@pytest.mark.parametrize("model", ["short", "full"])
def test_litert_finds_the_same_faces_as_mediapipe(model: str) -> None:
    import mediapipe as mp

    solution = mp.solutions.face_detection.FaceDetection(
        model_selection=1 if model == "full" else 0, min_detection_confidence=0.5
    )
    ours = BlazeFace(model)
    found = 0
    try:
        for picture in _pictures(SPECS[model].side, 40, seed=7):
            theirs = solution.process(picture).detections or []
            mine = ours.detect(picture)
            assert len(mine) == len(theirs)
            expected = sorted(
                (
                    d.location_data.relative_bounding_box.xmin,
                    d.location_data.relative_bounding_box.ymin,
                    d.location_data.relative_bounding_box.width,
                    d.location_data.relative_bounding_box.height,
                    d.score[0],
                )
                for d in theirs
            )
            got = sorted((b.xmin, b.ymin, b.width, b.height, b.score) for b in mine)
            np.testing.assert_allclose(
                np.array(got).reshape(-1, 5), np.array(expected).reshape(-1, 5), atol=1e-5
            )
            found += len(mine)
    finally:
        solution.close()
    assert found >= 20  # the pictures really contain faces the network finds


def test_anchor_counts_match_the_networks_outputs() -> None:
    assert len(anchor_centres(SPECS["short"])) == 896
    assert len(anchor_centres(SPECS["full"])) == 2304


def test_weighted_suppression_merges_overlapping_boxes_by_score() -> None:
    corners = np.array([[0.0, 0.0, 1.0, 1.0], [0.1, 0.0, 1.1, 1.0], [3.0, 3.0, 4.0, 4.0]])
    scores = np.array([0.9, 0.6, 0.7])
    merged = weighted_suppression(corners, scores, 0.3)
    assert [round(b.score, 2) for b in merged] == [0.9, 0.7]
    assert merged[0].xmin == pytest.approx(0.1 * 0.6 / 1.5)
    assert merged[1].xmin == pytest.approx(3.0)


def test_a_degenerate_box_does_not_stall_suppression() -> None:
    corners = np.array([[0.5, 0.5, 0.5, 0.5], [0.0, 0.0, 1.0, 1.0]])
    merged = weighted_suppression(corners, np.array([0.9, 0.8]), 0.3)
    assert len(merged) == 2


def test_a_picture_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(ValueError, match="128x128"):
        BlazeFace("short").detect(np.zeros((100, 128, 3), np.uint8))


def test_a_missing_or_damaged_model_file_is_a_clear_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(blazeface, "model_folder", lambda: tmp_path)
    with pytest.raises(RedactionError, match="face_detection_short_range.tflite could not be loaded"):
        BlazeFace("short")
    (tmp_path / SPECS["full"].file).write_bytes(b"not a model")
    with pytest.raises(RedactionError, match="Reinstall"):
        BlazeFace("full")
