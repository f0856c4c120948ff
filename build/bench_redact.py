#!/usr/bin/env python3
"""Benchmark `bwc-redact redact` against a plain ffmpeg re-encode of the same clip.

Prints, for a generated 1280x720 30 fps clip (or any --size/--seconds):

* wall seconds of ``ffmpeg -i IN -c:v libx264 -preset veryfast -crf 23 -c:a aac OUT``
  and of ``bwc-redact redact IN -o OUT``, measured side by side in one run
  (alternating, best of --repeat), their ratio, and frames per second;
* peak resident memory of the redact process for the clip and for a clip
  three times longer (it should not grow with length);
* with the bench kit (``--kit ../shared/bench``): the clip is the kit's
  footage and the release is scored (recall, longest leak, over-redaction);
* with ``--without-detection``: also ``redact`` with a detector that finds
  nothing, beside the same plain re-encodes: what decoding, encoding and the
  release package cost alone (the floor under any detector).

Timings are figures to read, not pass/fail tests.

    python build/bench_redact.py --kit ../shared/bench --scene pan --seed 11
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg

ROOT = Path(__file__).resolve().parent.parent

REDACT_AND_MEASURE = """
import resource, sys, time
sys.path.insert(0, {root!r})
from redaction.pipeline import redact
if {blind!r}:
    import redaction.detect
    redaction.detect.ParallelDetector.detect_all = lambda self, frame, regions: []
    redaction.detect.ParallelDetector.detect = lambda self, frame, region: []
t = time.perf_counter()
r = redact({src!r}, {out!r}, preset={preset!r})
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, len(r.plan.tracks))
"""


def make_clip(out: Path, args: argparse.Namespace, seconds: float) -> Path | None:
    """The clip to measure; returns the truth file when the bench kit made it."""
    if args.kit:
        truth = out.with_suffix(".truth.json")
        subprocess.run(
            [
                sys.executable,
                str(Path(args.kit) / "make_footage.py"),
                "--scene",
                args.scene,
                "--seed",
                str(args.seed),
                "--seconds",
                str(seconds),
                "--size",
                args.size,
                "--out",
                str(out),
                "--truth",
                str(truth),
            ],
            check=True,
            capture_output=True,
        )
        return truth
    sys.path.insert(0, str(ROOT))
    from resources.demo_recipe import make_demo_clip

    width, height = (int(v) for v in args.size.split("x"))
    make_demo_clip(out, width=width, height=height, seconds=seconds)
    return None


def plain_ffmpeg(src: Path, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-i",
            str(src),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-c:a",
            "aac",
            str(out),
        ],
        check=True,
    )
    return time.perf_counter() - started


def redact_run(src: Path, out: Path, preset: str, blind: bool = False) -> tuple[float, int, int]:
    """(seconds inside redact, peak RSS in MiB, tracks) from a fresh process; ``blind``: with
    a detector that finds nothing."""
    for stale in out.parent.glob(out.stem + "*"):
        stale.chmod(0o644)
        stale.unlink()
    code = REDACT_AND_MEASURE.format(root=str(ROOT), src=str(src), out=str(out), preset=preset, blind=blind)
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    seconds, rss_kib, tracks = done.stdout.strip().splitlines()[-1].split()
    return float(seconds), int(rss_kib) // 1024, int(tracks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--repeat", type=int, default=2, help="runs of each, alternating; the best is kept")
    ap.add_argument("--kit", help="the bench kit folder (shared/bench): its footage, and scores")
    ap.add_argument("--scene", default="pan", choices=["pan", "street"])
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--no-memory", action="store_true", help="skip the longer clip")
    ap.add_argument("--preset", default=None, help="x264 preset for the release (default: the engine's)")
    ap.add_argument(
        "--without-detection", action="store_true", help="also time redact with a detector that finds nothing"
    )
    args = ap.parse_args()
    if args.preset is None:
        sys.path.insert(0, str(ROOT))
        from redaction.export import DEFAULT_PRESET

        args.preset = DEFAULT_PRESET

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        src = tmp / "clip.mp4"
        truth = make_clip(src, args, args.seconds)
        frames = round(args.seconds * 30)
        plain, mine, blind, rss, tracks = [], [], [], 0, 0
        for _ in range(args.repeat):
            plain.append(plain_ffmpeg(src, tmp / "plain.mp4"))
            seconds, rss, tracks = redact_run(src, tmp / "release.mp4", args.preset)
            mine.append(seconds)
            if args.without_detection:
                blind.append(redact_run(src, tmp / "blind.mp4", args.preset, blind=True)[0])
        report = {
            "release_preset": args.preset,
            "clip": f"{args.size} {args.seconds:g} s ({frames} frames)"
            + (f", kit {args.scene} seed {args.seed}" if args.kit else ""),
            "plain_ffmpeg_s": round(min(plain), 2),
            "redact_s": round(min(mine), 2),
            "ratio": round(min(mine) / min(plain), 2),
            "redact_fps": round(frames / min(mine), 1),
            "realtime_factor": round(args.seconds / min(mine), 2),
            "tracks": tracks,
            "peak_rss_mib": rss,
        }
        if blind:
            report["redact_without_detection_s"] = round(min(blind), 2)
            report["ratio_without_detection"] = round(min(blind) / min(plain), 2)
        if not args.no_memory:
            longer = tmp / "longer.mp4"
            make_clip(longer, args, args.seconds * 3)
            _, rss_long, _ = redact_run(longer, tmp / "release_long.mp4", args.preset)
            report[f"peak_rss_mib_{args.seconds * 3:g}s"] = rss_long
        if truth is not None:
            scored = subprocess.run(
                [
                    sys.executable,
                    str(Path(args.kit) / "score.py"),
                    str(src),
                    str(tmp / "release.mp4"),
                    str(truth),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            score = json.loads(scored.stdout)
            report.update(
                {k: score[k] for k in ("recall", "worst_leak_run", "over_redaction", "recall_by_width")}
            )
        print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
