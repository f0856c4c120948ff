"""Encode frames into a release file: ffmpeg over a NUT pipe, nothing identifying kept.

``ReleaseWriter`` takes upright YUV frames in order (already burned) and
writes the release atomically; ``redaction.export`` drives it from the
decoder, and a one-pass pipeline (detect while exporting) or the window can
drive it directly::

    with ReleaseWriter(info, "release.mp4", plan=plan) as writer:
        for index, frame in iter_frames(info):
            writer.write(burn(frame, plan, index))
        writer.finish()            # optional: encode, check; the rename happens on exit

Pipeline. The caller decodes the original with PyAV and burns the plan into
the YUV planes of the frames that need it (others pass through untouched);
the writer sends them to the bundled ffmpeg as raw video inside a NUT stream
over a pipe, and ffmpeg encodes them with libx264 while it takes the audio
straight from the original. Decoding and rendering in this process overlap
with encoding in ffmpeg's.

Timestamps. Raw frames on a pipe carry no time, and ffmpeg would invent a
constant frame rate, which breaks variable-frame-rate footage. NUT carries
every frame's pts in the original stream's time base, ffmpeg is told not to
touch them (``-copyts``, ``-fps_mode passthrough``, ``-enc_time_base demux``)
and the MP4 track keeps the same clock (``-video_track_timescale``). The
result is re-probed: a different frame count or timestamp fails the export.

Size and rotation. Frames are encoded upright at the displayed size and the
rotation flag is dropped, so every player (and the scoring tool) sees the
same picture size as the original. H.264 4:2:0 cannot code an odd width or
height (its cropping works in 2-pixel steps), so odd-sized video is encoded
as H.264 4:4:4 (High 4:4:4 profile), which can; padding or scaling would
change the displayed size.

Metadata. Nothing is copied: no container or stream tags (title, comment,
location, serial, creation time), no chapters, no subtitles, data streams,
attachments or cover art; bit-exact mode drops the Lavf/Lavc version tags, the
stream's "encoder" name is blanked and the x264 settings banner (an SEI NAL
unit) is filtered out of the bitstream. Exactly one video stream and at most
one audio stream (the original's default track) are written.

Audio. Segments with ``audio="mute"`` become digital silence and ``"tone"``
a 1 kHz tone, sample-accurately, between the timestamps of their first frame
and the frame after their last (``aeval`` evaluates every sample's time).

Safety. Output goes to a temporary file beside the release and is renamed
only after ffmpeg finished and the result was checked, so an error, a full
disk, a cancel or a crash never leaves a file at the release path.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import ffmpeg

from . import ffmpeg_bin
from .errors import ExportError, InputError, RedactionError
from .fsutil import atomic_path, describe_os_error
from .plan import Plan
from .probe import MediaInfo, probe
from .yuv import YuvFrame

# superfast, not veryfast: at the same CRF (the quality setting) the picture is alike and
# the file ~1.6x larger, but x264 needs ~30% less CPU, which detection needs more: with it
# a one-pass redact of 720p30 bench footage ran at 50 frames/s against 38 (build/bench_cases.py).
DEFAULT_PRESET = "superfast"
DEFAULT_CRF = 23
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
TONE_HZ = 1000
TONE_LEVEL = 0.1  # -20 dBFS
# aeval runs per sample; outside these margins around each segment it is switched off
# (its on/off is decided per audio frame, so the margin must exceed any frame length).
_AUDIO_MARGIN_S = 10.0
_PIPE_BYTES = 1 << 20


def _segment_expr(info: MediaInfo, plan: Plan) -> tuple[str, str] | None:
    """(per-sample expression, frame-level enable expression) for the audio segments, or None."""
    tb = info.timebase
    spans = []
    for segment in plan.segments:
        if segment.audio is None:
            continue
        # A segment from frame 0 or to the end also covers audio before the first or after the last frame.
        start = -1e9 if segment.start <= 0 else tb.pts_seconds(segment.start)
        end = 1e9 if segment.end >= len(tb) else tb.pts_seconds(segment.end)
        spans.append((start, end, segment.audio))
    if not spans:
        return None
    expr = "val(ch)"
    # Mute is wrapped last so it wins where a mute and a tone overlap.
    for start, end, action in sorted(spans, key=lambda s: s[2] == "mute"):
        inner = "0" if action == "mute" else f"{TONE_LEVEL}*sin(2*PI*{TONE_HZ}*t)"
        expr = f"if(gte(t,{start:.9f})*lt(t,{end:.9f}),{inner},{expr})"
    enable = "+".join(
        f"between(t,{start - _AUDIO_MARGIN_S:.6f},{end + _AUDIO_MARGIN_S:.6f})" for start, end, _ in spans
    )
    return expr, enable


def encoder_settings(info: MediaInfo, preset: str, crf: float) -> dict[str, Any]:
    odd = info.width % 2 == 1 or info.height % 2 == 1
    return {
        "video_codec": "libx264",
        "preset": preset,
        "crf": crf,
        "pix_fmt": "yuv444p" if odd else "yuv420p",
        "audio_codec": "aac" if info.main_audio else None,
        "ffmpeg": ffmpeg_bin.ffmpeg_version(),
    }


def build_command(
    info: MediaInfo, plan: Plan, target: Path, video_fd: int, settings: dict[str, Any]
) -> list[str]:
    """The ffmpeg command line (via ffmpeg-python) that encodes the NUT on ``video_fd`` into ``target``."""
    video = ffmpeg.input(f"pipe:{video_fd}", f="nut")["v:0"]
    sar = info.video.sample_aspect_ratio
    if sar != 1:  # raw frames carry no pixel shape: restore it so anamorphic video is not squeezed
        video = video.filter("setsar", f"{sar.numerator}/{sar.denominator}")
    streams = [video]
    audio = info.main_audio
    if audio is not None:
        # -vn/-sn/-dn: the original is opened for its audio only; nothing else is demuxed.
        original = ffmpeg.input(str(info.path), vn=None, sn=None, dn=None)
        sound = original[str(audio.index)]
        segments = _segment_expr(info, plan)
        if segments is not None:
            expr, enable = segments
            sound = sound.filter("aeval", exprs=expr, c="same", enable=enable)
        streams.append(sound)
    tb = info.video.time_base
    options: dict[str, Any] = {
        "f": "mp4",
        "c:v": "libx264",
        "preset": settings["preset"],
        "crf": settings["crf"],
        "pix_fmt": settings["pix_fmt"],
        "fps_mode": "passthrough",
        "enc_time_base:v": "demux",
        "video_track_timescale": tb.denominator,
        "map_metadata": -1,
        "map_chapters": -1,
        "fflags": "+bitexact",
        "flags:v": "+bitexact",
        "metadata:s:v:0": "encoder=",
        "bsf:v": "filter_units=remove_types=6",
        "movflags": "+faststart",
    }
    if info.start_time > 0:
        # Like any player, start the release's clock at zero (MPEG-TS clocks start anywhere):
        # one constant shift for video and audio alike, so every frame keeps its time from
        # the start and its place against the sound. -copyts keeps everything else exact.
        options["output_ts_offset"] = f"{-float(info.start_time):.6f}"
    if settings["pix_fmt"] == "yuv444p":
        # 4:2:0 -> 4:4:4 by repeating chroma samples: an interpolating scaler would blend
        # the colour outside a box into its edge pixels.
        options["sws_flags"] = "neighbor"
    if audio is not None:
        options.update({"c:a": "aac", "flags:a": "+bitexact"})
    args = ffmpeg.output(*streams, str(target), **options).compile(cmd=ffmpeg_bin.ffmpeg_exe())
    # Global options go first: ffmpeg ignores options after the last output file.
    return [args[0], "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-copyts", *args[1:]]


def public_mode() -> int:
    """What a normally created file gets (0666 minus the umask), e.g. rw-r--r--."""
    # Read, not set-and-restore: os.umask is process-wide and the window has threads.
    mask = 0o022
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                mask = int(line.split()[1], 8)
    return 0o666 & ~mask


def _resolve_output(info: MediaInfo, out: Path) -> None:
    with contextlib.suppress(OSError):
        if out.exists() and out.samefile(info.path):
            raise ExportError(f"Refusing to write the release over the original {out}.")
    if not out.parent.is_dir():
        raise ExportError(f"The folder {out.parent} does not exist; could not write {out}.")


def _verify(info: MediaInfo, path: Path, out: Path) -> None:
    try:
        result = probe(path)
    except RedactionError as error:
        raise ExportError(f"The release {out} could not be read back; it was not kept.") from error
    if result.frame_count != info.frame_count:
        raise ExportError(
            f"The encoder produced {result.frame_count} frames instead of {info.frame_count}; nothing was kept."
        )
    # Every frame keeps its time; only a container clock that did not start at zero is
    # moved to zero (see build_command), by one constant, rounded to the track's ticks.
    mine, theirs = result.timebase, info.timebase
    shift = mine.pts(0) * mine.time_base - theirs.pts(0) * theirs.time_base
    allowed = -info.start_time if info.start_time > 0 else Fraction(0)
    if abs(shift - allowed) > mine.time_base:
        raise ExportError(f"The encoder moved the video by {float(shift):.6f} s; nothing was kept.")
    for i in range(len(theirs)):
        if mine.pts(i) * mine.time_base - theirs.pts(i) * theirs.time_base != shift:
            raise ExportError(f"The encoder changed the timestamp of frame {i}; nothing was kept.")
    kinds = result.kinds()
    if kinds.count("video") != 1 or kinds.count("audio") > 1 or len(kinds) > 2:
        raise ExportError(f"The release has unexpected streams ({', '.join(kinds)}); nothing was kept.")


class ReleaseWriter:
    """Write frames ``0..n-1`` of ``info`` (upright yuv420p ``YuvFrame``) into the release ``out``.

    The audio comes from the original, with ``plan``'s audio segments muted or
    toned. Each frame gets the original's timestamp for its index. Leaving the
    ``with`` block normally finishes the encode, checks the file (frame count,
    timestamps, streams) and renames it to ``out``; leaving it by an exception
    (including ``Cancelled``) stops ffmpeg and deletes the temporary file.
    """

    def __init__(
        self,
        info: MediaInfo,
        out: Path | str,
        *,
        plan: Plan | None = None,
        preset: str = DEFAULT_PRESET,
        crf: float = DEFAULT_CRF,
    ) -> None:
        if preset not in PRESETS:
            raise ExportError(f"Unknown encoder preset {preset!r}; use one of {', '.join(PRESETS)}.")
        if not 0 <= crf <= 51:
            raise ExportError(f"The quality value (crf) must be between 0 and 51, not {crf}.")
        self.info = info
        self.out = Path(out)
        _resolve_output(info, self.out)
        self.plan = plan if plan is not None else Plan(video=info.video_ref())
        self.settings = encoder_settings(info, preset, crf)
        self.frames_written = 0
        self.temp_path: Path | None = None
        self._stack: contextlib.ExitStack | None = None
        self._process: ffmpeg_bin.FfmpegProcess | None = None
        self._write_fd = -1
        self._muxer: Any = None
        self._stream: Any = None
        self._finished = False

    # -- lifecycle ----------------------------------------------------------------------------------------
    def __enter__(self) -> ReleaseWriter:
        self._stack = contextlib.ExitStack()
        try:
            self.temp_path = self._stack.enter_context(atomic_path(self.out))
            self._start()
        except BaseException as error:
            self._abort()
            self._stack.__exit__(type(error), error, error.__traceback__)
            if isinstance(error, OSError):
                raise ExportError(describe_os_error(error, self.out)) from error
            if type(error) is RedactionError:  # atomic_path's folder check
                raise ExportError(str(error)) from error
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._stack is not None
        if exc_type is None:
            try:
                self.finish()
            except BaseException as error:
                self._abort()
                self._stack.__exit__(type(error), error, error.__traceback__)
                raise
        else:
            self._abort()
        try:
            self._stack.__exit__(exc_type, exc, tb)  # renames on success, deletes on failure
        except OSError as error:
            raise ExportError(describe_os_error(error, self.out)) from error

    def _start(self) -> None:
        assert self.temp_path is not None
        read_fd, self._write_fd = os.pipe()
        with contextlib.suppress(OSError):  # a bigger pipe means fewer wake-ups per frame; optional
            fcntl.fcntl(self._write_fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        try:
            command = build_command(self.info, self.plan, self.temp_path, read_fd, self.settings)
            self._process = ffmpeg_bin.FfmpegProcess(command, pass_fds=(read_fd,))
        finally:
            os.close(read_fd)
        self._muxer = av.open(f"pipe:{self._write_fd}", "w", format="nut")
        video = self.info.video
        self._stream = self._muxer.add_stream("rawvideo", rate=round(video.nominal_fps) or 30)
        self._stream.width, self._stream.height, self._stream.pix_fmt = (
            self.info.width,
            self.info.height,
            "yuv420p",
        )
        self._stream.time_base = video.time_base
        self._stream.codec_context.time_base = video.time_base

    def _abort(self) -> None:
        """Stop everything without keeping anything (ffmpeg first, so no write can block)."""
        if self._process is not None:
            self._process.close()
        if self._muxer is not None:
            with contextlib.suppress(Exception):
                self._muxer.close()
            self._muxer = None
        self._close_fd()

    def _close_fd(self) -> None:
        if self._write_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._write_fd)
            self._write_fd = -1

    def _ffmpeg_failed(self, error: BaseException | None = None) -> ExportError:
        """ffmpeg stopped (disk full, unreadable audio...): its own words, as one sentence."""
        self._close_fd()
        assert self._process is not None
        with contextlib.suppress(Exception):
            self._process.wait(timeout=60)
        message = ffmpeg_bin.explain(self._process.stderr_text(), output=self.out, action="Export failed")
        return ExportError(message)

    # -- frames -------------------------------------------------------------------------------------------
    def write(self, frame: YuvFrame) -> None:
        """Encode the next frame (its index must be ``frames_written``)."""
        if self._muxer is None or self._finished:
            raise RuntimeError("ReleaseWriter.write() outside its with-block or after finish().")
        index = self.frames_written
        if frame.index not in (index, -1):
            raise ValueError(f"Frames must come in order: expected frame {index}, got {frame.index}.")
        if (frame.width, frame.height) != (self.info.width, self.info.height):
            raise InputError(
                f"{self.info.path}: the picture size changes at frame {index} "
                f"({frame.width}x{frame.height}); such recordings are not supported."
            )
        # Raw video needs no encoder: the I420 bytes are the packet (wrapped, not copied).
        packet = av.Packet(frame.i420())
        packet.stream = self._stream
        packet.time_base = self.info.video.time_base
        packet.pts = packet.dts = self.info.timebase.pts(index)
        packet.is_keyframe = True
        try:
            self._muxer.mux(packet)
        except (OSError, av.FFmpegError) as error:
            raise self._ffmpeg_failed(error) from error
        self.frames_written += 1

    def finish(self) -> Path:
        """Flush, wait for ffmpeg and check the result; return the (not yet renamed) temporary file."""
        if self._finished:
            assert self.temp_path is not None
            return self.temp_path
        if self.frames_written != self.info.frame_count:
            raise ExportError(
                f"Only {self.frames_written} of {self.info.frame_count} frames were written; nothing was kept."
            )
        try:
            self._muxer.close()
        except (OSError, av.FFmpegError) as error:
            raise self._ffmpeg_failed(error) from error
        self._muxer = None
        self._close_fd()
        assert self._process is not None and self.temp_path is not None
        try:
            code = self._process.wait(timeout=600)
        except Exception:
            self._process.kill()
            code = -9
        if code != 0:
            raise self._ffmpeg_failed()
        _verify(self.info, self.temp_path, self.out)
        os.chmod(self.temp_path, public_mode())  # the temporary file was private (0600); a release is not
        self._finished = True
        return self.temp_path
