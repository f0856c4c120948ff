"""What is in a video file, and the per-frame timestamp table every step speaks.

``probe(path)`` reads a file with PyAV (imageio-ffmpeg has no ffprobe) and
returns a ``MediaInfo``: container, every stream (video, audio, subtitle, data,
attachment, cover art), the tags a release must not carry, and for the main
video stream its displayed size, rotation, frame rates and a ``Timebase``.

Time in the engine is an integer frame index. The ``Timebase`` maps index ->
presentation timestamp; it is built from the demuxed packets (display order =
sorted pts, without the packets an edit list hides), which is exactly what
the decoder outputs. ``redaction.decode`` checks every decoded frame against
it, so a disagreement is an error, never a silent one-frame shift.
"""

from __future__ import annotations

import bisect
import math
import os
import stat
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from .errors import InputError
from .plan import VideoRef

# Demuxers that read single images: a photo is not footage.
_IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "bmp_pipe", "gif", "webp_pipe", "tiff_pipe", "apng"}
_ROTATIONS = (0, 90, 180, 270)


def format_timecode(seconds: float) -> str:
    """``HH:MM:SS.mmm``, truncated to the millisecond so it never shows a later time."""
    ms = max(0, math.floor(seconds * 1000 + 1e-6))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


class Timebase:
    """Frame index <-> time for one video stream.

    ``pts`` are the frames' presentation timestamps in ``time_base`` units, in
    display order; ``end_pts`` is when the last frame stops being shown.
    ``seconds(i)`` is measured from the first frame (what a player shows);
    ``pts_seconds(i)`` is the container's absolute time (what filters see).
    """

    def __init__(self, pts: Any, time_base: Fraction, end_pts: int | None = None) -> None:
        self._pts = np.asarray(pts, dtype=np.int64)
        if self._pts.ndim != 1 or len(self._pts) == 0:
            raise ValueError("A timebase needs at least one frame.")
        self.time_base = Fraction(time_base)
        steps = np.diff(self._pts)
        typical = int(np.median(steps)) if len(steps) else max(1, round(1 / (30 * self.time_base)))
        if end_pts is None or end_pts <= int(self._pts[-1]):
            end_pts = int(self._pts[-1]) + max(1, typical)
        self.end_pts = int(end_pts)
        self._list = self._pts.tolist()

    def __len__(self) -> int:
        return len(self._list)

    @property
    def frame_count(self) -> int:
        return len(self._list)

    @property
    def pts_array(self) -> np.ndarray:
        view = self._pts.view()
        view.flags.writeable = False
        return view

    def pts(self, index: int) -> int:
        """Timestamp of frame ``index`` (``index == frame_count`` gives the end)."""
        if index == len(self._list):
            return self.end_pts
        return self._list[index]

    def pts_seconds(self, index: int) -> float:
        return float(self.pts(index) * self.time_base)

    def seconds(self, index: int) -> float:
        return float((self.pts(index) - self._list[0]) * self.time_base)

    @property
    def duration(self) -> float:
        return float((self.end_pts - self._list[0]) * self.time_base)

    def frame_duration(self, index: int) -> float:
        return float((self.pts(index + 1) - self.pts(index)) * self.time_base)

    @property
    def average_fps(self) -> float:
        return len(self._list) / self.duration if self.duration > 0 else 0.0

    @property
    def is_variable(self) -> bool:
        """True when frame durations really differ, not just by timestamp rounding."""
        if len(self._list) < 3:
            return False
        steps = np.diff(self._pts).astype(np.float64)
        mean = (self._list[-1] - self._list[0]) / (len(self._list) - 1)
        return bool(np.max(np.abs(steps - mean)) > 1.0 + 0.001 * mean)

    def index_of_pts(self, pts: int) -> int | None:
        i = bisect.bisect_left(self._list, pts)
        return i if i < len(self._list) and self._list[i] == pts else None

    def frame_at(self, seconds: float) -> int:
        """The frame on screen ``seconds`` after the first frame (clamped to the video)."""
        target = self._list[0] + seconds / self.time_base
        i = bisect.bisect_right(self._list, target + 1e-9) - 1
        return min(max(i, 0), len(self._list) - 1)

    def nearest_frame(self, seconds: float) -> int:
        """The frame whose start time is closest to ``seconds`` (ties go to the earlier one)."""
        target = self._list[0] + seconds / self.time_base
        i = bisect.bisect_left(self._list, target)
        if i <= 0:
            return 0
        if i >= len(self._list):
            return len(self._list) - 1
        return i if self._list[i] - target < target - self._list[i - 1] else i - 1

    def timecode(self, index: int) -> str:
        """``HH:MM:SS.mmm`` of frame ``index`` from the start of the video."""
        return format_timecode(self.seconds(index))

    def label(self, index: int) -> str:
        """``HH:MM:SS.mmm / frame N`` for status bars and logs."""
        return f"{self.timecode(index)} / frame {index}"


@dataclass(frozen=True)
class StreamInfo:
    index: int
    kind: str  # video, audio, subtitle, data, attachment, cover_art
    codec: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AudioInfo:
    index: int
    codec: str
    sample_rate: int
    channels: int
    layout: str
    default: bool
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VideoInfo:
    index: int
    codec: str
    width: int  # displayed, after rotation
    height: int
    coded_width: int
    coded_height: int
    rotation: int  # counter-clockwise degrees applied for display: 0, 90, 180 or 270
    pix_fmt: str
    nominal_fps: float
    average_fps: float
    variable_frame_rate: bool
    time_base: Fraction
    frame_count: int
    duration: float
    tags: dict[str, str] = field(default_factory=dict)
    sample_aspect_ratio: Fraction = Fraction(1)  # of the displayed (upright) picture
    full_range: bool = False  # decoded as full range; the engine converts it to limited range


@dataclass(frozen=True)
class SeekPoint:
    """A decodable starting point: seek to ``dts`` (or ``pts``) to show frames from ``pts`` on."""

    pts: int
    dts: int | None


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    container: str
    size_bytes: int
    duration: float
    streams: tuple[StreamInfo, ...]
    video: VideoInfo
    audio: tuple[AudioInfo, ...]
    tags: dict[str, str]
    chapters: int
    timebase: Timebase = field(repr=False)
    keyframes: tuple[SeekPoint, ...] = field(repr=False, default=())
    # When the container's clock starts (seconds). MP4 and MKV start at 0; MPEG-TS
    # recordings often start at an arbitrary clock value such as 1.4 s.
    start_time: Fraction = Fraction(0)

    @property
    def width(self) -> int:
        return self.video.width

    @property
    def height(self) -> int:
        return self.video.height

    @property
    def frame_count(self) -> int:
        return self.video.frame_count

    @property
    def fps(self) -> float:
        return self.video.average_fps

    @property
    def main_audio(self) -> AudioInfo | None:
        """The audio track a release keeps: the default one, else the first."""
        for track in self.audio:
            if track.default:
                return track
        return self.audio[0] if self.audio else None

    def kinds(self) -> list[str]:
        return [s.kind for s in self.streams]

    def video_ref(self, sha256: str | None = None) -> VideoRef:
        """The plan header that ties a plan to this video."""
        return VideoRef(self.width, self.height, self.frame_count, self.fps, sha256, self.path.name)


def check_readable_file(path: Path) -> None:
    """InputError naming ``path`` unless it is a non-empty readable regular file."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file.") from None
    except PermissionError:
        raise InputError(f"{path} cannot be opened (permission denied).") from None
    except OSError as error:
        raise InputError(f"{path} cannot be opened ({error.strerror or error}).") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path} is a folder, not a video file.")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path} is not a regular file.")
    if st.st_size == 0:
        raise InputError(f"{path} is empty (0 bytes), not a video.")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path} cannot be read (permission denied).")


def _looks_like_text(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(512)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\r\n\t" for c in text)


def open_container(path: Path) -> av.container.InputContainer:
    """Open with PyAV, turning its errors into one sentence about ``path``."""
    check_readable_file(path)
    try:
        return av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as error:
        if _looks_like_text(path):
            raise InputError(f"{path} is a text file, not a video.") from error
        raise InputError(
            f"{path} is not a readable video: it is damaged, incomplete, or not a video at all."
        ) from error


def _kind(stream: av.stream.Stream) -> str:
    if stream.type == "video" and stream.disposition & av.stream.Disposition.attached_pic:
        return "cover_art"
    return stream.type


def _codec_name(stream: av.stream.Stream) -> str:
    context = stream.codec_context
    if context is not None:
        return str(context.name)
    return "none"


def _main_video(container: av.container.InputContainer, path: Path) -> av.video.stream.VideoStream:
    candidates = [s for s in container.streams.video if _kind(s) == "video"]
    if not candidates:
        if container.streams.video:
            raise InputError(f"{path} has no video, only a cover picture.")
        raise InputError(f"{path} has no video stream.")
    for stream in candidates:
        if stream.disposition & av.stream.Disposition.default:
            return stream
    return candidates[0]


def frame_pts(frame: av.VideoFrame) -> int | None:
    """A decoded frame's timestamp; the table and the decoder both use this one rule."""
    return frame.pts if frame.pts is not None else frame.dts


def _scan_packets(container: av.container.InputContainer, stream: av.video.stream.VideoStream, path: Path):
    """Display timestamps of the frames the decoder will output, from packets alone."""
    shown: list[int] = []
    keyframes: list[SeekPoint] = []
    total = 0
    missing_pts = False
    last_duration = 0
    try:
        for packet in container.demux(stream):
            if packet.size == 0 and packet.pts is None and packet.dts is None:
                continue  # the demuxer's end-of-stream marker
            total += 1
            if packet.pts is None:
                missing_pts = True
                continue
            if packet.is_keyframe:
                keyframes.append(SeekPoint(packet.pts, packet.dts))
            if packet.is_discard:  # hidden by an edit list: decoded as a reference, never shown
                continue
            shown.append(packet.pts)
            if packet.duration:
                last_duration = packet.duration
    except av.FFmpegError as error:
        raise InputError(f"{path} is damaged: reading stopped after {total} video frames.") from error
    declared = stream.frames or 0
    if declared and total < declared:
        raise InputError(
            f"{path} is incomplete or damaged: only {total} of its {declared} video frames are in the file."
        )
    shown.sort()
    keyframes.sort(key=lambda k: k.pts)
    return shown, keyframes, missing_pts, last_duration


def _scan_decoded(path: Path, stream_index: int) -> tuple[list[int], list[SeekPoint]]:
    """Fallback for files whose packets lack timestamps: decode everything once."""
    shown: list[int] = []
    keyframes: list[SeekPoint] = []
    with open_container(path) as container:
        stream = container.streams[stream_index]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                pts = frame_pts(frame)
                if pts is None:
                    raise InputError(
                        f"{path} is a bare video stream without timestamps; "
                        "use the recording as exported by the camera system (MP4 or MOV)."
                    )
                shown.append(pts)
                if frame.key_frame:
                    keyframes.append(SeekPoint(pts, None))
        except av.FFmpegError as error:
            raise InputError(f"{path} is damaged: decoding stopped after {len(shown)} frames.") from error
    return shown, keyframes


def _first_frame(path: Path, stream_index: int) -> av.VideoFrame:
    with open_container(path) as container:
        stream = container.streams[stream_index]
        try:
            for frame in container.decode(stream):
                return frame
        except av.FFmpegError as error:
            codec = _codec_name(stream)
            raise InputError(f"{path}: its video ({codec}) cannot be decoded.") from error
    raise InputError(f"{path} contains no video frames that can be decoded.")


def _rotation(frame: av.VideoFrame, path: Path) -> int:
    raw = frame.rotation or 0
    degrees = int(round(raw)) % 360
    if degrees not in _ROTATIONS:
        raise InputError(f"{path} asks for a {raw:g} degree rotation; only quarter turns are supported.")
    return degrees


def _rate(value: Any) -> float:
    return float(value) if value else 0.0


def probe(path: Path | str) -> MediaInfo:
    """Inspect ``path``; raise ``InputError`` (one sentence naming the file) if it is not usable video."""
    path = Path(path)
    with open_container(path) as container:
        if container.format.name in _IMAGE_FORMATS:
            raise InputError(f"{path} is a still image, not a video.")
        video = _main_video(container, path)
        streams = tuple(
            StreamInfo(s.index, _kind(s), _codec_name(s), dict(s.metadata)) for s in container.streams
        )
        audio = tuple(
            AudioInfo(
                s.index,
                _codec_name(s),
                int(s.codec_context.sample_rate or 0),
                int(s.codec_context.channels or 0),
                str(s.codec_context.layout.name) if s.codec_context.layout else "",
                bool(s.disposition & av.stream.Disposition.default),
                dict(s.metadata),
            )
            for s in container.streams.audio
        )
        tags = dict(container.metadata)
        chapters = len(container.chapters())
        container_name = container.format.name
        container_duration = container.duration / av.time_base if container.duration else 0.0
        start_time = Fraction(container.start_time or 0, av.time_base)
        v_index, v_codec, v_tags = video.index, _codec_name(video), dict(video.metadata)
        time_base = Fraction(video.time_base) if video.time_base else Fraction(1, 90000)
        nominal = _rate(video.guessed_rate or video.base_rate)
        sar = video.sample_aspect_ratio or video.codec_context.sample_aspect_ratio
        sar = Fraction(sar) if sar and sar > 0 else Fraction(1)
        shown, keyframes, missing_pts, last_duration = _scan_packets(container, video, path)

    first = _first_frame(path, v_index)
    if missing_pts or not shown or frame_pts(first) != shown[0]:
        # Timestamps only the decoder can tell (raw streams, odd muxers): ask it.
        shown, keyframes = _scan_decoded(path, v_index)
        last_duration = 0
    if not shown:
        raise InputError(f"{path} contains no video frames.")
    if not keyframes:
        keyframes = [SeekPoint(shown[0], None)]
    timebase = Timebase(shown, time_base, shown[-1] + last_duration if last_duration else None)
    rotation = _rotation(first, path)
    coded_w, coded_h = first.width, first.height
    width, height = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)
    info = VideoInfo(
        index=v_index,
        codec=v_codec,
        width=width,
        height=height,
        coded_width=coded_w,
        coded_height=coded_h,
        rotation=rotation,
        pix_fmt=first.format.name,
        nominal_fps=nominal or timebase.average_fps,
        average_fps=timebase.average_fps,
        variable_frame_rate=timebase.is_variable,
        time_base=time_base,
        frame_count=len(timebase),
        duration=timebase.duration,
        tags=v_tags,
        sample_aspect_ratio=1 / sar if rotation in (90, 270) else sar,
        full_range=first.color_range == 2 or first.format.name.startswith("yuvj"),
    )
    return MediaInfo(
        path=path,
        container=container_name,
        size_bytes=path.stat().st_size,
        duration=container_duration or timebase.duration,
        streams=streams,
        video=info,
        audio=audio,
        tags=tags,
        chapters=chapters,
        start_time=start_time,
        timebase=timebase,
        keyframes=tuple(keyframes),
    )
