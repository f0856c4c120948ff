"""Burn a plan into a frame, in YUV, exactly as the release will show it.

Coverage rule: a box covers every pixel it touches (``Box.pixel_bounds``),
widened to the 2x2 chroma grid of 4:2:0 video. Without that widening a box
edge on an odd pixel would share a chroma sample with the uncovered pixel next
to it, and the covered pixel would keep the original colour: a coloured fringe
around a black box. Widening costs at most one pixel per side.

Styles: ``solid`` (default, irreversible) fills with the style colour; ``blur``
and ``pixelate`` are offered for presentation only and are deliberately
coarse: the region is reduced to at most ``_MAX_CELLS`` samples across before
being enlarged again, so no facial detail survives to be "enhanced" back.

All work happens on the Y, U and V planes of the touched rectangles; whole
frames are never converted.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .plan import Box, Plan, Style
from .yuv import YuvFrame, rgb_to_yuv

_MAX_CELLS = 6  # pixelate: at most this many blocks along the longer side of a box
_BLUR_CELLS = 3  # blur: detail kept before the smooth enlargement
_BLACK = (16, 128, 128)  # limited-range black


def chroma_aligned(bounds: tuple[int, int, int, int], width: int, height: int) -> tuple[int, int, int, int]:
    """``bounds`` grown to even coordinates so no chroma sample is half covered."""
    x0, y0, x1, y1 = bounds
    return x0 & ~1, y0 & ~1, min(width, x1 + (x1 & 1)), min(height, y1 + (y1 & 1))


def _chroma_rect(rect: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = rect
    return x0 // 2, y0 // 2, (x1 + 1) // 2, (y1 + 1) // 2


def box_rect(box: Box, width: int, height: int) -> tuple[int, int, int, int] | None:
    """The luma rectangle a box's redaction paints (clipped, chroma aligned), or None."""
    bounds = box.pixel_bounds(width, height)
    return None if bounds is None else chroma_aligned(bounds, width, height)


def _fill(frame: YuvFrame, rect: tuple[int, int, int, int], yuv: tuple[int, int, int]) -> None:
    x0, y0, x1, y1 = rect
    cx0, cy0, cx1, cy1 = _chroma_rect(rect)
    frame.y[y0:y1, x0:x1] = yuv[0]
    frame.u[cy0:cy1, cx0:cx1] = yuv[1]
    frame.v[cy0:cy1, cx0:cx1] = yuv[2]


def _coarsen(plane: np.ndarray, cells: int, smooth: bool) -> None:
    """Reduce a plane region to ``cells`` samples on its longer side, then enlarge it in place."""
    h, w = plane.shape
    if h == 0 or w == 0:
        return
    scale = cells / max(h, w)
    small_w, small_h = max(1, math.ceil(w * scale)), max(1, math.ceil(h * scale))
    small = cv2.resize(plane, (small_w, small_h), interpolation=cv2.INTER_AREA)
    if smooth:
        big = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        # A box blur on top removes the remaining bilinear ridges.
        k = max(3, (min(h, w) // 4) | 1)
        big = cv2.blur(big, (k, k), borderType=cv2.BORDER_REPLICATE)
    else:
        big = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    plane[...] = big


def _obscure(frame: YuvFrame, rect: tuple[int, int, int, int], smooth: bool) -> None:
    x0, y0, x1, y1 = rect
    cx0, cy0, cx1, cy1 = _chroma_rect(rect)
    cells = _BLUR_CELLS if smooth else _MAX_CELLS
    _coarsen(frame.y[y0:y1, x0:x1], cells, smooth)
    _coarsen(frame.u[cy0:cy1, cx0:cx1], cells, smooth)
    _coarsen(frame.v[cy0:cy1, cx0:cx1], cells, smooth)


def draw_boxes(frame: YuvFrame, boxes: list[Box], style: Style | None = None) -> int:
    """Apply ``style`` to each box on a writable frame; return how many boxes touched it."""
    style = style or Style()
    w, h = frame.width, frame.height
    color = rgb_to_yuv(style.color) if style.kind == "solid" else None
    touched = 0
    for box in boxes:
        rect = box_rect(box, w, h)
        if rect is None:
            continue
        touched += 1
        if color is not None:
            _fill(frame, rect, color)
        else:
            _obscure(frame, rect, smooth=style.kind == "blur")
    return touched


def blackout(frame: YuvFrame) -> None:
    """Whole-frame black (limited range)."""
    frame.y[...] = _BLACK[0]
    frame.u[...] = _BLACK[1]
    frame.v[...] = _BLACK[2]


def needs_render(plan: Plan, index: int) -> bool:
    """True if frame ``index`` shows anything the plan hides (no copy needed otherwise)."""
    return plan.blackout(index) or bool(plan.redacted_boxes(index))


def burn(frame: YuvFrame, plan: Plan, index: int, *, style: Style | None = None) -> YuvFrame:
    """The frame as the release shows it.

    Returns ``frame`` itself when nothing is hidden on it. Otherwise draws on
    ``frame`` if it is writable, or on a copy if it is a read-only decoder
    frame (copied once). ``style`` overrides the plan's style.
    """
    if plan.blackout(index):
        out = frame.writable()
        blackout(out)
        return out
    boxes = [box for _track, box in plan.redacted_boxes(index)]
    if not boxes:
        return frame
    out = frame.writable()
    draw_boxes(out, boxes, style or plan.style)
    return out


def preview_rgb(frame: YuvFrame, plan: Plan, index: int, *, style: Style | None = None) -> np.ndarray:
    """RGB image of frame ``index`` exactly as export burns it (the window's "preview release")."""
    return burn(frame, plan, index, style=style).to_rgb()
