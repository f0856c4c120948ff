"""`bwc-redact demo --headless`, `gui` and bare `bwc-redact` from the command line,
and the review pass's list (Qt-free)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.reviewpass import review_items, uncovered_ranges
from redaction.plan import Box, Keyframe, Plan, Segment, Track, VideoRef
from tests.window_support import window_env_fixture as window_env  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_headless_demo_detects_decides_approves_exports_and_verifies(tmp_path, window_env):  # noqa: ANN001, F811
    from app.demo import CLIP_NAME, run_headless

    lines: list[str] = []
    folder = tmp_path / "demo"
    assert run_headless(folder, say=lines.append, clip_size={"seconds": 2}) == 0
    text = "\n".join(lines)
    assert "Ingested the demo footage as recording 1" in text
    assert "faces tracked" in text and "  f1: frames" in text
    assert "VERIFIED" in text
    release = next((folder / "case" / "exports").glob("R1-*/release.mp4"))
    assert release.stat().st_size > 0 and (folder / CLIP_NAME).exists()
    # Run again: the case and the footage are reused, nothing is ingested or detected twice.
    lines.clear()
    assert run_headless(folder, say=lines.append, clip_size={"seconds": 2}) == 0
    again = "\n".join(lines)
    assert "Reusing the demo footage as recording 1" in again and "Detecting" not in again
    assert len(list((folder / "case" / "exports").glob("R1-*"))) == 2


def test_without_a_display_the_window_says_so_in_one_line(tmp_path):  # noqa: ANN001
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["BWC_REDACT_DATA"] = str(tmp_path)
    for args in ([], ["gui"], ["demo"]):
        result = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 1, result.stderr
        assert result.stderr.startswith("bwc-redact: No display is available") and "Traceback" not in result.stderr
        assert "demo --headless" in result.stderr


def test_gui_and_demo_commands_are_registered():
    from app.cli import build_parser

    args = build_parser().parse_args(["gui", "/some/case", "--user", "alice"])
    assert (args.case, args.user) == ("/some/case", "alice")
    args = build_parser().parse_args(["demo", "--headless", "--folder", "/tmp/x", "--fresh"])
    assert args.headless and args.fresh and args.folder == "/tmp/x"


def plan_with(tracks, segments=()):  # noqa: ANN001, ANN201
    return Plan(VideoRef(width=200, height=100, frame_count=50, fps=25.0), list(tracks), list(segments))


def test_review_pass_lists_undecided_tracks_and_visible_released_faces():
    released = Track("f1", [Keyframe(0, Box(10, 10, 20, 20)), Keyframe(30, Box(10, 10, 20, 20))], decision="release")
    cover = Track("m1", [Keyframe(5, Box(0, 0, 50, 50)), Keyframe(9, Box(0, 0, 50, 50))], kind="manual",
                  decision="redact", reason="GRAMA-PRIVATE")
    undecided = Track("f2", [Keyframe(40, Box(100, 10, 20, 20))])
    plan = plan_with([released, cover, undecided], [Segment("s1", 20, 25, "blackout", None, "D3-RESIDENCE")])
    # Covered by the manual region on 5-9 and blacked out on 20-24: visible on 0-4, 10-19, 25-30.
    assert uncovered_ranges(plan, released) == [(0, 4), (10, 19), (25, 30)]
    items = review_items(plan)
    assert [(i.kind, i.track_id, i.start, i.end) for i in items] == [
        ("uncovered", "f1", 0, 4), ("uncovered", "f1", 10, 19), ("uncovered", "f1", 25, 30), ("undecided", "f2", 40, 40)]
    released.decision = "redact"
    assert review_items(plan) == [items[-1]]
