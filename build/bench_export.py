"""Export speed against a plain ffmpeg re-encode of the same file, side by side.

    /work/venv/bin/python build/bench_export.py [--input CLIP] [--seconds 20] [--size 1280x720] [--runs 2]

Without ``--input`` a 720p30 clip with audio is generated first. Each run
times, in alternating order so background load hits both alike:

* plain:  ffmpeg -i IN -c:v libx264 -preset veryfast -crf 23 -c:a aac OUT
* export: probe + ``export_release`` with a plan of moving boxes, one
  blackout and one muted segment (the work ``bwc-redact export`` does)

and prints wall and CPU seconds and the ratio export / plain.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redaction.export import DEFAULT_CRF, DEFAULT_PRESET, export_release  # noqa: E402
from redaction.ffmpeg_bin import ffmpeg_exe  # noqa: E402
from redaction.plan import Box, Keyframe, Plan, Segment, Track  # noqa: E402
from redaction.probe import probe  # noqa: E402


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def make_clip(path: Path, seconds: int, size: str) -> None:
    # Moving test pattern with light temporal noise: compresses roughly like camera footage.
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30,noise=alls=6:allf=t",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "60",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip


def demo_plan(path: Path) -> Plan:
    info = probe(path)
    n, w, h = info.frame_count, info.width, info.height
    tracks = []
    for k in range(6):  # six faces drifting across the frame, present the whole clip
        a = Box(w * (0.05 + 0.12 * k), h * 0.2, w * 0.08, h * 0.15)
        b = Box(w * (0.10 + 0.12 * k), h * 0.6, w * 0.10, h * 0.18)
        tracks.append(Track(f"t{k}", [Keyframe(0, a), Keyframe(n - 1, b)]))
    segments = [
        Segment("s1", n // 4, n // 4 + 30, video="blackout"),
        Segment("s2", n // 2, n // 2 + 60, video=None, audio="mute"),
    ]
    return Plan(video=info.video_ref(), tracks=tracks, segments=segments)


def time_plain(src: Path, out: Path) -> tuple[float, float]:
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(src),
           "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-c:a", "aac", str(out)]  # fmt: skip
    c0, t0 = _cpu(), time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t0, _cpu() - c0


def time_export(src: Path, out: Path, preset: str, crf: float) -> tuple[float, float]:
    c0, t0 = _cpu(), time.perf_counter()
    plan = demo_plan(src)  # includes the probe, as the command does
    export_release(src, plan, out, preset=preset, crf=crf)
    return time.perf_counter() - t0, _cpu() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--preset", default=DEFAULT_PRESET)
    parser.add_argument("--crf", type=float, default=DEFAULT_CRF)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        work = Path(tmp)
        src = args.input
        if src is None:
            src = work / "clip.mp4"
            print(f"generating {args.size} {args.seconds}s clip ...", flush=True)
            make_clip(src, args.seconds, args.size)
        info = probe(src)
        print(f"input: {src.name} {info.width}x{info.height} {info.frame_count} frames {info.fps:.2f} fps")
        ratios = []
        for run in range(args.runs):
            order = ["plain", "export"] if run % 2 == 0 else ["export", "plain"]
            results = {}
            for which in order:
                if which == "plain":
                    results[which] = time_plain(src, work / "plain.mp4")
                else:
                    results[which] = time_export(src, work / "release.mp4", args.preset, args.crf)
            (pw, pc), (ew, ec) = results["plain"], results["export"]
            ratios.append(ew / pw)
            print(
                f"run {run + 1}: plain ffmpeg {pw:6.2f} s wall {pc:6.2f} s cpu | "
                f"export {ew:6.2f} s wall {ec:6.2f} s cpu | ratio wall {ew / pw:.3f} cpu {ec / pc:.3f}"
                f" | export {info.frame_count / ew:.1f} frames/s",
                flush=True,
            )
        print(f"export / plain ffmpeg (wall), best {min(ratios):.3f}, mean {sum(ratios) / len(ratios):.3f}")


if __name__ == "__main__":
    main()
