"""`bwc-redact redact` and `detect` end to end on a clip with a real face."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from redaction.decode import iter_frames
from redaction.errors import Cancelled
from redaction.hashing import sha256_file
from redaction.pipeline import redact
from redaction.progress import CancelToken
from tests.faces_clip import FaceClip, inner, make_face_clip

BLACK_Y = 16  # limited-range black


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, env=env)


def hidden_share(luma: np.ndarray, box: tuple[int, int, int, int]) -> float:
    x, y, w, h = inner(box)
    return float((luma[y : y + h, x : x + w] <= BLACK_Y + 4).mean())


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> FaceClip:
    return make_face_clip(tmp_path_factory.mktemp("clip") / "bodycam.mp4", frames=40, start=(-40, 70))


def test_redact_writes_a_complete_package_that_hides_the_face_on_every_frame(clip, tmp_path):
    before = sha256_file(clip.path)
    out = tmp_path / "release.mp4"
    result = run_cli("redact", str(clip.path), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "release:" in result.stdout and "face track" in result.stdout
    for name in ("release.mp4", "release.original.mp4", "release.manifest.json", "release.sha256"):
        assert (tmp_path / name).exists(), name
    check = subprocess.run(
        ["sha256sum", "-c", "release.sha256"], cwd=tmp_path, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert sha256_file(clip.path) == before  # the original is untouched
    frames = 0
    for index, frame in iter_frames(out):
        frames += 1
        box = clip.boxes[index]
        if box is not None:
            assert hidden_share(frame.y, box) >= 0.95, f"face visible on frame {index}"
    assert frames == clip.frames
    manifest = json.loads((tmp_path / "release.manifest.json").read_text())
    assert manifest["original"]["sha256"] == before
    assert manifest["plan"]["tracks"] and manifest["extra"]["mode"] == "one pass"
    assert manifest["release"]["frames_burned"] == sum(b is not None for b in clip.boxes)


def test_detect_then_export_gives_the_same_protection(clip, tmp_path):
    plan = tmp_path / "tracks.json"
    result = run_cli("detect", str(clip.path), "-o", str(plan))
    assert result.returncode == 0, result.stderr
    data = json.loads(plan.read_text())
    assert data["format"] == "bwc-redact-plan" and data["tracks"]
    out = tmp_path / "r.mp4"
    result = run_cli("export", str(clip.path), "--plan", str(plan), "-o", str(out))
    assert result.returncode == 0, result.stderr
    for index, frame in iter_frames(out):
        if clip.boxes[index] is not None:
            assert hidden_share(frame.y, clip.boxes[index]) >= 0.95, index


@pytest.mark.parametrize(
    "content", [b"", b"not a video at all\n", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200]
)
def test_bad_input_is_one_line_error_and_nothing_is_written(tmp_path, content):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    out = tmp_path / "out" / "release.mp4"
    out.parent.mkdir()
    result = run_cli("redact", str(bad), "-o", str(out))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.mp4" in lines[0] and "Traceback" not in result.stderr
    assert list(out.parent.iterdir()) == []


def test_a_missing_output_folder_is_refused_before_any_work(clip, tmp_path):
    result = run_cli("redact", str(clip.path), "-o", str(tmp_path / "nowhere" / "r.mp4"))
    assert result.returncode == 1 and "does not exist" in result.stderr


def test_a_cancelled_redact_leaves_no_release_and_no_manifest(clip, tmp_path):
    token = CancelToken()

    def progress(done: int, total: int) -> None:
        if done == 10:
            token.cancel()

    out = tmp_path / "release.mp4"
    with pytest.raises(Cancelled):
        redact(clip.path, out, progress=progress, cancel=token)
    leftovers = {p.name for p in tmp_path.iterdir()}
    assert "release.mp4" not in leftovers and "release.manifest.json" not in leftovers
    assert "release.sha256" not in leftovers
    assert not any(".partial" in name for name in leftovers)


def test_detect_in_a_case_recording_is_recorded_in_the_ledger_and_refused_to_an_auditor(clip, tmp_path):
    from tests.review_support import make_case, open_as, password

    case_dir = make_case(tmp_path / "case")
    case = open_as(case_dir, "alice")
    rec = case.ingest(clip.path).recording
    case.close()
    env: dict[str, str] = {}

    def detect_as(user: str) -> subprocess.CompletedProcess:
        env.update(BWC_REDACT_USER=user, BWC_REDACT_PASSWORD=password(user))
        full = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent), **env)
        return subprocess.run(
            [sys.executable, "-m", "app.cli", "detect", str(case_dir), "--recording", str(rec.id)],
            capture_output=True,
            text=True,
            env=full,
        )

    denied = detect_as("audrey")
    assert (
        denied.returncode == 1
        and "Traceback" not in denied.stderr
        and len(denied.stderr.strip().splitlines()) == 1
    )
    done = detect_as("alice")
    assert done.returncode == 0, done.stderr
    assert "undecided" in done.stdout
    check = open_as(case_dir, "audrey")  # an auditor may read what was done
    try:
        plan = check.plan(rec.id)
        assert plan.tracks and all(t.decision is None for t in plan.tracks)
        actions = [e.action for e in check.ledger_entries()]
        assert "detect.run" in actions and "denied" in actions
    finally:
        check.close()
