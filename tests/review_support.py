"""Shared set-up for the case-layer tests: a case with one user per role, small
real video clips (unique bytes on demand), a plan that fits them."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import imageio_ffmpeg
import pytest
from argon2 import PasswordHasher

import review.auth as auth
from redaction.plan import Box, Keyframe, Plan, Segment, Track, VideoRef
from review import Case

ROOT = Path(__file__).resolve().parent.parent
# Cheap argon2 parameters for tests only: the parameters live in each hash, so
# subprocesses verifying these hashes are fast too, and product hashes are not affected.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

USERS = {
    "admin": ("admin", "admin-pass-1"),
    "alice": ("records_officer", "alice-pass-1"),
    "chief": ("approver", "chief-pass-1"),
    "audrey": ("auditor", "audrey-pass-1"),
    "paul": ("preview_host", "paul-pass-1"),
}


def password(name: str) -> str:
    return USERS[name][1]


# Test modules import the fixtures below by these names (pytest registers them as
# ``fast_hashing`` and ``base_clip``).
@pytest.fixture(autouse=True, name="fast_hashing")
def fast_hashing_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "HASHER", FAST_HASHER)


def make_case(path: Path, title: str = "Test case") -> Path:
    case = Case.create(path, title=title, admin="admin", password=password("admin"))
    for name, (role, pw) in USERS.items():
        if name != "admin":
            case.add_user(name, role, pw)
    case.close()
    return path


def open_as(path: Path, name: str | None) -> Case:
    case = Case.open(path)
    if name:
        case.sign_in(name, password(name))
    return case


def ffmpeg(*args: str | Path) -> None:
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)]
    subprocess.run(cmd, check=True, capture_output=True)


def make_clip(path: Path, seconds: float = 1.0, size: tuple[int, int] = (160, 120), fps: int = 30) -> Path:
    """A real H.264/AAC clip (moov first, so trailing bytes do not disturb demuxers)."""
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size={size[0]}x{size[1]}:rate={fps}",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", str(seconds),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
        "-movflags", "+faststart", path,
    )
    return path


def variant(base: Path, path: Path, seed: int, pad_bytes: int = 1024) -> Path:
    """``base`` plus ``pad_bytes`` seeded random trailing bytes: a distinct, still playable file."""
    shutil.copyfile(base, path)
    with open(path, "ab") as handle:
        handle.write(random.Random(seed).randbytes(pad_bytes))
    return path


@pytest.fixture(scope="session", name="base_clip")
def base_clip_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "base.mp4")


def sample_plan(frames: int = 30, width: int = 160, height: int = 120) -> Plan:
    return Plan(
        VideoRef(width, height, frames, 30.0),
        tracks=[
            Track("t1", [Keyframe(0, Box(10, 10, 40, 40), "auto", 0.9), Keyframe(15, Box(20, 12, 40, 40)),
                         Keyframe(25, None)]),
            Track("t2", [Keyframe(3, Box(90, 50, 30, 30)), Keyframe(28, Box(100, 55, 30, 30))],
                  possible_minor=True, minor_evidence={"ages": [12.5, 14.0], "frames": [3, 10]}),
        ],
        segments=[Segment("s1", 5, 9, "blackout", "mute", "D3-RESIDENCE", "kitchen")],
        engine={"detector": "test", "version": 1},
    )


def reviewed_case(tmp_path: Path, clip: Path) -> tuple[Path, int]:
    """A case with one recording, detected, decided and approved."""
    path = make_case(tmp_path / "case")
    case = open_as(path, "alice")
    rec = case.ingest(clip, officer="J. Doe", camera="BWC-1", recorded_at="2026-11-03T14:05:00-07:00").recording
    case.record_detection(rec.id, sample_plan())
    case.decide(rec.id, "t1", "redact", "GRAMA-PRIVATE", "bystander")
    case.decide(rec.id, "t2", "redact", "D3-MINOR")
    digest = case.plan_hash(rec.id)
    case.sign_in("chief", password("chief"))
    case.approve(rec.id, digest)
    case.close()
    return path, rec.id


def run_python(code: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def concurrent_writer(path: str, worker: int, count: int, barrier) -> None:  # noqa: ANN001 - a multiprocessing Barrier
    """One of several processes saving segments into the same case at once."""
    case = open_as(Path(path), "alice")
    barrier.wait()
    for k in range(count):
        case.save_segment(1, Segment(f"w{worker}-{k}", k, k + 1, "blackout", None, "D3-RESIDENCE"))
    case.close()


def concurrent_ingest(path: str, clip: str, barrier) -> None:  # noqa: ANN001
    case = open_as(Path(path), "alice")
    barrier.wait()
    case.ingest(clip)
    case.close()
