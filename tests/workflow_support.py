"""Shared set-up for the ordinance-workflow tests: clips with a known muted
range or a dropped audio stream, a registry with cases, one user per role."""

from __future__ import annotations

import fractions
import os
import shutil
import tempfile
from pathlib import Path

import av
import numpy as np

from review import Case
from review.registry import Registry
from tests.review_support import USERS, ffmpeg, make_case, password

FPS = 30
INCIDENT = "2026-11-03T14:05:00-07:00"


def muted_clip(path: Path, seconds: float = 3.0, muted: tuple[float, float] = (1.0, 1.6)) -> Path:
    """H.264 + AAC, 160x120 at 30 fps, a tone whose sound is digitally silent during ``muted``."""
    a, b = muted
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=160x120:rate={FPS}",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-af", f"volume=enable='between(t,{a},{b})':volume=0", "-t", str(seconds),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", path,
    )
    return path


def demo_soundtrack_clip(path: Path) -> Path:
    """The demo recipe's own soundtrack (muted 5.0-6.2 s) under a small test picture: the real
    recipe without the cost of rendering its 960x540 walk."""
    from resources import demo_recipe

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "sound.wav"
        demo_recipe._soundtrack(wav, 8.0)
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=160x120:rate={FPS}", "-i", wav, "-t", "8",
               "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
               "-c:a", "aac", path)
    return path


def audio_ends_clip(path: Path, seconds: float = 3.0, audio_seconds: float = 1.5) -> Path:
    """The audio stream stops at ``audio_seconds`` while the picture goes on."""
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=160x120:rate={FPS}:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={audio_seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", path,
    )
    return path


def dropout_clip(path: Path, seconds: float = 3.0, gap: tuple[float, float] = (1.0, 1.8)) -> tuple[Path, float, float]:
    """Matroska with PCM audio whose packets stop for ``gap`` (a dropped stream, not silence).
    Returns the path and the exact gap, at audio-frame granularity."""
    rate, n = 48000, 1024
    out = av.open(str(path), "w")
    video = out.add_stream("libx264", rate=FPS)
    video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
    audio = out.add_stream("pcm_s16le", rate=rate)
    audio.layout = "mono"
    for i in range(int(seconds * FPS)):
        frame = av.VideoFrame.from_ndarray(np.full((120, 160, 3), i % 255, np.uint8), format="rgb24")
        frame.pts = i
        for packet in video.encode(frame):
            out.mux(packet)
    skipped = []
    for k in range(int(seconds * rate / n)):
        start = k * n
        if gap[0] * rate <= start < gap[1] * rate:
            skipped.append(start)
            continue
        x = (0.3 * np.sin(2 * np.pi * 440 * np.arange(start, start + n) / rate) * 32767).astype(np.int16)[None]
        frame = av.AudioFrame.from_ndarray(x, format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, start, fractions.Fraction(1, rate)
        for packet in audio.encode(frame):
            out.mux(packet)
    for stream in (video, audio):
        for packet in stream.encode():
            out.mux(packet)
    out.close()
    return path, skipped[0] / rate, (skipped[-1] + n) / rate


def unique_copy(clip: Path, target: Path) -> Path:
    shutil.copyfile(clip, target)
    with open(target, "ab") as handle:
        handle.write(os.urandom(64))
    return target


def make_registry(path: Path) -> Path:
    registry = Registry.create(path, title="Test department", admin="admin", password=password("admin"))
    for name, (role, pw) in USERS.items():
        if name != "admin":
            registry.add_user(name, role, pw)
    registry.close()
    return path


def open_registry(path: Path, name: str | None) -> Registry:
    registry = Registry.open(path)
    if name:
        registry.sign_in(name, password(name))
    return registry


def critical_case(path: Path) -> Case:
    """A critical-incident case (incident 2026-11-03 14:05 MST), signed in as the records officer."""
    make_case(path, "Critical incident")
    case = Case.open(path)
    case.sign_in("alice", password("alice"))
    case.set_incident("critical", INCIDENT)
    return case
