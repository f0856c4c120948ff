"""Recipe for the built-in demo clip: a body camera walking past four portraits.

Generated on first use (nothing is downloaded): public-domain portraits from
``resources/demo/`` are hung on a textured wall; a virtual camera pans across
it with a walker's shake and a zoom, so faces enter and leave the picture and
change size (one stays small, as a distant face would). The soundtrack has a
stretch of digital silence (a muted microphone), and the file carries the
kind of tags a camera writes (title, GPS and serial number in a comment,
creation time), which a release must not keep.
"""

from __future__ import annotations

import math
import subprocess
import tempfile
import wave
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np

PHOTOS = Path(__file__).with_name("demo")
# (file, target face width on the wall in px, vertical placement 0-1)
PORTRAITS = [
    ("obama.jpg", 150, 0.45),
    ("hopper.jpg", 120, 0.35),
    ("astronaut.jpg", 70, 0.55),
    ("biden.jpg", 34, 0.3),
]
FACE_WIDTH_IN_PHOTO = {"obama.jpg": 98, "hopper.jpg": 110, "astronaut.jpg": 69, "biden.jpg": 56}
MUTED = (5.0, 6.2)  # seconds of digital silence in the demo soundtrack
TAGS = {
    "title": "BWC 0042 patrol",
    "comment": "GPS 40.7608,-111.8910 serial BWC-0042 officer 7731",
    "location": "+40.7608-111.8910/",
    "creation_time": "2026-11-01T14:03:00Z",
}


def _wall(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    base = rng.uniform(70, 170, (max(2, height // 180), max(2, width // 180), 3)).astype(np.float32)
    wall = cv2.resize(base, (width, height), interpolation=cv2.INTER_CUBIC)
    for _ in range(width * height // 30000):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        colour = tuple(float(c) for c in rng.uniform(40, 220, 3))
        cv2.rectangle(
            wall, (x, y), (x + int(rng.integers(20, 200)), y + int(rng.integers(20, 200))), colour, 3
        )
    wall += rng.normal(0, 3, wall.shape).astype(np.float32)
    return np.clip(wall, 0, 255).astype(np.uint8)


def _canvas(height: int, rng: np.random.Generator) -> np.ndarray:
    gap = int(height * 0.45)
    scale = height / 810  # face sizes are given for a 540 px tall clip (a 810 px wall)
    scaled = []
    for name, face_width, _ in PORTRAITS:
        photo = cv2.imread(str(PHOTOS / name), cv2.IMREAD_COLOR)
        if photo is None:
            raise FileNotFoundError(f"Demo photo {name} is missing from {PHOTOS}.")
        f = face_width * scale / FACE_WIDTH_IN_PHOTO[name]
        scaled.append(
            cv2.resize(photo, None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
        )
    width = gap + sum(p.shape[1] + gap for p in scaled)
    wall = _wall(height, width, rng)
    x = gap
    for (_, _, place), photo in zip(PORTRAITS, scaled, strict=True):
        h, w = photo.shape[:2]
        y = int(np.clip(place * height - h / 2, 0, height - h))
        wall[y : y + h, x : x + w] = photo
        x += w + gap
    return wall


def _soundtrack(path: Path, seconds: float, rate: int = 48000) -> None:
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(5)
    speech = 0.2 * np.sin(2 * math.pi * 220 * t) * (
        0.5 + 0.5 * np.sin(2 * math.pi * 3 * t)
    ) + 0.03 * rng.standard_normal(len(t))
    start, end = (int(s * rate) for s in MUTED)
    speech[start:end] = 0.0  # digital silence: the microphone was muted
    pcm = (np.clip(speech, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())


def make_demo_clip(
    out: Path | str, *, width: int = 960, height: int = 540, fps: int = 30, seconds: float = 8.0
) -> Path:
    """Write the demo clip to ``out`` (MP4, H.264 + AAC, with camera-style tags)."""
    out = Path(out)
    rng = np.random.default_rng(42)
    canvas = _canvas(int(height * 1.5), rng)
    frames = int(round(seconds * fps))
    span = canvas.shape[1] - width / 0.9
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "sound.wav"
        _soundtrack(wav, seconds)
        tag_args = [arg for key, value in TAGS.items() for arg in ("-metadata", f"{key}={value}")]
        cmd = [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "bgr24",
            "-s",
            f"{width}x{height}",
            "-framerate",
            str(fps),
            "-i",
            "-",
            "-i",
            str(wav),
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "20",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "96k",
            *tag_args,
            str(out),
        ]
        encoder = subprocess.Popen(cmd, stdin=subprocess.PIPE)
        assert encoder.stdin is not None
        try:
            for i in range(frames):
                t = i / max(1, frames - 1)
                pan = 0.5 - 0.5 * math.cos(math.pi * t)  # ease in and out
                zoom = 0.9 + 0.35 * math.sin(math.pi * t)
                cx = width / (2 * zoom) + pan * span + 6 * math.sin(i * 0.9)
                cy = canvas.shape[0] / 2 + 5 * math.sin(i * 1.3)
                m = np.array([[zoom, 0, width / 2 - zoom * cx], [0, zoom, height / 2 - zoom * cy]])
                frame = cv2.warpAffine(
                    canvas, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
                )
                encoder.stdin.write(frame.tobytes())
        finally:
            encoder.stdin.close()
            if encoder.wait() != 0:
                raise RuntimeError("ffmpeg could not write the demo clip.")
    return out


if __name__ == "__main__":
    import sys

    print(make_demo_clip(sys.argv[1] if len(sys.argv) > 1 else "demo.mp4"))
