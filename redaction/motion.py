"""Frame-to-frame motion: the camera's, and each tracked face's.

Detection runs on a budget (a few regions per frame), so between detections a
face is carried by optical flow: pyramidal Lucas-Kanade on a grid of points
inside its box, checked forward and backward. A body camera shakes, pans and
blurs; when the face's own points cannot be trusted (blur, too few points) the
box follows the camera's motion instead, estimated the same way on a grid over
the whole frame and fitted as a similarity (shift, zoom, roll) with RANSAC.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from .plan import Box

LK_WINDOW = (11, 11)  # 15x15 costs twice as much and tracked no better on the bench footage
LK_LEVELS = 4
_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03)


@dataclass(frozen=True, slots=True)
class Similarity:
    """x' = s * R(theta) x + t, as a 2x3 matrix."""

    matrix: np.ndarray
    inliers: float  # share of grid points that agree; low = unreliable

    @classmethod
    def identity(cls) -> Similarity:
        return cls(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), 0.0)

    @property
    def scale(self) -> float:
        return float(np.hypot(self.matrix[0, 0], self.matrix[1, 0]))

    def apply_point(self, x: float, y: float) -> tuple[float, float]:
        m = self.matrix
        return m[0, 0] * x + m[0, 1] * y + m[0, 2], m[1, 0] * x + m[1, 1] * y + m[1, 2]

    def apply_box(self, box: Box) -> Box:
        cx, cy = self.apply_point(box.cx, box.cy)
        s = self.scale
        return Box(cx - box.w * s / 2, cy - box.h * s / 2, box.w * s, box.h * s)

    def inverse(self) -> Similarity:
        return Similarity(cv2.invertAffineTransform(self.matrix), self.inliers)


def flow(
    prev: np.ndarray, cur: np.ndarray, points: np.ndarray, levels: int = LK_LEVELS, check: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Track ``points`` (N x 2) from image ``prev`` to ``cur``; returns (new points, ok mask).

    With ``check``, a point is kept only if tracking it back lands within 1 px
    of where it started (twice the cost; callers that fit a model with RANSAC
    reject bad points themselves).
    """
    if len(points) == 0:
        return points, np.zeros(0, bool)
    p0 = points.astype(np.float32).reshape(-1, 1, 2)
    p1, st1, _ = cv2.calcOpticalFlowPyrLK(
        prev, cur, p0, None, winSize=LK_WINDOW, maxLevel=levels, criteria=_CRITERIA
    )
    if not check:
        return p1.reshape(-1, 2), st1.reshape(-1) == 1
    p0b, st2, _ = cv2.calcOpticalFlowPyrLK(
        cur, prev, p1, None, winSize=LK_WINDOW, maxLevel=levels, criteria=_CRITERIA
    )
    back_error = np.linalg.norm((p0b - p0).reshape(-1, 2), axis=1)
    ok = (st1.reshape(-1) == 1) & (st2.reshape(-1) == 1) & (back_error < 1.0)
    return p1.reshape(-1, 2), ok


class GrayPyramid:
    """A frame's luma at full, half, quarter... size, built once per frame.

    Halving by area averaging is fast in OpenCV (fractional factors are not),
    and every track picks the level at which its face is about 100 px, so a
    large face costs no more to follow than a small one.
    """

    __slots__ = ("levels",)

    def __init__(self, gray: np.ndarray, min_width: int = 160) -> None:
        levels = [gray]
        while levels[-1].shape[1] // 2 >= min_width:
            top = levels[-1]
            h, w = top.shape[0] // 2, top.shape[1] // 2
            levels.append(cv2.resize(top[: 2 * h, : 2 * w], (w, h), interpolation=cv2.INTER_AREA))
        self.levels = levels

    @property
    def full(self) -> np.ndarray:
        return self.levels[0]

    def level_at_most(self, width: int) -> int:
        """The largest level no wider than ``width`` (or the smallest there is)."""
        for i, level in enumerate(self.levels):
            if level.shape[1] <= width:
                return i
        return len(self.levels) - 1

    def nbytes(self) -> int:
        return sum(level.nbytes for level in self.levels)


CAMERA_WIDTH = 480  # camera motion is measured on a level at most this wide (full-frame flow costs ~8 ms)


def camera_motion(prev: GrayPyramid, cur: GrayPyramid) -> Similarity:
    """The camera's motion between two frames, in full-resolution pixels."""
    level = prev.level_at_most(CAMERA_WIDTH)
    a, b = prev.levels[level], cur.levels[level]
    h, w = a.shape[:2]
    grid = _camera_points(w, h)
    moved, ok = flow(a, b, grid, levels=3, check=False)
    fit = fit_similarity(grid[ok], moved[ok], threshold=0.5)
    if fit is None:
        return Similarity.identity()
    m = fit.matrix.copy()
    m[:, 2] *= 2**level  # rotation and scale are resolution-free; the shift scales
    return Similarity(m, fit.inliers * ok.mean())


@functools.cache
def _camera_points(width: int, height: int) -> np.ndarray:
    # 60 points: plenty for a 4-parameter fit, 2.5x cheaper than 144. The same every frame.
    grid = camera_grid(width, height, 10, 6)
    grid.flags.writeable = False
    return grid


def novelty(prev: GrayPyramid, cur: GrayPyramid, camera: Similarity) -> np.ndarray:
    """Per-pixel change the camera's motion does not explain, at the camera level (0-255).

    Scenery that just entered the picture (no counterpart in the previous
    frame) counts as entirely new.
    """
    level = prev.level_at_most(CAMERA_WIDTH)
    a, b = prev.levels[level], cur.levels[level]
    m = camera.matrix.copy()
    m[:, 2] /= 2**level
    h, w = b.shape[:2]
    warped = cv2.warpAffine(
        a, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    seen = cv2.warpAffine(
        np.full_like(a, 255),
        m,
        (w, h),
        flags=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    change = cv2.absdiff(warped, b)
    change[seen == 0] = 255
    return change


def follow_box(
    prev: GrayPyramid, cur: GrayPyramid, box: Box, max_side: int = 160
) -> tuple[Box | None, float]:
    """Move a face box from ``prev`` to ``cur`` by the flow of its own points.

    Works on a crop around the box at the pyramid level where that crop is at
    most ``max_side`` px. Returns (box or None when too few points agree,
    share of points kept).
    """
    margin = max(box.w, box.h) * 0.8 + 16
    around = box.grown(margin, margin)
    level = 0
    while level + 1 < len(prev.levels) and max(around.w, around.h) / 2**level > max_side:
        level += 1
    k = 2**level
    a_full, b_full = prev.levels[level], cur.levels[level]
    h, w = a_full.shape[:2]
    bounds = Box(around.x / k, around.y / k, around.w / k, around.h / k).pixel_bounds(w, h)
    if bounds is None:
        return None, 0.0
    x0, y0, x1, y1 = bounds
    a, b = np.ascontiguousarray(a_full[y0:y1, x0:x1]), np.ascontiguousarray(b_full[y0:y1, x0:x1])
    points = box_points(box)
    local = points / k - (x0, y0)
    inside = (local[:, 0] >= 0) & (local[:, 1] >= 0) & (local[:, 0] < a.shape[1]) & (local[:, 1] < a.shape[0])
    if inside.sum() < 5:
        return None, 0.0
    moved, ok = flow(a, b, local[inside], levels=2)
    share = float(ok.sum()) / len(points)
    if share < 0.5:
        return None, share
    old = points[inside][ok]
    new = (moved[ok] + (x0, y0)) * k
    return box_motion(old, new, box), share


SMALL_FACE = 48  # px; below this a face has too little texture of its own for point flow


def follow_small(prev: np.ndarray, cur: np.ndarray, box: Box, predicted: Box) -> tuple[Box | None, float]:
    """Move a small face box by matching its picture (normalised cross-correlation).

    Flow windows on a 20 px face mostly see background and stick to it; the
    face's whole patch, searched around where the camera motion predicts it,
    does not. Returns (box or None when no good match, match score).
    """
    h, w = prev.shape[:2]
    t = box.pixel_bounds(w, h)
    if t is None or t[2] - t[0] < 6 or t[3] - t[1] < 6:
        return None, 0.0
    template = prev[t[1] : t[3], t[0] : t[2]]
    margin = max(predicted.w, predicted.h, 16.0)
    area = predicted.grown(margin, margin).pixel_bounds(w, h)
    if area is None or area[2] - area[0] <= template.shape[1] or area[3] - area[1] <= template.shape[0]:
        return None, 0.0
    search = cur[area[1] : area[3], area[0] : area[2]]
    scores = cv2.matchTemplate(search, template, cv2.TM_CCOEFF_NORMED)
    _, best, _, (mx, my) = cv2.minMaxLoc(scores)
    if not np.isfinite(best) or best < 0.6:
        return None, float(best) if np.isfinite(best) else 0.0
    # the template is the clipped box: place the box the way its visible part moved
    dx = area[0] + mx - t[0]
    dy = area[1] + my - t[1]
    return Box(box.x + dx, box.y + dy, box.w, box.h), float(best)


LOOK = 24  # px: the face's middle is compared at this size


def face_look(gray: np.ndarray, box: Box) -> np.ndarray | None:
    """The middle of a face box at ``LOOK`` px, to search for later with ``likeness``."""
    h, w = gray.shape[:2]
    bounds = box.grown(-0.2 * box.w, -0.2 * box.h).pixel_bounds(w, h)
    if bounds is None or bounds[2] - bounds[0] < 8 or bounds[3] - bounds[1] < 8:
        return None
    return cv2.resize(
        gray[bounds[1] : bounds[3], bounds[0] : bounds[2]], (LOOK, LOOK), interpolation=cv2.INTER_AREA
    )


def likeness(look: np.ndarray | None, gray: np.ndarray, box: Box) -> float:
    """How well ``look`` matches the middle of ``box`` in ``gray``, allowing ~15% misplacement.

    Normalised cross-correlation, best over small shifts: the same face a few
    pixels off or slightly turned stays near 1, a wall or another face falls
    low. 1.0 when it cannot be measured (no look, box off the picture).
    """
    if look is None:
        return 1.0
    h, w = gray.shape[:2]
    inner = box.grown(-0.2 * box.w, -0.2 * box.h)
    k = LOOK / max(inner.w, 1e-6)
    slack = 0.25 * inner.w
    bounds = inner.grown(slack, slack * inner.h / max(inner.w, 1e-6)).pixel_bounds(w, h)
    if bounds is None:
        return 1.0
    area = gray[bounds[1] : bounds[3], bounds[0] : bounds[2]]
    size = (max(1, round(area.shape[1] * k)), max(1, round(area.shape[0] * LOOK / max(inner.h, 1e-6))))
    if size[0] < LOOK or size[1] < LOOK:
        return 1.0  # too much of it is outside the picture to tell
    search = cv2.resize(area, size, interpolation=cv2.INTER_AREA)
    scores = cv2.matchTemplate(search, look, cv2.TM_CCOEFF_NORMED)
    best = float(scores.max())
    return best if np.isfinite(best) else 1.0


def camera_grid(width: int, height: int, columns: int = 16, rows: int = 9) -> np.ndarray:
    xs = (np.arange(columns) + 0.5) * width / columns
    ys = (np.arange(rows) + 0.5) * height / rows
    return np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)


def box_points(box: Box, n: int = 5) -> np.ndarray:
    """An n x n grid over the central part of a face box (its edges hold background)."""
    # Filled in place in np.meshgrid's order (x varying fastest): meshgrid and stack cost
    # 40 us per face per frame, eight times this.
    steps = _steps(n)
    grid = np.empty((n, n, 2))
    grid[:, :, 0] = box.x + box.w * steps
    grid[:, :, 1] = (box.y + box.h * steps)[:, None]
    return grid.reshape(-1, 2)


@functools.cache
def _steps(n: int) -> np.ndarray:
    steps = np.linspace(0.2, 0.8, n)
    steps.flags.writeable = False
    return steps


@functools.cache
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (i, j) of every pair of n points, i < j (np.triu_indices, read-only)."""
    i, j = np.triu_indices(n, 1)
    i.flags.writeable = j.flags.writeable = False
    return i, j


def _median(values: np.ndarray) -> np.floating:
    """np.median of a non-empty 1-D float array, bit for bit, without its generic overhead
    (three calls per face per frame). As np.median computes it: the mean of the middle one
    or two values, summed from 0.0 (so -0.0 comes out 0.0); NaN if there is one (sorted last)."""
    n = len(values)
    half = n // 2
    middle = (half - 1, half) if n % 2 == 0 else (half,)
    part = np.partition(values, (*middle, n - 1))
    if np.isnan(part[-1]):
        return part[-1]
    if n % 2:
        return 0.0 + part[half]
    return (0.0 + part[half - 1] + part[half]) / 2


def fit_similarity(src: np.ndarray, dst: np.ndarray, threshold: float) -> Similarity | None:
    if len(src) < 6:
        return None
    matrix, inliers = cv2.estimateAffinePartial2D(
        src.astype(np.float32),
        dst.astype(np.float32),
        method=cv2.RANSAC,
        ransacReprojThreshold=threshold,
        maxIters=200,
        confidence=0.99,
    )
    if matrix is None:
        return None
    return Similarity(matrix.astype(np.float64), float(inliers.mean()) if inliers is not None else 0.0)


def box_motion(old_points: np.ndarray, new_points: np.ndarray, box: Box) -> Box | None:
    """Move ``box`` by the median shift and scale of a face's tracked points (MedianFlow)."""
    if len(old_points) < 5:
        return None
    # The same arithmetic as np.median and np.linalg.norm on the (N, 2) arrays, column by
    # column: those generic calls cost about as much as the optical flow itself.
    ox, oy, nx, ny = old_points[:, 0], old_points[:, 1], new_points[:, 0], new_points[:, 1]
    shift = (_median(nx - ox), _median(ny - oy))
    i, j = _pairs(len(old_points))
    dx, dy = ox[i] - ox[j], oy[i] - oy[j]
    d_old = np.sqrt(dx * dx + dy * dy)
    dx, dy = nx[i] - nx[j], ny[i] - ny[j]
    d_new = np.sqrt(dx * dx + dy * dy)
    valid = d_old > 1e-3
    scale = float(_median(d_new[valid] / d_old[valid])) if valid.any() else 1.0
    scale = min(max(scale, 0.8), 1.25)
    cx, cy = box.cx + shift[0], box.cy + shift[1]
    return Box(cx - box.w * scale / 2, cy - box.h * scale / 2, box.w * scale, box.h * scale)
