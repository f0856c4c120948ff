#!/usr/bin/env python3
"""Run `redact` on every public case of the bench kit and score it.

For each case in the kit's ``cases/cases.json`` (or those named with --case):
make the footage, time a plain ``ffmpeg ... libx264 -preset veryfast -crf 23
-c:a aac`` re-encode and ``bwc-redact redact`` side by side, and score the
release with the kit's ``score.py``. Prints one line per case and the worst
figures. Figures, not tests.

    python build/bench_cases.py --kit ../shared/bench [--case pan_720p] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "build"))
from bench_redact import plain_ffmpeg, redact_run  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kit", required=True, help="the bench kit folder (shared/bench)")
    ap.add_argument("--case", action="append", help="only these cases (repeatable)")
    ap.add_argument("--cases-json", help="another cases.json (default: the kit's)")
    ap.add_argument("--photos", help="photos folder for --cases-json")
    ap.add_argument("--keep", help="keep footage and releases in this folder")
    ap.add_argument("--preset", default=None, help="x264 preset for the release (default: the engine's)")
    ap.add_argument("--repeat", type=int, default=2, help="timed pairs per case, alternating; the best of each kept")
    args = ap.parse_args()
    kit = Path(args.kit).resolve()
    cases_json = Path(args.cases_json) if args.cases_json else kit / "cases" / "cases.json"
    names = [c["name"] for c in json.loads(cases_json.read_text())]
    if args.case:
        names = [n for n in names if n in args.case]
    if args.preset is None:
        from redaction.export import DEFAULT_PRESET

        args.preset = DEFAULT_PRESET
    with tempfile.TemporaryDirectory() as tmp_name:
        base = Path(args.keep) if args.keep else Path(tmp_name)
        rows = []
        for name in names:
            folder = base / name
            folder.mkdir(parents=True, exist_ok=True)
            footage, truth = folder / "footage.mp4", folder / "truth.json"
            if not footage.exists():
                env = {"PYTHON": sys.executable, "BENCH": str(kit)}
                if args.photos:
                    env["PHOTOS"] = args.photos
                subprocess.run(
                    [str(kit / "cases" / "run_case.sh"), name, str(folder), str(cases_json)],
                    check=True,
                    capture_output=True,
                    env={**os.environ, **env},
                )
            plains, mine = [], []
            for _ in range(args.repeat):  # alternate, so a slow spell of the machine hits both
                plains.append(plain_ffmpeg(footage, folder / "plain.mp4"))
                seconds, rss, tracks = redact_run(footage, folder / "release.mp4", args.preset)
                mine.append(seconds)
            plain, seconds = min(plains), min(mine)
            scored = subprocess.run(
                [
                    sys.executable,
                    str(kit / "score.py"),
                    str(footage),
                    str(folder / "release.mp4"),
                    str(truth),
                    "--wall-seconds",
                    str(seconds),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            score = json.loads(scored.stdout)
            row = {
                "case": name,
                "recall": score["recall"],
                "worst_leak_run": score["worst_leak_run"],
                "over_redaction": score["over_redaction"],
                "fps": score["fps"],
                "ratio_vs_ffmpeg": round(seconds / plain, 2),
                "redact_s": round(seconds, 1),
                "ffmpeg_s": round(plain, 1),
                "peak_rss_mib": rss,
                "tracks": tracks,
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
        print(
            json.dumps(
                {
                    "min_recall": min(r["recall"] for r in rows),
                    "max_worst_leak_run": max(r["worst_leak_run"] for r in rows),
                    "max_over_redaction": max(r["over_redaction"] for r in rows),
                    "max_ratio": max(r["ratio_vs_ffmpeg"] for r in rows),
                    "min_fps": min(r["fps"] for r in rows),
                }
            )
        )


if __name__ == "__main__":
    main()
