"""Render the README's screenshot: the window on the demo case, offscreen.

    /work/venv/bin/python build/readme_screenshot.py [--out docs/window.png] [--fresh]

Runs exactly what ``bwc-redact demo`` runs (demo footage, demo case, ingest,
detection on a worker thread), in a temporary data folder unless
``BWC_REDACT_DATA`` is set, then opens the review pass and saves the window.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def wait(app, condition, timeout: float = 120.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/window.png"))
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    tmp = None
    if "BWC_REDACT_DATA" not in os.environ:
        tmp = tempfile.TemporaryDirectory(prefix="bwc-shot-")
        os.environ["BWC_REDACT_DATA"] = tmp.name
    from PySide6.QtCore import QSettings

    from app.gui import application
    from app.main_window import MainWindow
    from app.paths import demo_dir

    app = application()
    window = MainWindow(QSettings(str(Path(os.environ["BWC_REDACT_DATA"]) / "settings.ini"), QSettings.IniFormat))
    window.resize(1600, 960)
    window.show()
    started = time.monotonic()
    window.open_demo(demo_dir(), args.fresh)
    wait(app, lambda: window.session is not None and window.session.plan is not None and window.session.plan.engine
         and window.detect_job is None and not window.jobs)
    print(f"demo ready with detections after {time.monotonic() - started:.0f} s")
    s = window.session
    # A few decisions, a drawn region and a segment, so every state shows.
    from redaction import edits
    from redaction.plan import Box

    tracks = s.plan.tracks
    s.apply(edits.set_decision(s.plan, tracks[0].id, "redact", "GRAMA-PRIVATE"))
    if len(tracks) > 2:
        s.apply(edits.set_decision(s.plan, tracks[2].id, "release"))
    s.apply(edits.add_region(s.plan, 60, Box(40, 380, 170, 110), end=150, label="badge", reason="GRAMA-PRIVATE"))
    s.apply(edits.add_segment(s.plan, 150, 186, video=None, audio="tone", reason="D3-RESIDENCE"))
    window.a["review"].trigger()
    best = max(range(s.frame_count), key=lambda f: len([t for t in s.plan.tracks if t.box_at(f)]))
    window.go(best)
    wait(app, lambda: window.player.image_frame == s.frame and window.timeline.canvas.peaks is not None)
    for _ in range(4):
        window.grab()
        wait(app, lambda: not window.thumbs.busy())
        app.processEvents()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(args.out))
    print(f"saved {args.out}")
    window.close()
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
