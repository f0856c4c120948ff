"""Write a release: decode, burn the plan, re-encode, with nothing identifying left.

Pipeline. This process decodes the original with PyAV and burns the plan into
the YUV planes of the frames that need it (others pass through untouched);
frames travel to the bundled ffmpeg as raw video inside a NUT stream over a
pipe, and ffmpeg encodes them with libx264 while it takes the audio straight
from the original. Decoding and rendering here overlap with encoding there.

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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import ffmpeg

from . import ffmpeg_bin
from .decode import iter_frames
from .errors import Cancelled, ExportError, PlanError, RedactionError
from .fsutil import atomic_path, describe_os_error
from .hashing import sha256_file
from .plan import Plan, Style
from .probe import MediaInfo, probe
from .progress import CancelToken, ProgressCallback
from .render import burn

DEFAULT_PRESET = "veryfast"
DEFAULT_CRF = 23
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
TONE_HZ = 1000
TONE_LEVEL = 0.1  # -20 dBFS
# aeval runs per sample; outside these margins around each segment it is switched off
# (its on/off is decided per audio frame, so the margin must exceed any frame length).
_AUDIO_MARGIN_S = 10.0
_PIPE_BYTES = 1 << 20


@dataclass(frozen=True)
class ExportResult:
    path: Path
    frame_count: int
    width: int
    height: int
    has_audio: bool
    frames_burned: int  # frames with at least one box or a blackout
    encoder: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    source_sha256: str | None = None


def check_plan(info: MediaInfo, plan: Plan, source_sha256: str | None = None) -> str | None:
    """Raise ``PlanError`` unless ``plan`` was made for this video; return the source hash if computed."""
    ref = plan.video
    name = info.path.name
    if (ref.width, ref.height) != (info.width, info.height):
        raise PlanError(
            f"The plan is for a {ref.width}x{ref.height} video, but {name} is {info.width}x{info.height}."
        )
    if ref.frame_count != info.frame_count:
        raise PlanError(
            f"The plan is for a video of {ref.frame_count} frames, but {name} has {info.frame_count}."
        )
    if ref.sha256:
        source_sha256 = source_sha256 or sha256_file(info.path)
        if source_sha256.lower() != ref.sha256.lower():
            raise PlanError(f"The plan belongs to another recording: {name} does not match its SHA-256.")
    return source_sha256


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
    video = ffmpeg.input(f"pipe:{video_fd}", f="nut")
    streams = [video["v:0"]]
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


def _stream_frames(
    info: MediaInfo,
    plan: Plan,
    style: Style | None,
    write_fd: int,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> int:
    """Decode, burn and send every frame to ffmpeg as NUT; return how many frames were drawn on."""
    burned = 0
    with av.open(f"pipe:{write_fd}", "w", format="nut") as muxer:
        stream = muxer.add_stream("rawvideo", rate=round(info.video.nominal_fps) or 30)
        stream.width, stream.height, stream.pix_fmt = info.width, info.height, "yuv420p"
        stream.time_base = info.video.time_base
        stream.codec_context.time_base = info.video.time_base
        for index, frame in iter_frames(info, cancel=cancel):
            out = burn(frame, plan, index, style=style)
            if out is not frame:
                burned += 1
            for packet in stream.encode(out.to_av()):
                muxer.mux(packet)
            if progress is not None:
                progress(index + 1, info.frame_count)
        for packet in stream.encode(None):
            muxer.mux(packet)
    return burned


def _verify(info: MediaInfo, path: Path, out: Path) -> None:
    try:
        result = probe(path)
    except RedactionError as error:
        raise ExportError(f"The release {out} could not be read back; it was not kept.") from error
    if result.frame_count != info.frame_count:
        raise ExportError(
            f"The encoder produced {result.frame_count} frames instead of {info.frame_count}; nothing was kept."
        )
    mine, theirs = result.timebase, info.timebase
    for i in range(len(theirs)):
        if mine.pts(i) * mine.time_base != theirs.pts(i) * theirs.time_base:
            raise ExportError(f"The encoder changed the timestamp of frame {i}; nothing was kept.")
    kinds = result.kinds()
    if kinds.count("video") != 1 or kinds.count("audio") > 1 or len(kinds) > 2:
        raise ExportError(f"The release has unexpected streams ({', '.join(kinds)}); nothing was kept.")


def export_release(
    source: Path | str | MediaInfo,
    plan: Plan,
    out: Path | str,
    *,
    style: Style | None = None,
    preset: str = DEFAULT_PRESET,
    crf: float = DEFAULT_CRF,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    source_sha256: str | None = None,
    before_commit: Callable[[Path, ExportResult], None] | None = None,
) -> ExportResult:
    """Render ``plan`` onto ``source`` and write the release to ``out`` (MP4, H.264 + AAC).

    ``style`` overrides the plan's style. ``source_sha256`` avoids hashing the
    original again when the plan names its hash. ``before_commit(tmp, result)``
    runs on the finished, verified temporary file just before it is renamed to ``out`` (the
    release package uses it to hash the release and write the manifest); if it
    raises, nothing is left at ``out``. Raises ``PlanError`` for a plan made
    for another video, ``ExportError`` for encoding or disk problems and
    ``Cancelled`` when ``cancel`` is set.
    """
    started = time.perf_counter()
    if preset not in PRESETS:
        raise ExportError(f"Unknown encoder preset {preset!r}; use one of {', '.join(PRESETS)}.")
    if not 0 <= crf <= 51:
        raise ExportError(f"The quality value (crf) must be between 0 and 51, not {crf}.")
    info = source if isinstance(source, MediaInfo) else probe(source)
    source_sha256 = check_plan(info, plan, source_sha256)
    out = Path(out)
    _resolve_output(info, out)
    settings = encoder_settings(info, preset, crf)
    try:
        with atomic_path(out) as tmp:
            burned = _encode(info, plan, style, tmp, out, settings, progress, cancel)
            _verify(info, tmp, out)
            os.chmod(tmp, public_mode())  # the temporary file was private (0600); a release is not
            result = ExportResult(
                path=out,
                frame_count=info.frame_count,
                width=info.width,
                height=info.height,
                has_audio=info.main_audio is not None,
                frames_burned=burned,
                encoder=settings,
                seconds=time.perf_counter() - started,
                source_sha256=source_sha256,
            )
            if before_commit is not None:
                before_commit(tmp, result)
    except OSError as error:
        raise ExportError(describe_os_error(error, out)) from error
    except (ExportError, Cancelled, PlanError):
        raise
    except RedactionError as error:  # e.g. atomic_path's missing-folder error
        raise ExportError(str(error)) from error
    return result


def _encode(
    info: MediaInfo,
    plan: Plan,
    style: Style | None,
    tmp: Path,
    out: Path,
    settings: dict[str, Any],
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> int:
    read_fd, write_fd = os.pipe()
    with contextlib.suppress(OSError):  # a bigger pipe means fewer wake-ups per frame; optional
        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    try:
        process = ffmpeg_bin.FfmpegProcess(
            build_command(info, plan, tmp, read_fd, settings), pass_fds=(read_fd,)
        )
    finally:
        os.close(read_fd)
    with process:
        try:
            burned = _stream_frames(info, plan, style, write_fd, progress, cancel)
        except (OSError, av.FFmpegError) as error:
            # Our side of the pipe failed: almost always because ffmpeg stopped (disk full, bad audio...).
            with contextlib.suppress(OSError):
                os.close(write_fd)
            write_fd = -1
            _wait(process)
            raise ExportError(
                ffmpeg_bin.explain(process.stderr_text(), output=out, action="Export failed")
            ) from error
        finally:
            if write_fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(write_fd)
        if _wait(process) != 0:
            raise ExportError(ffmpeg_bin.explain(process.stderr_text(), output=out, action="Export failed"))
    return burned


def _wait(process: ffmpeg_bin.FfmpegProcess) -> int:
    try:
        return process.wait(timeout=600)
    except Exception:
        process.kill()
        return -9
