"""Random access for the player: time to show an exact frame after a jump.

    /work/venv/bin/python build/bench_seek.py [--input CLIP ...] [--seconds 20] [--gop 60] [--reads 60]

Without ``--input``, 720p and 1080p 30 fps clips are generated (H.264,
keyframe every ``--gop`` frames, B-frames, as body cameras record). For each
clip it prints the median and 95th percentile milliseconds of
``FrameReader.read(i)`` for random ``i`` (a fresh jump each time, cache
defeated) plus the RGB conversion the window needs, and the speed of stepping
forward and back one frame.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redaction.decode import FrameReader  # noqa: E402
from redaction.ffmpeg_bin import ffmpeg_exe  # noqa: E402
from redaction.probe import probe  # noqa: E402


def make_clip(path: Path, size: str, seconds: int, gop: int) -> None:
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30,noise=alls=6:allf=t",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", str(gop),
         "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def bench(path: Path, reads: int) -> None:
    t0 = time.perf_counter()
    info = probe(path)
    probe_ms = (time.perf_counter() - t0) * 1000
    n = info.frame_count
    gop = n / max(1, len(info.keyframes))
    print(
        f"{path.name}: {info.width}x{info.height}, {n} frames, keyframe every {gop:.0f} frames; probe {probe_ms:.0f} ms"
    )
    rng = random.Random(1)
    with FrameReader(info) as reader:  # default cache (32 frames)
        reader.read(0)
        jumps = []
        for _ in range(reads):
            i = rng.randrange(n)
            reader._cache.clear()  # measure the decode, not the cache
            t0 = time.perf_counter()
            reader.read_rgb(i)
            jumps.append((time.perf_counter() - t0) * 1000)
        start = n // 3
        reader.read(start)
        t0 = time.perf_counter()
        for i in range(start + 1, start + 61):
            reader.read_rgb(i)
        forward = (time.perf_counter() - t0) * 1000 / 60
        t0 = time.perf_counter()
        for i in range(start + 59, start + 59 - 8, -1):
            reader.read_rgb(i)
        back = (time.perf_counter() - t0) * 1000 / 8
    print(
        f"  exact random frame (RGB): median {statistics.median(jumps):.1f} ms, "
        f"95th {percentile(jumps, 0.95):.1f} ms, max {max(jumps):.1f} ms over {reads} jumps"
    )
    print(f"  play forward {forward:.1f} ms/frame (RGB), step back 8 frames after it {back:.1f} ms/frame (cache)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, nargs="*")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--gop", type=int, default=60)
    parser.add_argument("--reads", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-seek-") as tmp:
        clips = list(args.input or [])
        if not clips:
            for size in ("1280x720", "1920x1080"):
                path = Path(tmp) / f"clip_{size}_gop{args.gop}.mp4"
                print(f"generating {size} {args.seconds}s gop {args.gop} ...", flush=True)
                make_clip(path, size, args.seconds, args.gop)
                clips.append(path)
        for path in clips:
            bench(path, args.reads)


if __name__ == "__main__":
    main()
