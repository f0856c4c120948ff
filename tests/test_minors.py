"""Possible-minor flags: the rule, and the real offline age model on real faces."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from redaction import minors
from tests.faces_clip import DEMO, FACE_IN_PHOTO


class FakeModel:
    def __init__(self, ages: list[int]) -> None:
        self.ages = list(ages)

    def age(self, crop: np.ndarray) -> dict[str, int]:
        return {"value": self.ages.pop(0), "confidence": 50}


def crops(n: int, size: int = 64) -> list[tuple[int, np.ndarray]]:
    return [(i * 10, np.full((size, size, 3), 128, np.uint8)) for i in range(n)]


@pytest.mark.parametrize(
    "ages,flagged",
    [
        ([40, 38, 45], False),
        ([40, 16, 45], False),  # one young reading among adult ones: a blink, not a child
        ([40, 16, 22], True),  # two under 25
        ([19], True),
        ([24, 24], True),
        ([25, 25], False),
    ],
)
def test_the_second_lowest_estimate_decides(monkeypatch, ages, flagged):
    monkeypatch.setattr(minors, "_estimator", lambda: FakeModel(ages))
    flag, evidence = minors.assess(crops(len(ages)))
    assert flag is flagged
    assert evidence["status"] == "estimated"
    assert evidence["ages"] == ages and evidence["frames"] == [i * 10 for i in range(len(ages))]
    assert evidence["method"] == minors.METHOD


def test_a_face_too_small_to_judge_is_flagged_as_not_assessed(monkeypatch):
    monkeypatch.setattr(minors, "_estimator", lambda: pytest.fail("the model must not run on tiny crops"))
    flag, evidence = minors.assess(crops(3, size=20))
    assert flag is True and evidence["status"] == "not assessed"
    flag, evidence = minors.assess([])
    assert flag is True and evidence["status"] == "not assessed"


def test_the_bundled_age_model_reads_an_adult_portrait_as_an_adult():
    photo = cv2.imread(str(DEMO / "obama.jpg"))[:, :, ::-1]
    x, y, w, h = FACE_IN_PHOTO["obama.jpg"]
    samples = []
    for size in (160, 100, 64):
        k = size / w
        small = cv2.resize(photo, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
        bx, by, bw, bh = (round(v * k) for v in (x, y, w, h))
        samples.append((size, np.ascontiguousarray(small[by:by + bh, bx:bx + bw])))
    flag, evidence = minors.assess(samples)
    assert evidence["status"] == "estimated" and len(evidence["ages"]) == 3
    assert all(30 <= a <= 70 for a in evidence["ages"]), evidence["ages"]
    assert flag is False
