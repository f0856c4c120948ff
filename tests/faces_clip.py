"""Small clips with real faces at known places, for detection and redaction tests.

A demo portrait (public domain, ``resources/demo``) is pasted onto a textured
background and moved along a straight line; the face box on every frame is
known exactly, as in the bench kit's truth files, so a test can check that a
release hides it on every frame.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np

DEMO = Path(__file__).resolve().parent.parent / "resources" / "demo"
# Face boxes (x, y, w, h) in the demo photos, forehead to chin and ear to ear.
FACE_IN_PHOTO = {"obama.jpg": (108, 32, 98, 98), "astronaut.jpg": (124, 42, 69, 83)}


@dataclass
class FaceClip:
    path: Path
    width: int
    height: int
    frames: int
    boxes: list[tuple[int, int, int, int] | None]  # the face on each frame (clipped), None when out of view


def make_face_clip(
    out: Path,
    *,
    photo: str = "obama.jpg",
    size: tuple[int, int] = (480, 272),
    frames: int = 45,
    face_width: int = 60,
    start: tuple[float, float] = (40, 60),
    end: tuple[float, float] = (300, 90),
    appear_at: int = 0,
    fps: int = 15,
    seed: int = 3,
) -> FaceClip:
    """Encode a clip in which one face moves from ``start`` to ``end`` (top-left of its box).

    The face is absent before ``appear_at`` (it "steps in" at once). Positions
    may lie partly outside the picture: the recorded box is then clipped.
    """
    width, height = size
    rng = np.random.default_rng(seed)
    background = cv2.GaussianBlur(rng.integers(40, 200, (height, width, 3), dtype=np.uint8), (0, 0), 3)
    image = cv2.imread(str(DEMO / photo), cv2.IMREAD_COLOR)
    fx, fy, fw, fh = FACE_IN_PHOTO[photo]
    scale = face_width / fw
    # The photo cropped to the face with a margin, scaled so the face is face_width wide.
    margin = int(fw * 0.4)
    crop = image[max(0, fy - margin): fy + fh + margin, max(0, fx - margin): fx + fw + margin]
    ox, oy = (fx - max(0, fx - margin)) * scale, (fy - max(0, fy - margin)) * scale
    sprite = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    sh, sw = sprite.shape[:2]
    face_w, face_h = round(fw * scale), round(fh * scale)
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}", "-framerate", str(fps), "-i", "-",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={frames / fps}",
        "-shortest", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
        "-c:a", "aac", str(out),
    ]
    boxes: list[tuple[int, int, int, int] | None] = []
    process = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert process.stdin is not None
    for i in range(frames):
        frame = background.copy()
        box = None
        if i >= appear_at:
            t = (i - appear_at) / max(1, frames - 1 - appear_at)
            x = round(start[0] + (end[0] - start[0]) * t)
            y = round(start[1] + (end[1] - start[1]) * t)
            sx, sy = round(x - ox), round(y - oy)  # sprite top-left
            x0, y0, x1, y1 = max(0, sx), max(0, sy), min(width, sx + sw), min(height, sy + sh)
            if x1 > x0 and y1 > y0:
                frame[y0:y1, x0:x1] = sprite[y0 - sy: y1 - sy, x0 - sx: x1 - sx]
            bx0, by0 = max(0, x), max(0, y)
            bx1, by1 = min(width, x + face_w), min(height, y + face_h)
            if bx1 - bx0 >= 12 and by1 - by0 >= 12:
                box = (bx0, by0, bx1 - bx0, by1 - by0)
        boxes.append(box)
        process.stdin.write(frame.tobytes())
    process.stdin.close()
    if process.wait() != 0:
        raise RuntimeError("ffmpeg failed to write the test clip")
    return FaceClip(out, width, height, frames, boxes)


def inner(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The central 80% x 80% of a box, as the bench's score counts it."""
    x, y, w, h = box
    dx, dy = round(0.1 * w), round(0.1 * h)
    return x + dx, y + dy, w - 2 * dx, h - 2 * dy
