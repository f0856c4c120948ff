"""Frame-exact decoding: a fast sequential reader and a random-access reader.

Both speak frame indices from ``redaction.probe``'s ``Timebase`` and check
every decoded frame's timestamp against it: if the decoder ever disagrees with
the table (a damaged file, a decoder dropping a frame) the reader raises
``InputError`` instead of silently shifting every later frame by one.

Frames come out upright (the display rotation applied) as ``YuvFrame``
objects whose planes view the decoder's buffers, or as BGR/RGB arrays.

Why PyAV and not an ffmpeg pipe (``build/bench_decode.py``, this 2-core
machine, H.264 at 30 fps): PyAV decodes 720p at 280-500 frames/s and 1080p
at 150-270 (frame threads; busy or idle machine) against 260 and 100-140
for ``ffmpeg -f rawvideo -pix_fmt yuv420p`` read through a pipe, using 20-35%
less CPU, because nothing is copied through a pipe; and only PyAV gives each
frame's timestamp, which the check above needs. BGR for the detector is
converted from the YUV views with OpenCV, faster than either decoder's own
conversion.
"""

from __future__ import annotations

import bisect
import collections
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import av
import numpy as np

from .errors import InputError
from .probe import MediaInfo, frame_pts, open_container, probe
from .progress import CancelToken, ProgressCallback
from .yuv import YuvFrame

Output = Literal["yuv", "bgr", "rgb"]


def _as_info(source: Path | str | MediaInfo) -> MediaInfo:
    return source if isinstance(source, MediaInfo) else probe(source)


def upright(frame: av.VideoFrame, index: int, rotation: int) -> YuvFrame:
    """A decoded frame as YUV 4:2:0, turned for display (``rotation`` counter-clockwise)."""
    full_range = frame.color_range == 2 or frame.format.name.startswith("yuvj")
    if frame.format.name != "yuv420p" or full_range:
        # 10-bit, 4:2:2, 4:4:4 and full-range ("JPEG", yuvj) sources become limited-range
        # 8-bit 4:2:0, the only form the renderer and the release use.
        converted = frame.reformat(
            format="yuv420p", src_color_range="JPEG" if full_range else "MPEG", dst_color_range="MPEG"
        )
        converted.pts, converted.time_base = frame.pts, frame.time_base
        frame = converted
    yuv = YuvFrame.from_av(frame, index)
    if rotation == 0:
        return yuv
    k = rotation // 90
    width, height = (yuv.height, yuv.width) if k % 2 else (yuv.width, yuv.height)
    cw, ch = (width + 1) // 2, (height + 1) // 2
    out = YuvFrame.from_i420(np.empty(width * height + 2 * cw * ch, np.uint8), width, height)
    for dst, src in ((out.y, yuv.y), (out.u, yuv.u), (out.v, yuv.v)):
        dst[...] = np.rot90(src, k)
        dst.flags.writeable = False  # same contract as decoder views
    out.index, out.pts, out.time_base = index, yuv.pts, yuv.time_base
    return out


class _SyncMissed(Exception):
    """After a seek the decoder started past the wanted frame; seek further back."""


class _Stream:
    """One open decoder on the main video stream, positioned by frame index."""

    def __init__(self, info: MediaInfo, threads: int = 0, thread_type: str = "AUTO") -> None:
        self.info = info
        self.timebase = info.timebase
        self._threads, self._thread_type = threads, thread_type
        self._key_pts = [k.pts for k in info.keyframes]
        self.container: av.container.InputContainer | None = None
        self._open()

    def _open(self) -> None:
        if self.container is not None:
            self.container.close()
        self.container = open_container(self.info.path)
        self.stream = self.container.streams[self.info.video.index]
        self.stream.thread_type = self._thread_type
        self.stream.thread_count = self._threads
        self._fresh = True  # nothing read yet: positioned before frame 0

    def close(self) -> None:
        if self.container is not None:
            self.container.close()
            self.container = None

    def _mismatch(self, index: int, pts: int | None) -> InputError:
        expected = self.timebase.pts(index) if index < len(self.timebase) else None
        return InputError(
            f"{self.info.path} is damaged: frame {index} decoded with timestamp {pts}, expected {expected}."
        )

    def _position(self, index: int, attempt: int) -> None:
        """Seek so that decoding reaches frame ``index``; ``attempt`` steps back one more keyframe."""
        target = self.timebase.pts(index)
        k = bisect.bisect_right(self._key_pts, target) - 1 - attempt
        if index == 0 or k < 0:
            if not self._fresh:
                self._open()  # from the very start: always right, whatever the container's index says
            return
        self._fresh = False
        point = self.info.keyframes[k]
        # Seek by the keyframe's pts: demuxer indexes (MP4 after its edit-list shift, Matroska
        # cues, MPEG-TS) are in presentation time, and seeking by dts would land one GOP early.
        try:
            self.container.seek(point.pts, stream=self.stream, backward=True, any_frame=False)
        except av.FFmpegError:
            self._open()

    def frames(self, start: int = 0) -> Iterator[tuple[int, av.VideoFrame]]:
        """Verified (index, frame) pairs from ``start`` to the end."""
        count = len(self.timebase)
        if not 0 <= start < count:
            raise IndexError(f"Frame {start} is outside the video (0 to {count - 1}).")
        for attempt in range(4):
            self._position(start, attempt if attempt < 3 else 10**9)
            try:
                # Only the first attempt takes the shortcut of skipping unneeded pictures.
                yield from self._decode_from(start, skip_nonref=attempt == 0)
                return
            except _SyncMissed:
                continue
        raise InputError(f"{self.info.path} is damaged: frame {start} cannot be reached.")

    def _decoded(self, skip_before: list[int | None]) -> Iterator[av.VideoFrame]:
        """Decode packets in order; while ``skip_before[0]`` is set, pictures that are shown
        before that pts and that no other picture refers to are not decoded at all (a
        seek's pre-roll then costs about a third less)."""
        context = self.stream.codec_context
        try:
            for packet in self.container.demux(self.stream):
                limit = skip_before[0]
                if limit is not None:
                    skippable = packet.pts is not None and packet.pts < limit and not packet.is_keyframe
                    context.skip_frame = "NONREF" if skippable else "DEFAULT"
                yield from packet.decode()
        finally:
            context.skip_frame = "DEFAULT"

    def _decode_from(self, start: int, skip_nonref: bool = False) -> Iterator[tuple[int, av.VideoFrame]]:
        expected = self.timebase.pts(start)
        count = len(self.timebase)
        # With duplicate timestamps, sync on the first frame that carries this one.
        sync = bisect.bisect_left(self.timebase.pts_array, expected) if start > 0 else 0
        index: int | None = None
        self._fresh = False
        skip_before: list[int | None] = [expected if skip_nonref and start > 0 else None]
        try:
            for frame in self._decoded(skip_before):
                pts = frame_pts(frame)
                if index is None:
                    if pts is None:
                        raise self._mismatch(start, pts)
                    if pts < expected and start > 0:
                        continue  # pre-roll between the keyframe and the wanted frame
                    if pts > expected and start > 0:
                        raise _SyncMissed()
                    if pts != expected:
                        raise self._mismatch(start, pts)
                    index = sync
                    skip_before[0] = None
                else:
                    index += 1
                    if index >= count or pts != self.timebase.pts(index):
                        raise self._mismatch(index, pts)
                if index >= start:
                    yield index, frame
        except av.FFmpegError as error:
            at = start if index is None else index + 1
            raise InputError(f"{self.info.path} is damaged: decoding failed at frame {at}.") from error
        if index is None:
            raise _SyncMissed()
        if index != count - 1:
            raise InputError(
                f"{self.info.path} is damaged: only {index + 1} of its {count} frames could be decoded."
            )


def iter_frames(
    source: Path | str | MediaInfo,
    *,
    output: Output = "yuv",
    start: int = 0,
    end: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    threads: int = 0,
    thread_type: str = "AUTO",
) -> Iterator[tuple[int, YuvFrame | np.ndarray]]:
    """Yield ``(index, frame)`` for frames ``start`` to ``end`` (exclusive), in order.

    ``output``: ``"yuv"`` gives read-only ``YuvFrame`` views (cheapest; call
    ``writable()`` to draw), ``"bgr"``/``"rgb"`` give HxWx3 uint8 arrays.
    Memory stays constant; ``cancel`` is checked before every frame and
    ``progress(done, total)`` is called after the caller has handled each one.
    ``thread_type`` is PyAV's: "AUTO" (frame threads, fastest alone) or
    "SLICE" (least CPU, when something else, like an encoder, has the cores).
    """
    info = _as_info(source)
    stop = info.frame_count if end is None else min(end, info.frame_count)
    total = max(0, stop - start)
    if total == 0:
        return
    rotation = info.video.rotation
    decoder = _Stream(info, threads, thread_type)
    try:
        for index, frame in decoder.frames(start):
            if cancel is not None:
                cancel.raise_if_cancelled()
            yuv = upright(frame, index, rotation)
            if output == "yuv":
                yield index, yuv
            elif output == "bgr":
                yield index, yuv.to_bgr()
            else:
                yield index, yuv.to_rgb()
            if progress is not None:
                progress(index + 1 - start, total)
            if index + 1 >= stop:
                break
    finally:
        decoder.close()


class FrameReader:
    """Exact frames by index for a player: seek to a keyframe, decode forward, cache.

    ``read(i)`` returns the read-only ``YuvFrame`` of frame ``i``. Reading the
    next frame continues the running decoder (no seek); a jump seeks to the
    keyframe before the target unless decoding forward from where the reader
    is would be cheaper. The last ``cache_size`` frames decoded are kept (they
    hold decoder buffers, not copies), so stepping back a few frames is free,
    and stepping back past them costs one seek per keyframe interval.
    Safe to call from several threads (one lock).
    """

    def __init__(
        self,
        source: Path | str | MediaInfo,
        *,
        cache_size: int = 32,
        threads: int = 0,
        thread_type: str = "AUTO",
    ) -> None:
        self.info = _as_info(source)
        self.timebase = self.info.timebase
        self._stream = _Stream(self.info, threads, thread_type)
        self._cache: collections.OrderedDict[int, YuvFrame] = collections.OrderedDict()
        self._cache_size = max(1, cache_size)
        self._frames: Iterator[tuple[int, av.VideoFrame]] | None = None
        self._next = 0  # index the running decoder yields next
        tb = self.timebase
        self._key_index = sorted({_first_at_or_after(tb, k.pts) for k in self.info.keyframes})
        self._lock = threading.Lock()
        self.seeks = 0  # how many times read() had to seek (for tests and benchmarks)

    @property
    def frame_count(self) -> int:
        return self.info.frame_count

    def _keyframe_before(self, index: int) -> int:
        i = bisect.bisect_right(self._key_index, index) - 1
        return self._key_index[i] if i >= 0 else 0

    def read(self, index: int) -> YuvFrame:
        if not 0 <= index < self.frame_count:
            raise IndexError(f"Frame {index} is outside the video (0 to {self.frame_count - 1}).")
        with self._lock:
            cached = self._cache.get(index)
            if cached is not None:
                self._cache.move_to_end(index)
                return cached
            forward = index - self._next
            if self._frames is None or forward < 0 or forward > index - self._keyframe_before(index) + 2:
                # A step back from a frame in hand (reverse play, the left arrow held down)
                # will want the frames before it next: decode from the keyframe and keep
                # them all, one seek per keyframe interval instead of one per frame. A plain
                # jump skips the pictures before the target instead (faster, nothing kept).
                stepping_back = index + 1 in self._cache
                start = self._keyframe_before(index) if stepping_back else index
                self._frames = self._stream.frames(start)
                self._next = start
                self.seeks += 1
            return self._decode_until(index)

    def _decode_until(self, index: int) -> YuvFrame:
        assert self._frames is not None
        rotation = self.info.video.rotation
        keep_from = index - self._cache_size
        while True:
            try:
                i, frame = next(self._frames)
            except StopIteration:
                self._frames = None
                raise InputError(f"{self.info.path}: frame {index} could not be decoded.") from None
            except BaseException:
                self._frames = None
                raise
            self._next = i + 1
            if i < keep_from:
                continue  # passing through: not worth converting or caching
            yuv = upright(frame, i, rotation)
            self._cache[i] = yuv
            self._cache.move_to_end(i)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            if i == index:
                return yuv

    def read_rgb(self, index: int) -> np.ndarray:
        return self.read(index).to_rgb()

    def close(self) -> None:
        with self._lock:
            self._frames = None
            self._cache.clear()
            self._stream.close()

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _first_at_or_after(timebase, pts: int) -> int:
    arr = timebase.pts_array
    i = int(np.searchsorted(arr, pts, side="left"))
    return min(i, len(arr) - 1)
