"""Small synthetic clips for the media tests, made with the bundled ffmpeg.

Every generator writes a real file with ffmpeg so the tests exercise the same
demuxers and decoders as real footage: audio, odd sizes, rotation metadata,
variable frame rate, edit lists (stream-copy cuts), extra streams (subtitles,
timecode data, cover art, attachments, chapters) and identifying tags.
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from redaction.ffmpeg_bin import ffmpeg_exe

# Tags a body camera or an export tool may leave behind; none may reach a release.
SECRET_TAGS = {
    "title": "Unit 12 body camera - Officer Smith",
    "comment": "serial=BWC-SN-0042 gps=40.7128,-74.0060",
    "location": "+40.7128-074.0060/",
    "artist": "Officer J. Smith #4471",
    "description": "Incident 2026-11-01 123 Main St",
}
SECRET_WORDS = ("Smith", "BWC-SN-0042", "40.7128", "Main St", "4471")


def ffmpeg(*args: str | Path) -> None:
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {' '.join(cmd)}\n{result.stderr}")


def make_clip(
    path: Path,
    *,
    size: tuple[int, int] = (320, 240),
    seconds: float = 2.0,
    fps: int = 30,
    audio: bool = True,
    audio_freq: int = 440,
    pix_fmt: str = "yuv420p",
    codec: str = "libx264",
    gop: int | None = None,
    vfr: bool = False,
    extra: tuple[str, ...] = (),
    noise: int = 0,
) -> Path:
    """A moving test pattern with a sine tone; ``vfr`` makes frame durations irregular."""
    w, h = size
    # testsrc2 only makes even sizes; scale up to odd ones.
    args: list[str | Path] = ["-f", "lavfi", "-i", f"testsrc2=size={w + w % 2}x{h + h % 2}:rate={fps}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency={audio_freq}:sample_rate=48000"]
    args += ["-t", str(seconds)]
    filters = [f"scale={w}:{h},setsar=1"] if w % 2 or h % 2 else []
    if noise:
        filters.append(f"noise=alls={noise}:allf=t")  # fine texture everywhere, like sensor noise
    if vfr:
        # Durations 1/40 s within groups of three, plus 1/60 s every third frame,
        # on a 1/90000 clock: truly irregular, not a constant rate rounded.
        filters.append("settb=1/90000,setpts=(N/40+floor(N/3)/60)/TB")
        args += ["-fps_mode", "passthrough", "-enc_time_base:v", "1:90000"]
    if filters:
        args += ["-vf", ",".join(filters)]
    args += ["-c:v", codec, "-pix_fmt", pix_fmt]
    if codec == "libx264":
        args += ["-preset", "ultrafast" if not vfr else "veryfast", "-crf", "18"]
        if not vfr:
            args += ["-bf", "2"]  # B-frames: decode order differs from display order
    if gop:
        args += ["-g", str(gop)]
    if audio:
        args += ["-c:a", "aac", "-shortest"]
    args += [*extra, path]
    ffmpeg(*args)
    return path


def with_rotation(src: Path, dst: Path, degrees: int) -> Path:
    """Same bitstream, plus a display matrix asking players to rotate (counter-clockwise)."""
    ffmpeg("-display_rotation", str(degrees), "-i", src, "-c", "copy", dst)
    return dst


def stream_copy_cut(src: Path, dst: Path, start: float) -> Path:
    """A stream-copy cut: the hidden pre-roll frames stay in the file behind an edit list."""
    ffmpeg("-ss", str(start), "-i", src, "-c", "copy", dst)
    return dst


def with_extras(src: Path, dst: Path, work: Path) -> Path:
    """An MP4 with subtitles, a timecode data track, cover art, chapters and identifying tags."""
    srt = work / "subs.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nOfficer Smith speaking\n\n", encoding="utf-8")
    chapters = work / "chapters.txt"
    chapters.write_text(
        ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=500\ntitle=Arrival at 123 Main St\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=500\nEND=1000\ntitle=Interview\n",
        encoding="utf-8",
    )
    cover = work / "cover.jpg"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:size=64x64", "-frames:v", "1", cover)
    tags: list[str] = []
    for key, value in SECRET_TAGS.items():
        tags += ["-metadata", f"{key}={value}"]
    tags += ["-metadata", "creation_time=2026-11-01T10:00:00Z"]
    tags += [
        "-metadata:s:v:0",
        "title=BWC-SN-0042 front camera",
        "-metadata:s:a:0",
        "title=Officer Smith mic",
    ]
    ffmpeg(
        "-i", src, "-i", srt, "-i", cover, "-i", chapters,
        "-map", "0:v", "-map", "0:a", "-map", "1", "-map", "2",
        "-map_chapters", "3",
        "-c:v:0", "copy", "-c:a", "copy", "-c:s", "mov_text", "-c:v:1", "mjpeg",
        "-disposition:v:1", "attached_pic",
        "-timecode", "01:02:03:04",
        *tags, dst,
    )  # fmt: skip
    return dst


def mkv_with_attachment(src: Path, dst: Path, work: Path) -> Path:
    """A Matroska file (1/1000 time base) with subtitles, an attachment and free-form tags."""
    srt = work / "subs_mkv.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nBWC-SN-0042\n\n", encoding="utf-8")
    note = work / "officer-notes.txt"
    note.write_text("Officer Smith #4471 notes\n", encoding="utf-8")
    cover = work / "cover_mkv.jpg"
    ffmpeg("-f", "lavfi", "-i", "color=c=blue:size=64x64", "-frames:v", "1", cover)
    ffmpeg(
        "-i", src, "-i", srt, "-map", "0", "-map", "1", "-c", "copy", "-c:s", "srt",
        "-attach", note, "-metadata:s:t:0", "mimetype=text/plain",
        "-attach", cover, "-metadata:s:t:1", "mimetype=image/jpeg",
        "-metadata", "title=Unit 12 body camera - Officer Smith", "-metadata", "SERIAL=BWC-SN-0042",
        "-metadata:s:v:0", "comment=gps 40.7128,-74.0060", dst,
    )  # fmt: skip
    return dst


def decode_gray(path: Path) -> np.ndarray:
    """All frames' luma as the score tool sees them: ffmpeg CLI, autorotated, by index."""
    info = video_size(path)
    cmd = [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(path), "-map", "0:v:0"]
    cmd += ["-f", "rawvideo", "-pix_fmt", "gray", "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    w, h = info
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w)


def decode_yuv(path: Path) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """All frames as (Y, U, V) planes, decoded by the ffmpeg CLI."""
    w, h = video_size(path)
    cmd = [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(path), "-map", "0:v:0"]
    # Nearest-neighbour chroma for 4:4:4 sources, so a test sees each chroma sample as it is stored.
    cmd += ["-sws_flags", "neighbor", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"]
    raw = np.frombuffer(subprocess.run(cmd, capture_output=True, check=True).stdout, np.uint8)
    cw, ch = (w + 1) // 2, (h + 1) // 2
    size = w * h + 2 * cw * ch
    out = []
    for i in range(len(raw) // size):
        frame = raw[i * size : (i + 1) * size]
        y = frame[: w * h].reshape(h, w)
        u = frame[w * h : w * h + cw * ch].reshape(ch, cw)
        v = frame[w * h + cw * ch :].reshape(ch, cw)
        out.append((y, u, v))
    return out


def video_size(path: Path) -> tuple[int, int]:
    """Displayed size (after rotation), from an ffmpeg CLI decode of the first frame."""
    cmd = [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(path), "-map", "0:v:0", "-frames:v", "1"]
    cmd += ["-f", "image2pipe", "-c:v", "ppm", "-"]
    ppm = subprocess.run(cmd, capture_output=True, check=True).stdout
    _magic, w, h = ppm.split(maxsplit=3)[:3]
    return int(w), int(h)


def decode_audio(path: Path, rate: int = 48000) -> np.ndarray:
    """The first audio stream as mono float32 PCM, with its timing kept (starts at t=0)."""
    cmd = [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(path), "-map", "0:a:0"]
    cmd += ["-ac", "1", "-ar", str(rate), "-f", "f32le", "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.float32)


def frame_times(path: Path) -> list[Fraction]:
    """Presentation time of every decoded video frame, in seconds (exact fractions)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [Fraction(f.pts) * stream.time_base for f in container.decode(stream)]


def stream_types(path: Path) -> list[str]:
    with av.open(str(path)) as container:
        return [s.type for s in container.streams]


_CACHE: dict[str, Path] = {}
_CACHE_DIR: list[Path] = []


def cached(name: str, build: Callable[[Path, Path], Path]) -> Path:
    """A clip built once per test session (``build(path, work_dir)``); tests must not modify it."""
    if name not in _CACHE:
        if not _CACHE_DIR:
            folder = Path(tempfile.mkdtemp(prefix="bwc-test-media-"))
            atexit.register(shutil.rmtree, folder, True)
            _CACHE_DIR.append(folder)
        work = _CACHE_DIR[0] / f"{name}.work"
        work.mkdir(exist_ok=True)
        _CACHE[name] = build(_CACHE_DIR[0] / name, work)
    return _CACHE[name]


# The standard clips the media tests share (small: 2-3 s, 320x240 or less).
def base_clip() -> Path:
    return cached("base.mp4", lambda p, w: make_clip(p, gop=20))


def vfr_clip() -> Path:
    return cached("vfr.mp4", lambda p, w: make_clip(p, vfr=True, seconds=2.5, gop=25))


def odd_clip() -> Path:
    return cached("odd.mp4", lambda p, w: make_clip(p, size=(161, 121), pix_fmt="yuv444p", seconds=1.5))


def rotated_clip(degrees: int = 90) -> Path:
    return cached(f"rot{degrees}.mp4", lambda p, w: with_rotation(base_clip(), p, degrees))


def cut_clip() -> Path:
    return cached("cut.mp4", lambda p, w: stream_copy_cut(base_clip(), p, 0.5))


def extras_clip() -> Path:
    return cached("extras.mp4", lambda p, w: with_extras(base_clip(), p, w))


def mkv_clip() -> Path:
    return cached("attach.mkv", lambda p, w: mkv_with_attachment(base_clip(), p, w))


def silent_clip() -> Path:
    return cached("silent.mp4", lambda p, w: make_clip(p, audio=False, seconds=1.0, size=(160, 120)))


def noisy_clip() -> Path:
    return cached("noisy.mp4", lambda p, w: make_clip(p, audio=False, seconds=1.0, noise=60))


def full_range_clip() -> Path:
    """Full-range ("JPEG" levels) H.264, as some cameras record: black is Y=0, not 16."""
    return cached(
        "fullrange.mp4",
        lambda p, w: make_clip(p, audio=False, seconds=0.5, pix_fmt="yuvj420p", extra=("-color_range", "pc")),
    )


def anamorphic_clip() -> Path:
    """Non-square pixels (sample aspect ratio 4:3)."""
    return cached(
        "anamorphic.mp4", lambda p, w: make_clip(p, audio=False, seconds=0.5, extra=("-vf", "setsar=4/3"))
    )


def ts_clip() -> Path:
    """MPEG-TS, whose clock starts at about 1.4 s, not 0."""
    return cached("clock.ts", lambda p, w: (ffmpeg("-i", base_clip(), "-c", "copy", p), p)[1])
