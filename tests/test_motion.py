"""The tracker's arithmetic shortcuts give numpy's results bit for bit.

Tracking is chaotic: a box that moves by the last bit on one frame can end
somewhere else a hundred frames later. The hand-written forms in
``redaction.motion`` must therefore equal the generic numpy calls they replace
exactly, not approximately.
"""

from __future__ import annotations

import warnings

import numpy as np

from redaction.motion import _median, _pairs, box_motion, box_points
from redaction.plan import Box


def _same(a: object, b: object) -> bool:
    return type(a) is type(b) and np.asarray(a).tobytes() == np.asarray(b).tobytes()


def test_median_equals_numpy_including_signed_zeros_infinities_and_nan():
    rng = np.random.default_rng(7)
    for trial in range(3000):
        n = int(rng.integers(1, 40))
        values = [
            rng.normal(size=n),
            rng.integers(-2, 3, n).astype(float),
            rng.choice([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf], n),
        ][trial % 3]
        if trial % 7 == 0:
            values[rng.integers(n)] = np.nan
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            expected, got = np.median(values), _median(values)
        assert _same(expected, got) or (np.isnan(expected) and np.isnan(got)), values


def test_point_grid_and_box_motion_equal_the_numpy_formulation():
    rng = np.random.default_rng(8)
    for _ in range(300):
        box = Box(*(float(v) for v in rng.normal(size=4) * 300))
        steps = np.linspace(0.2, 0.8, 5)
        grid = np.stack(np.meshgrid(box.x + box.w * steps, box.y + box.h * steps), -1).reshape(-1, 2)
        assert _same(box_points(box), grid)

        n = int(rng.integers(5, 26))
        old = grid[:n]
        new = old * rng.uniform(0.7, 1.3) + rng.normal(size=(n, 2)) * rng.choice([0.01, 3.0])
        i, j = _pairs(n)
        assert _same((i, j), np.triu_indices(n, 1))
        shift = np.median(new - old, axis=0)
        d_old = np.linalg.norm(old[i] - old[j], axis=1)
        d_new = np.linalg.norm(new[i] - new[j], axis=1)
        valid = d_old > 1e-3
        scale = float(np.clip(float(np.median(d_new[valid] / d_old[valid])), 0.8, 1.25))
        cx, cy = box.cx + shift[0], box.cy + shift[1]
        expected = (cx - box.w * scale / 2, cy - box.h * scale / 2, box.w * scale, box.h * scale)
        moved = box_motion(old, new, box)
        assert moved is not None
        assert all(_same(a, b) for a, b in zip((moved.x, moved.y, moved.w, moved.h), expected, strict=True))
