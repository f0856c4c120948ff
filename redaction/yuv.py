"""A decoded picture as YUV 4:2:0 planes, the engine's working frame format.

Decoders hand out ``YuvFrame`` objects whose planes are NumPy views straight
onto the decoder's buffers (no copy, no colour conversion). Those buffers are
shared with the decoder's reference pictures, so the views are read-only;
``writable()`` copies once when a frame must be drawn on (export only does it
for frames that have something to hide).

Colour: planes are 8-bit limited range ("TV range", Y 16-235); conversions to
and from BGR/RGB use OpenCV's BT.601 I420 formulas, the same ones for the
preview and the detector, so what the window shows is what export burns.
Odd widths and heights are allowed: chroma planes are ``ceil(w/2) x ceil(h/2)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import av
import cv2
import numpy as np

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), in display pixels


def chroma_size(width: int, height: int) -> tuple[int, int]:
    return (width + 1) // 2, (height + 1) // 2


def rgb_to_yuv(rgb: Sequence[int]) -> tuple[int, int, int]:
    """Limited-range BT.601 YUV of an RGB colour (the matrix OpenCV uses back)."""
    pixel = np.array([[[rgb[2], rgb[1], rgb[0]]] * 2] * 2, dtype=np.uint8)
    i420 = cv2.cvtColor(pixel, cv2.COLOR_BGR2YUV_I420).reshape(-1)
    return int(i420[0]), int(i420[4]), int(i420[5])


def _plane_view(plane: av.video.plane.VideoPlane, width: int, height: int, writable: bool) -> np.ndarray:
    view = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:height, :width]
    view.flags.writeable = writable
    return view


class YuvFrame:
    """One picture: ``y`` (h x w), ``u`` and ``v`` (ceil(h/2) x ceil(w/2)), uint8.

    ``index`` is the frame index in the video, ``pts`` its timestamp in the
    stream time base ``time_base`` (None for frames made from scratch).
    """

    __slots__ = ("y", "u", "v", "index", "pts", "time_base", "_av", "_packed")

    def __init__(
        self,
        y: np.ndarray,
        u: np.ndarray,
        v: np.ndarray,
        index: int = -1,
        pts: int | None = None,
        time_base: Fraction | None = None,
        _av: av.VideoFrame | None = None,
    ) -> None:
        cw, ch = chroma_size(y.shape[1], y.shape[0])
        if y.ndim != 2 or u.shape != (ch, cw) or v.shape != (ch, cw):
            raise ValueError(f"Plane shapes {y.shape}, {u.shape}, {v.shape} are not YUV 4:2:0.")
        self.y, self.u, self.v = y, u, v
        self.index, self.pts, self.time_base = index, pts, time_base
        self._av = _av  # the decoder frame the planes view, if any
        self._packed: np.ndarray | None = None  # one I420 buffer the planes view, if any

    # -- construction -------------------------------------------------------------------------------------
    @classmethod
    def from_av(cls, frame: av.VideoFrame, index: int = -1, *, writable: bool = False) -> YuvFrame:
        """Views onto a yuv420p PyAV frame (read-only unless ``writable``)."""
        if frame.format.name != "yuv420p":
            raise ValueError(f"Expected a yuv420p frame, got {frame.format.name}.")
        w, h = frame.width, frame.height
        cw, ch = chroma_size(w, h)
        y = _plane_view(frame.planes[0], w, h, writable)
        u = _plane_view(frame.planes[1], cw, ch, writable)
        v = _plane_view(frame.planes[2], cw, ch, writable)
        tb = Fraction(frame.time_base) if frame.time_base is not None else None
        return cls(y, u, v, index, frame.pts, tb, frame)

    @classmethod
    def blank(cls, width: int, height: int, rgb: Sequence[int] = (0, 0, 0)) -> YuvFrame:
        yv, uv, vv = rgb_to_yuv(rgb)
        cw, ch = chroma_size(width, height)
        return cls(
            np.full((height, width), yv, np.uint8),
            np.full((ch, cw), uv, np.uint8),
            np.full((ch, cw), vv, np.uint8),
        )

    @classmethod
    def from_bgr(cls, image: np.ndarray) -> YuvFrame:
        """Convert a BGR image (any size) with the same matrix ``to_bgr`` uses."""
        h, w = image.shape[:2]
        padded = image
        if w % 2 or h % 2:
            padded = cv2.copyMakeBorder(image, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)
        ph, pw = padded.shape[:2]
        flat = cv2.cvtColor(padded, cv2.COLOR_BGR2YUV_I420).reshape(-1)
        cw, ch = pw // 2, ph // 2
        y = flat[: ph * pw].reshape(ph, pw)[:h, :w]
        u = flat[ph * pw : ph * pw + ch * cw].reshape(ch, cw)
        v = flat[ph * pw + ch * cw :].reshape(ch, cw)
        return cls(np.ascontiguousarray(y), u.copy(), v.copy())

    @classmethod
    def from_rgb(cls, image: np.ndarray) -> YuvFrame:
        return cls.from_bgr(image[:, :, ::-1])

    # -- properties ---------------------------------------------------------------------------------------
    @property
    def width(self) -> int:
        return int(self.y.shape[1])

    @property
    def height(self) -> int:
        return int(self.y.shape[0])

    @property
    def is_writable(self) -> bool:
        return bool(self.y.flags.writeable and self.u.flags.writeable and self.v.flags.writeable)

    @classmethod
    def from_i420(cls, buffer: np.ndarray, width: int, height: int) -> YuvFrame:
        """Views onto one contiguous I420 buffer (Y, then U, then V; chroma rounded up)."""
        cw, ch = chroma_size(width, height)
        flat = buffer.reshape(-1)
        if flat.size != width * height + 2 * cw * ch:
            raise ValueError(f"An I420 buffer for {width}x{height} has {width * height + 2 * cw * ch} bytes.")
        y = flat[: width * height].reshape(height, width)
        u = flat[width * height : width * height + cw * ch].reshape(ch, cw)
        v = flat[width * height + cw * ch :].reshape(ch, cw)
        frame = cls(y, u, v)
        frame._packed = flat
        return frame

    def copy(self) -> YuvFrame:
        """An independent, writable copy in one contiguous I420 buffer (own memory)."""
        w, h = self.width, self.height
        cw, ch = chroma_size(w, h)
        out = YuvFrame.from_i420(np.empty(w * h + 2 * cw * ch, np.uint8), w, h)
        out.y[...], out.u[...], out.v[...] = self.y, self.u, self.v
        out.index, out.pts, out.time_base = self.index, self.pts, self.time_base
        return out

    def writable(self) -> YuvFrame:
        """This frame if it may be drawn on, else a writable copy (one copy, packed as I420,
        which is also the form the encoder takes, so it is not copied again)."""
        return self if self.is_writable else self.copy()

    def i420(self) -> np.ndarray:
        """The picture as one contiguous I420 byte array (the planes' own buffer when they have one)."""
        if self._packed is not None:
            return self._packed
        w, h = self.width, self.height
        cw, ch = chroma_size(w, h)
        buffer = np.empty(w * h + 2 * cw * ch, np.uint8)
        buffer[: w * h].reshape(h, w)[...] = self.y
        buffer[w * h : w * h + cw * ch].reshape(ch, cw)[...] = self.u
        buffer[w * h + cw * ch :].reshape(ch, cw)[...] = self.v
        return buffer

    def _new_av(self) -> av.VideoFrame:
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        for plane, src in zip(frame.planes, (self.y, self.u, self.v), strict=True):
            np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[: src.shape[0], : src.shape[1]] = src
        frame.pts = self.pts
        if self.time_base is not None:
            frame.time_base = self.time_base
        return frame

    # -- conversions --------------------------------------------------------------------------------------
    def to_av(self) -> av.VideoFrame:
        """A yuv420p PyAV frame with these pixels and timestamp (no copy when possible)."""
        if self._av is not None:  # planes are views onto it (only from_av sets it)
            return self._av
        return self._new_av()

    def to_bgr(self, rect: Rect | None = None) -> np.ndarray:
        """BGR pixels of the whole frame or of ``rect`` (x0, y0, x1, y1), converting only that part.

        Cheap for detector tiles: only the chroma-aligned crop is converted.
        """
        return self._convert(rect, cv2.COLOR_YUV2BGR_I420)

    def to_rgb(self, rect: Rect | None = None) -> np.ndarray:
        """RGB pixels of the whole frame or of ``rect``."""
        return self._convert(rect, cv2.COLOR_YUV2RGB_I420)

    def _convert(self, rect: Rect | None, code: int) -> np.ndarray:
        w, h = self.width, self.height
        x0, y0, x1, y1 = rect if rect is not None else (0, 0, w, h)
        x0, y0, x1, y1 = max(0, int(x0)), max(0, int(y0)), min(w, int(x1)), min(h, int(y1))
        if x1 <= x0 or y1 <= y0:
            return np.zeros((max(0, y1 - y0), max(0, x1 - x0), 3), np.uint8)
        # Chroma samples cover 2x2 pixels: convert an even-aligned block, then trim.
        ax0, ay0 = x0 & ~1, y0 & ~1
        ax1, ay1 = x1 + (x1 - ax0) % 2, y1 + (y1 - ay0) % 2
        aw, ah = ax1 - ax0, ay1 - ay0
        buf = np.empty(aw * ah * 3 // 2, np.uint8)
        luma = buf[: aw * ah].reshape(ah, aw)
        src = self.y[ay0:ay1, ax0:ax1]
        luma[: src.shape[0], : src.shape[1]] = src
        if src.shape[1] < aw:  # odd frame width: repeat the last column
            luma[:, src.shape[1] :] = luma[:, src.shape[1] - 1 : src.shape[1]]
        if src.shape[0] < ah:
            luma[src.shape[0] :, :] = luma[src.shape[0] - 1 : src.shape[0], :]
        cw, ch = aw // 2, ah // 2
        cx, cy = ax0 // 2, ay0 // 2
        buf[aw * ah : aw * ah + cw * ch].reshape(ch, cw)[...] = self.u[cy : cy + ch, cx : cx + cw]
        buf[aw * ah + cw * ch :].reshape(ch, cw)[...] = self.v[cy : cy + ch, cx : cx + cw]
        out = cv2.cvtColor(buf.reshape(ah * 3 // 2, aw), code)
        if (x0, y0, x1, y1) != (ax0, ay0, ax1, ay1):
            out = np.ascontiguousarray(out[y0 - ay0 : y1 - ay0, x0 - ax0 : x1 - ax0])
        return out

    def gray(self) -> np.ndarray:
        """The luma plane (read-only view for decoder frames)."""
        return self.y

    def __repr__(self) -> str:
        return f"YuvFrame(index={self.index}, {self.width}x{self.height}, pts={self.pts})"
