"""Shared set-up for the window tests: offscreen Qt, settings and error log in a
temporary folder, fast password hashing, a small clip with real faces, and
dialogs answered automatically (a modal dialog would wait for a person)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

# Before any Qt import: no display is needed, and nothing else in the suite uses Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402

import review.auth as auth  # noqa: E402
from redaction.ffmpeg_bin import ffmpeg_exe  # noqa: E402

PASSWORDS = {"admin": "admin-pass-1", "alice": "alice-pass-1", "chief": "chief-pass-1", "audrey": "audrey-pass-1"}
ROLES = {"alice": "records_officer", "chief": "approver", "audrey": "auditor"}
_CLIPS: dict[str, Path] = {}


@pytest.fixture(autouse=True, name="window_env")
def window_env_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(auth, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    monkeypatch.setenv("BWC_REDACT_DATA", str(tmp_path / "data"))
    errors: list[str] = []

    def record_error(parent, title, message):  # noqa: ANN001
        errors.append(f"{title}: {message}")

    import app.views.common as common

    monkeypatch.setattr(common, "show_error", record_error)
    for module in ("app.main_window", "app.views.export"):
        mod = __import__(module, fromlist=["show_error"])
        if hasattr(mod, "show_error"):
            monkeypatch.setattr(mod, "show_error", record_error)
    return errors


def make_case(path: Path):
    from review import Case

    case = Case.create(path, title="Window test", admin="admin", password=PASSWORDS["admin"])
    for name, role in ROLES.items():
        case.add_user(name, role, PASSWORDS[name])
    case.close()
    return path


def face_clip(tmp_root: Path, size: tuple[int, int] = (480, 270), seconds: float = 2.0) -> Path:
    """The demo recipe's faces, scaled down (cached for the session: the bytes never change)."""
    key = f"{size}-{seconds}"
    if key in _CLIPS and _CLIPS[key].exists():
        return _CLIPS[key]
    from resources.demo_recipe import make_demo_clip

    tmp_root.mkdir(parents=True, exist_ok=True)
    big = make_demo_clip(tmp_root / "faces-big.mp4", seconds=seconds)
    out = tmp_root / f"faces-{size[0]}x{size[1]}.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(big), "-vf", f"scale={size[0]}:{size[1]}",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "15", "-bf", "2", "-c:a", "aac", str(out)],
        check=True,
    )
    _CLIPS[key] = out
    return out


def settings(path: Path):
    from PySide6.QtCore import QSettings

    return QSettings(str(path / "settings.ini"), QSettings.IniFormat)


def answer_dialogs(monkeypatch: pytest.MonkeyPatch, **codes: str | None) -> None:
    """Make the reason and segment dialogs accept at once (with ``codes`` where given)."""
    from app.views import dialogs

    def reason_exec(self):  # noqa: ANN001, ANN202
        code = codes.get("release_reason") if "release" in self.windowTitle().lower() else codes.get("reason")
        if code:
            self.codes.setCurrentIndex(self.codes.findData(code))
        return 1

    def segment_exec(self):  # noqa: ANN001, ANN202
        if codes.get("segment_reason"):
            self.codes.setCurrentIndex(self.codes.findData(codes["segment_reason"]))
        if codes.get("segment_audio"):
            self.audio.setCurrentIndex(self.audio.findData(codes["segment_audio"]))
        return 1

    monkeypatch.setattr(dialogs.ReasonDialog, "exec", reason_exec)
    monkeypatch.setattr(dialogs.SegmentDialog, "exec", segment_exec)
