"""Which regions the detector looks at on each frame.

Running BlazeFace on every small tile of every frame would cost ~0.4 s per
720p frame. Instead each *level* of tiles (whole frame, large, medium, small
tiles) gets a fixed share of detector calls per frame, so the cost per frame
is constant, and spends it where a face is most likely to be new: on the tiles
whose picture changed most since they were last looked at. Change is measured
after undoing the camera's motion, so when the officer pans, the strip of
scenery entering the picture is looked at first and the rest, merely shifted,
waits its turn; when someone walks into a still shot, their tiles go first. A
tile's claim also grows with time, so every tile is looked at again within
about its level's period even when nothing seems to change (a scan can miss).

A face found late is carried backwards by the tracker (``redaction.track``).
Tracked faces are re-detected separately, on a crop around each.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .detect import Model, Region, grid


@dataclass(frozen=True, slots=True)
class Level:
    name: str
    side: int  # region side in frame pixels
    overlap: int
    period: int  # frames within which every region is looked at, at the latest
    model: Model = "full"


def default_levels(width: int, height: int, fps: float) -> list[Level]:
    """Tile levels for a frame size.

    Small faces need small tiles whatever the resolution, so small and medium
    sides are in absolute pixels; periods are in seconds so the reach back
    stays the same at any frame rate. Every level uses the short-range model:
    measured on the bench footage it finds 20-32 px faces in 112 px tiles
    (0.97) and 32-48 px faces in 224 px tiles (0.92) more often than the
    full-range model does in 160 and 384 px tiles (0.92, 0.85), at a third of
    the cost per call (2 ms against 6).
    """
    frames = max(1.0, fps)
    short_side = min(width, height)

    def period(seconds: float) -> int:
        return max(1, round(frames * seconds))

    levels = [
        Level("whole", max(width, height), 0, period(0.3), "short"),
        Level("large", short_side, short_side // 4, period(0.3), "short"),
    ]
    if short_side > 300:
        levels.append(Level("medium", 224, 48, period(0.8), "short"))
    if short_side > 150:
        levels.append(Level("small", 128, 24, period(1.5), "short"))
    return levels


# How much one frame's change counts against waiting a whole period: a tile
# whose picture is 10% new (mean difference ~6 levels) jumps ahead of tiles
# that only waited.
CHANGE_WEIGHT = 1.0 / 6.0


class Sweep:
    """Hands out each frame's regions, level by level."""

    def __init__(self, width: int, height: int, levels: list[Level]) -> None:
        self.width, self.height = width, height
        self.levels = levels
        self.regions = {lv.name: grid(width, height, lv.side, lv.overlap, lv.model, lv.name) for lv in levels}
        self._bounds = {
            name: _region_bounds(regions, width, height) for name, regions in self.regions.items()
        }
        self._cells_shape: tuple[int, ...] | None = None
        self._cells: dict[str, Cells] = {}
        self._claim = {
            lv.name: np.full(
                len(self.regions[lv.name]),
                1.0 + np.arange(len(self.regions[lv.name])) / max(1, len(self.regions[lv.name])),
            )
            for lv in levels
        }
        self._budget = {lv.name: 0.0 for lv in levels}
        # Detector calls per frame, for cost reports.
        self.load = sum(len(self.regions[lv.name]) / lv.period for lv in levels)

    def regions_for(self, index: int, change: np.ndarray | None = None) -> list[Region]:
        """This frame's regions. ``change``: per-pixel novelty (any size, scaled to the frame), 0-255."""
        if index == 0:
            # Faces in view from the very first frame have no earlier frames to be carried
            # back to: look everywhere at once (about 0.3 s of detection, once).
            return [r for regions in self.regions.values() for r in regions]
        sums = _integral(change) if change is not None else None
        if change is not None and self._cells_shape != change.shape[:2]:
            # The change map keeps its size through a video: each region's cells are fixed.
            self._cells_shape = change.shape[:2]
            self._cells = {name: _cells(bounds, change.shape) for name, bounds in self._bounds.items()}
        out: list[Region] = []
        for lv in self.levels:
            regions = self.regions[lv.name]
            claim = self._claim[lv.name]
            claim += 1.0 / lv.period
            if sums is not None:
                claim += CHANGE_WEIGHT * _mean_in(sums, self._cells[lv.name])
            self._budget[lv.name] += len(regions) / lv.period
            take = int(self._budget[lv.name])
            if take <= 0:
                continue
            self._budget[lv.name] -= take
            chosen = np.argsort(-claim, kind="stable")[:take]
            claim[chosen] = 0.0
            out.extend(regions[i] for i in sorted(chosen))
        return out

    def boost(self, box: object) -> None:
        """Look at the regions around ``box`` (a ``Box``) first: a face was just lost there."""
        if box is None:
            return
        for lv in self.levels:
            regions = self.regions[lv.name]
            for i, r in enumerate(regions):
                inside = (r.x <= box.cx < r.x + r.side) and (r.y <= box.cy < r.y + r.side)
                if inside and max(box.w, box.h) <= r.side * 0.6:
                    self._claim[lv.name][i] += 2.0

    def period_of(self, level: str) -> int:
        for lv in self.levels:
            if lv.name == level:
                return lv.period
        return max(lv.period for lv in self.levels)


def _integral(change: np.ndarray) -> np.ndarray:
    if change.dtype == np.uint8:
        # Summed straight into float64: the same (whole, exact) sums as converting first, 2.5x faster.
        return cv2.integral(change, sdepth=cv2.CV_64F)
    return cv2.integral(change.astype(np.float32) if change.dtype != np.float32 else change)


def _region_bounds(regions: list[Region], width: int, height: int) -> np.ndarray:
    """Each region's part inside the frame, as fractions of the frame: N x 4 (x0, y0, x1, y1)."""
    b = np.array([[r.x, r.y, r.x + r.side, r.y + r.side] for r in regions], dtype=np.float64)
    b[:, [0, 2]] = np.clip(b[:, [0, 2]], 0, width) / width
    b[:, [1, 3]] = np.clip(b[:, [1, 3]], 0, height) / height
    return b


Cells = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _cells(bounds: np.ndarray, shape: tuple[int, ...]) -> Cells:
    """Each region's cells in a change map of ``shape``: (x0, y0, x1, y1, area)."""
    h, w = shape[:2]
    x0 = np.minimum((bounds[:, 0] * w).astype(int), w - 1)
    y0 = np.minimum((bounds[:, 1] * h).astype(int), h - 1)
    x1 = np.maximum(np.ceil(bounds[:, 2] * w).astype(int), x0 + 1)
    y1 = np.maximum(np.ceil(bounds[:, 3] * h).astype(int), y0 + 1)
    return x0, y0, x1, y1, (x1 - x0) * (y1 - y0)


def _mean_in(sums: np.ndarray, cells: Cells) -> np.ndarray:
    """Mean change inside each region, from the integral image of the change map."""
    x0, y0, x1, y1, area = cells
    total = sums[y1, x1] - sums[y0, x1] - sums[y1, x0] + sums[y0, x0]
    return total / area
