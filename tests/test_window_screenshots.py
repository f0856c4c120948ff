"""Screenshots of the window, compared loosely with references kept in the repo.

The references (``tests/screenshots/*.png``) make layout regressions visible in
review. The comparison is tolerant so font hinting or a Qt patch release does
not fail it: same size, mean difference under 6 (of 255) and under 6% of pixels
differing by more than 48. Every run also writes the new pictures to
``tests/screenshots/last/`` (ignored by git) to look at.

To refresh the references after an intended change of the window, run
``BWC_REDACT_UPDATE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/test_window_screenshots.py``,
look at the new PNGs, and commit them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage

from tests.window_support import PASSWORDS, face_clip, make_case, settings
from tests.window_support import window_env_fixture as window_env  # noqa: F401

REFERENCES = Path(__file__).with_name("screenshots")
UPDATE = os.environ.get("BWC_REDACT_UPDATE_SCREENSHOTS") == "1"


def as_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format_RGB888)
    w, h = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * h)
    return data.reshape(h, image.bytesPerLine())[:, : w * 3].reshape(h, w, 3).astype(np.int16)


def check(name: str, image: QImage) -> None:
    (REFERENCES / "last").mkdir(parents=True, exist_ok=True)
    image.save(str(REFERENCES / "last" / name))
    reference = REFERENCES / name
    if UPDATE:
        image.save(str(reference))
        return
    assert reference.exists(), f"No reference {reference}; create it with BWC_REDACT_UPDATE_SCREENSHOTS=1 (see docstring)."
    ref = QImage(str(reference))
    assert (ref.width(), ref.height()) == (image.width(), image.height()), "window layout size changed"
    diff = np.abs(as_array(ref) - as_array(image)).max(axis=2)
    mean, changed = float(diff.mean()), float((diff > 48).mean())
    assert mean < 6 and changed < 0.06, (
        f"{name} differs from its reference (mean {mean:.1f}, {changed:.1%} of pixels changed); "
        f"compare with tests/screenshots/last/{name}")


def review_case(tmp_path: Path):
    """A case with one recording and a fixed plan: every state a box can be in."""
    from redaction.plan import Box, Keyframe, Plan, Segment, Track
    from redaction.probe import probe
    from review import Case

    clip = face_clip(tmp_path / "clips")
    case_dir = make_case(tmp_path / "case")
    case = Case.open(case_dir)
    case.sign_in("alice", PASSWORDS["alice"])
    rec = case.ingest(clip).recording
    info = probe(rec.path)
    plan = Plan(info.video_ref(rec.sha256), [
        Track("f1", [Keyframe(0, Box(150, 60, 70, 80)), Keyframe(25, Box(20, 60, 70, 80))]),
        Track("f2", [Keyframe(12, Box(300, 40, 60, 70)), Keyframe(45, Box(180, 50, 60, 70))],
              possible_minor=True, minor_evidence={"ages": [11, 13, 15], "frames": [12, 20, 30]}),
        Track("f3", [Keyframe(20, Box(380, 120, 40, 45)), Keyframe(59, Box(300, 110, 40, 45))]),
        Track("m1", [Keyframe(5, Box(30, 190, 90, 50), "human"), Keyframe(50, Box(60, 180, 90, 50), "human")],
              kind="manual", label="screen"),
    ], [Segment("s1", 40, 52, "blackout", "mute", "D3-RESIDENCE")])
    case.record_detection(rec.id, plan)
    case.decide(rec.id, "f1", "redact", "GRAMA-PRIVATE")
    case.decide(rec.id, "f3", "release")
    case.decide(rec.id, "m1", "redact", "GRAMA-PRIVATE")
    case.close()
    return case_dir


def settle(qtbot, window) -> None:  # noqa: ANN001
    canvas = window.timeline.canvas
    qtbot.waitUntil(lambda: window.player.image is not None and window.player.image_frame == window.session.frame,
                    timeout=20_000)
    qtbot.waitUntil(lambda: canvas.peaks is not None, timeout=20_000)
    for _ in range(3):  # thumbnails arrive, the views repaint and ask for the ones now visible
        window.grab()
        qtbot.waitUntil(lambda: not window.thumbs.busy(), timeout=20_000)
        qtbot.wait(50)


def test_welcome_page(qtbot, tmp_path, window_env):  # noqa: ANN001, F811
    from app.main_window import MainWindow

    window = MainWindow(settings(tmp_path))
    qtbot.addWidget(window)
    window.resize(1100, 640)
    window.show()
    qtbot.wait(50)
    check("welcome.png", window.grab().toImage())


def test_review_window(qtbot, tmp_path, window_env):  # noqa: ANN001, F811
    from app.main_window import MainWindow

    case_dir = review_case(tmp_path)
    window = MainWindow(settings(tmp_path))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    assert window.open_case(case_dir, "alice", PASSWORDS["alice"])
    qtbot.waitUntil(lambda: window.session.info is not None, timeout=20_000)
    window.a["review"].trigger()  # review pass on: it jumps to the first undecided track (f2)
    window.go(30)
    window.session.set_mark("in", 8)
    window.session.set_mark("out", 16)
    settle(qtbot, window)
    assert window.session.selected == ["f2"]
    assert "possible minor" in window.review_bar.label.text()
    check("review.png", window.grab().toImage())

    window.a["preview"].trigger()
    qtbot.waitUntil(lambda: window.player.is_preview, timeout=20_000)
    settle(qtbot, window)
    picture = window.player.grab().toImage()
    check("preview.png", picture)
    window.close()
