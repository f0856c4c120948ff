"""Face detection with MediaPipe's BlazeFace models on square regions of a frame.

BlazeFace sees a 192x192 (full-range) or 128x128 (short-range) picture, so a
whole 1280x720 frame shrinks a 40 px face to 6 px and it is missed. The
tracker therefore asks for detections on *regions*: a few large tiles for big
faces, a grid of small tiles for distant faces, and a crop around each tracked
face to re-anchor it. This module runs one region and maps the result back to
frame pixels; deciding which regions to run is ``redaction.schedule``'s job.

Measured on the bench footage (``build/``): full-range finds faces down to
about 15 px in its input (0.08 of the region side), short-range down to about
20 px of 128 (0.16 of the region side); a call costs about 6.5 ms and 1.5 ms
(``redaction.blazeface`` runs the networks).
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from .blazeface import SPECS, BlazeFace, Model
from .plan import Box

MODEL_INPUT = {model: spec.side for model, spec in SPECS.items()}
MODEL_FILES = {model: spec.file for model, spec in SPECS.items()}
MOSAIC_MAX_SIDE = 112  # regions up to this side share a full-range call as one quarter of it


class RgbSource(Protocol):
    """A frame that can hand out RGB crops (``redaction.yuv.YuvFrame`` is one)."""

    @property
    def width(self) -> int: ...

    @property
    def height(self) -> int: ...

    def to_rgb(self, rect: tuple[int, int, int, int] | None = None) -> np.ndarray: ...


@dataclass(frozen=True, slots=True)
class Region:
    """A square ``side`` x ``side`` window at ``(x, y)``; may extend past the frame."""

    x: int
    y: int
    side: int
    model: Model = "full"
    level: str = ""  # which sweep level (or "refresh") asked for it


@dataclass(frozen=True, slots=True)
class Detection:
    box: Box  # BlazeFace's box, frame pixels
    score: float
    region_side: int  # the side of the region it was found in (smaller = finer look)
    level: str = ""
    model: Model = "full"
    cut: bool = False  # touches an edge of its region inside the picture: probably part of a face

    def face_box(self) -> Box:
        """The whole face, forehead to chin and ear to ear.

        BlazeFace's box spans brows to mouth; on the bench footage the whole
        face measured 1.03-1.19 times its width and 1.12-1.31 times its height
        (medians by size), centred slightly higher. Take the upper values: an
        undersized box is a leak, an oversized one only costs a little picture.
        """
        b = self.box
        w, h = b.w * 1.2, b.h * 1.32
        return Box(b.cx - w / 2, b.cy - 0.53 * h, w, h)


class FaceDetector:
    """Both BlazeFace models, loaded once, run on regions of a frame.

    Not thread-safe: one detector per worker thread.
    """

    def __init__(self, min_score: float = 0.5) -> None:
        self.min_score = min_score
        with _native_logs_silenced():  # LiteRT announces its XNNPACK delegate on stderr
            self._models = {model: BlazeFace(model, min_score) for model in MODEL_INPUT}
        self.calls = {"full": 0, "short": 0}

    def close(self) -> None:
        """Release the models (safe to call twice)."""
        self._models.clear()

    def detect(self, frame: RgbSource, region: Region) -> list[Detection]:
        n = MODEL_INPUT[region.model]
        picture = _region_picture(frame, region, n)
        self.calls[region.model] += 1
        scale = region.side / n
        found = []
        for rel in self._models[region.model].detect(picture):
            box = Box(
                region.x + rel.xmin * n * scale,
                region.y + rel.ymin * n * scale,
                rel.width * n * scale,
                rel.height * n * scale,
            )
            if box.w > 0 and box.h > 0:
                cut = _touches_inner_edge(box, region, frame.width, frame.height)
                found.append(Detection(box, rel.score, region.side, region.level, region.model, cut))
        return found

    def detect_all(self, frame: RgbSource, regions: list[Region]) -> list[Detection]:
        """Detections from every region; small full-range regions share calls, four at a time.

        A crop around a distant face needs only ~100 px; the model sees 192.
        Four such crops tiled 2 x 2 cost one call instead of four, at the same
        scale. A detection that straddles two tiles of the mosaic is dropped
        (it belongs to neither crop).
        """
        small = [r for r in regions if r.model == "full" and r.side <= MOSAIC_MAX_SIDE]
        found: list[Detection] = []
        for region in regions:
            if not (region.model == "full" and region.side <= MOSAIC_MAX_SIDE) or len(small) < 2:
                found.extend(self.detect(frame, region))
        if len(small) >= 2:
            for start in range(0, len(small), 4):
                found.extend(self._detect_mosaic(frame, small[start : start + 4]))
        return found

    def _detect_mosaic(self, frame: RgbSource, regions: list[Region]) -> list[Detection]:
        n = MODEL_INPUT["full"]
        q = n // 2
        picture = np.zeros((n, n, 3), np.uint8)
        for i, region in enumerate(regions):
            oy, ox = (i // 2) * q, (i % 2) * q
            picture[oy : oy + q, ox : ox + q] = _region_picture(frame, region, q)
        self.calls["full"] += 1
        found = []
        for rel in self._models["full"].detect(picture):
            x0, y0, x1, y1 = (
                rel.xmin * n,
                rel.ymin * n,
                (rel.xmin + rel.width) * n,
                (rel.ymin + rel.height) * n,
            )
            col, row = int((x0 + x1) / 2 // q), int((y0 + y1) / 2 // q)
            i = row * 2 + col
            if not (0 <= col <= 1 and 0 <= row <= 1) or i >= len(regions):
                continue
            slack = 0.04 * q
            if (
                x0 < col * q - slack
                or x1 > (col + 1) * q + slack
                or y0 < row * q - slack
                or y1 > (row + 1) * q + slack
            ):
                continue  # straddles two crops
            region = regions[i]
            scale = region.side / q
            box = Box(
                region.x + (x0 - col * q) * scale,
                region.y + (y0 - row * q) * scale,
                (x1 - x0) * scale,
                (y1 - y0) * scale,
            )
            if box.w > 0 and box.h > 0:
                cut = _touches_inner_edge(box, region, frame.width, frame.height)
                found.append(Detection(box, rel.score, region.side, region.level, "full", cut))
        return found


class ParallelDetector:
    """Two detectors, one on a helper thread: LiteRT releases the GIL while it
    runs, so a frame's regions are split between the two and run at once.

    While the encoder is busy the second core is shared with it; when it is
    not, detection takes half the time. Same interface as ``FaceDetector``.
    """

    def __init__(self, min_score: float = 0.5) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.min_score = min_score
        self._main = FaceDetector(min_score)
        self._helper = FaceDetector(min_score)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bwc-detect")

    @property
    def calls(self) -> dict[str, int]:
        return {m: self._main.calls[m] + self._helper.calls[m] for m in self._main.calls}

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._main.close()
        self._helper.close()

    def detect(self, frame: RgbSource, region: Region) -> list[Detection]:
        return self._main.detect(frame, region)

    def detect_all(self, frame: RgbSource, regions: list[Region]) -> list[Detection]:
        if len(regions) < 2:
            return self._main.detect_all(frame, regions)
        # Work units: each region alone, except small full-range crops, which go four to a
        # mosaic. Both threads take the next unit until none is left, costliest first, so
        # neither waits long for the other whatever the encoder takes from the machine.
        mosaic = [r for r in regions if r.model == "full" and r.side <= MOSAIC_MAX_SIDE]
        units = [mosaic[i : i + 4] for i in range(0, len(mosaic), 4)] if len(mosaic) >= 2 else []
        singles = [r for r in regions if not (len(mosaic) >= 2 and r in mosaic)]
        units += [[r] for r in sorted(singles, key=lambda r: r.model != "full")]
        queue = iter(units)
        lock = threading.Lock()

        def take(detector: FaceDetector) -> list[Detection]:
            found: list[Detection] = []
            while True:
                with lock:
                    unit = next(queue, None)
                if unit is None:
                    return found
                found.extend(
                    detector.detect_all(frame, unit) if len(unit) > 1 else detector.detect(frame, unit[0])
                )

        future = self._pool.submit(take, self._helper)
        found = take(self._main)
        found.extend(future.result())
        # Which thread finished first must not change the result: the same video gives the same plan.
        found.sort(key=lambda d: (d.box.x, d.box.y, d.box.w, d.box.h, -d.score, d.region_side))
        return found


@contextlib.contextmanager
def _native_logs_silenced() -> Iterator[None]:
    """Hide the banners LiteRT's C++ prints on stderr while a network starts: a records
    officer should see progress and plain errors only. (They bypass Python logging, so
    the file descriptor itself is pointed elsewhere.)"""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def _touches_inner_edge(box: Box, region: Region, width: int, height: int) -> bool:
    """Whether ``box`` reaches a side of ``region`` that lies inside the frame (a tile seam)."""
    margin = 0.02 * region.side
    x1, y1 = region.x + region.side, region.y + region.side
    return (
        (region.x > 0 and box.x <= region.x + margin)
        or (region.y > 0 and box.y <= region.y + margin)
        or (x1 < width and box.x2 >= x1 - margin)
        or (y1 < height and box.y2 >= y1 - margin)
    )


def _region_picture(frame: RgbSource, region: Region, n: int) -> np.ndarray:
    """The region as an n x n RGB picture, black outside the frame."""
    x0, y0, side = region.x, region.y, region.side
    fx0, fy0 = max(0, x0), max(0, y0)
    fx1, fy1 = min(frame.width, x0 + side), min(frame.height, y0 + side)
    scale = n / side
    out = np.zeros((n, n, 3), np.uint8)
    if fx1 <= fx0 or fy1 <= fy0:
        return out
    ox, oy = round((fx0 - x0) * scale), round((fy0 - y0) * scale)
    w = min(n - ox, max(1, round((fx1 - fx0) * scale)))
    h = min(n - oy, max(1, round((fy1 - fy0) * scale)))
    out[oy : oy + h, ox : ox + w] = shrunk_rgb(frame, (fx0, fy0, fx1, fy1), (w, h))
    return out


def shrunk_rgb(frame: RgbSource, rect: tuple[int, int, int, int], size: tuple[int, int]) -> np.ndarray:
    """RGB pixels of ``rect`` resized to ``size``, cheaply and without aliasing.

    Small faces vanish when a large tile is shrunk by plain interpolation, and
    OpenCV's area averaging is slow for fractional factors (3 ms for 720 to
    192 px); area-average by a whole factor first (fast), then interpolate
    the remaining < 2x. A YUV frame is shrunk plane by plane before colour
    conversion, so only the small picture is converted.
    """
    x0, y0, x1, y1 = rect
    w, h = size
    factor = int(min((x1 - x0) / w, (y1 - y0) / h))
    even = factor - factor % 2  # chroma is subsampled 2x: shrink by an even factor
    if getattr(frame, "y", None) is not None and even >= 2:
        factor = even
        # Whole chroma samples only: align to 2 px, then shrink Y by factor, U and V by factor / 2.
        x0, y0 = x0 & ~1, y0 & ~1
        cw, ch = (x1 - x0) // factor, (y1 - y0) // factor
        if cw >= 2 and ch >= 2:
            cw, ch = cw & ~1, ch & ~1
            yy = frame.y[y0 : y0 + ch * factor, x0 : x0 + cw * factor]
            half = factor // 2
            uu = frame.u[y0 // 2 : y0 // 2 + ch * half, x0 // 2 : x0 // 2 + cw * half]
            vv = frame.v[y0 // 2 : y0 // 2 + ch * half, x0 // 2 : x0 // 2 + cw * half]
            if yy.shape == (ch * factor, cw * factor) and uu.shape == vv.shape == (ch * half, cw * half):
                # (odd frame edges can leave a plane a row short: then take the plain path)
                i420 = np.empty((ch * 3 // 2, cw), np.uint8)
                i420[:ch] = cv2.resize(yy, (cw, ch), interpolation=cv2.INTER_AREA)
                quarter = (ch // 2) * (cw // 2)
                flat = i420[ch:].reshape(-1)
                flat[:quarter] = cv2.resize(uu, (cw // 2, ch // 2), interpolation=cv2.INTER_AREA).reshape(-1)
                flat[quarter:] = cv2.resize(vv, (cw // 2, ch // 2), interpolation=cv2.INTER_AREA).reshape(-1)
                rgb = cv2.cvtColor(i420, cv2.COLOR_YUV2RGB_I420)
                return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_LINEAR)
        x0, y0, x1, y1 = rect
    rgb = frame.to_rgb((x0, y0, x1, y1))
    if factor >= 2:
        rh, rw = rgb.shape[:2]
        rgb = cv2.resize(
            rgb[: rh - rh % factor, : rw - rw % factor],
            (rw // factor, rh // factor),
            interpolation=cv2.INTER_AREA,
        )
    return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_LINEAR)


def grid(
    width: int, height: int, side: int, overlap: int, model: Model = "full", level: str = ""
) -> list[Region]:
    """Square regions of ``side`` covering the frame, neighbours sharing ``overlap`` px."""
    side = min(side, max(width, height))
    step = max(1, side - overlap)

    def starts(length: int) -> list[int]:
        if length <= side:
            return [(length - side) // 2]  # one region, centred (extends past short edges)
        count = math.ceil((length - side) / step) + 1
        return [round(i * (length - side) / (count - 1)) for i in range(count)]

    return [Region(x, y, side, model, level) for y in starts(height) for x in starts(width)]


def non_max_suppression(detections: list[Detection], iou_threshold: float = 0.3) -> list[Detection]:
    """Keep the best detection of each face found by several overlapping regions.

    A face cut by a tile edge yields a smaller, shifted box, often with a
    high score: whole views go first, so it is the one suppressed.
    """
    kept: list[Detection] = []
    for det in sorted(detections, key=lambda d: (d.cut, -d.score, d.region_side)):
        suppressed = False
        for other in kept:
            inter = det.box.intersection_area(other.box)
            if inter <= 0:
                continue
            union = det.box.area + other.box.area - inter
            if inter / union > iou_threshold or inter / min(det.box.area, other.box.area) > 0.7:
                suppressed = True
                break
        if not suppressed:
            kept.append(det)
    return kept
