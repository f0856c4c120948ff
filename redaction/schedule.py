"""Which regions the detector looks at on each frame.

Running BlazeFace on every small tile of every frame would cost ~0.4 s per
720p frame. Instead every *level* of tiles (whole frame, large, medium, small
tiles) is swept over a period of frames, a slice per frame, so the cost per
frame is constant and every place of the picture is looked at, at every scale,
within a bounded time. A face found late is carried backwards by the tracker
(see ``redaction.track``), so the sweep period bounds how far back that has to
reach. Tracked faces are re-detected separately, on a crop around each.
"""

from __future__ import annotations

from dataclasses import dataclass

from .detect import Model, Region, grid


@dataclass(frozen=True, slots=True)
class Level:
    name: str
    side: int  # region side in frame pixels
    overlap: int
    period: int  # frames to sweep the whole level once
    model: Model = "full"


def default_levels(width: int, height: int, fps: float) -> list[Level]:
    """Tile levels for a frame size.

    Small faces need small tiles whatever the resolution (a 15 px face is found
    in a 160 px tile, not in a 240 px one), so small and medium sides are in
    absolute pixels; periods are in seconds so the reach back stays the same
    at any frame rate.
    """
    frames = max(1.0, fps)
    short_side = min(width, height)
    levels = [
        Level("whole", max(width, height), 0, max(1, round(frames * 0.1))),
        Level("large", short_side, short_side // 4, max(1, round(frames * 0.2))),
    ]
    if short_side > 400:
        levels.append(Level("medium", 360, 72, max(1, round(frames * 0.67))))
    if short_side > 180:
        levels.append(Level("small", 160, 32, max(1, round(frames * 2.0))))
    return levels


class Sweep:
    """Spreads each level's regions evenly over its period."""

    def __init__(self, width: int, height: int, levels: list[Level]) -> None:
        self.levels = levels
        self.regions = {
            lv.name: grid(width, height, lv.side, lv.overlap, lv.model, lv.name) for lv in levels
        }
        # Rough count of regions per frame, for cost reports.
        self.load = sum(len(self.regions[lv.name]) / lv.period for lv in levels)

    def regions_for(self, index: int) -> list[tuple[str, Region]]:
        out = []
        for lv in self.levels:
            regions = self.regions[lv.name]
            n, period = len(regions), lv.period
            phase = index % period
            start, stop = phase * n // period, (phase + 1) * n // period
            out.extend((lv.name, regions[i]) for i in range(start, stop))
        return out

    def period_of(self, level: str) -> int:
        for lv in self.levels:
            if lv.name == level:
                return lv.period
        return max(lv.period for lv in self.levels)
