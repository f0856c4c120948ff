"""Window commands: ``bwc-redact gui [CASE]`` and ``bwc-redact demo``.

Bare ``bwc-redact`` opens the window too (see ``app.cli.main``). The window is
imported only when it is about to open, so the rest of the command line never
loads Qt. ``demo --headless`` runs every demo step in the terminal instead,
for machines without a display and for tests.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from redaction.errors import RedactionError

from ..paths import demo_dir


def display_problem() -> str | None:
    """Why no window can open here, or None. Qt would abort the process instead of raising."""
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM"):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            return ("No display is available to open the window. On a machine without a screen, run "
                    "`bwc-redact demo --headless`, or the case commands (`bwc-redact --help`).")
    return None


def open_window(case: str | None = None, user: str | None = None, demo: Path | None = None,
                fresh: bool = False) -> int:
    problem = display_problem()
    if problem:
        raise RedactionError(problem)
    try:
        from ..gui import run
    except ImportError as error:
        raise RedactionError(f"The window cannot start: PySide6 is not installed correctly ({error}).") from error
    return run(case=Path(case) if case else None, user=user, demo=demo, fresh=fresh)


def _gui(args: argparse.Namespace) -> int:
    return open_window(args.case, args.user)


def _demo(args: argparse.Namespace) -> int:
    folder = Path(args.folder).expanduser() if args.folder else demo_dir()
    if args.headless:
        from ..demo import run_headless

        out = Path(args.output).expanduser() if args.output else None
        return run_headless(folder, fresh=args.fresh, out_dir=out)
    return open_window(demo=folder, fresh=args.fresh)


def register(subparsers: argparse._SubParsersAction) -> None:
    gui = subparsers.add_parser(
        "gui", help="open the review window (also: bwc-redact with no command)",
        description="Open the review window, on CASE if given (you are asked to sign in).",
    )
    gui.add_argument("case", nargs="?", metavar="CASE", help="a case folder to open")
    gui.add_argument("--user", help="user name to sign in with (the password is asked in the window)")
    gui.set_defaults(handler=_gui)

    demo = subparsers.add_parser(
        "demo", help="open the window on a demo case with generated footage and real detections",
        description=(
            "Create (or reuse) a demo case in your data folder (default "
            f"{demo_dir()}), generate the demo footage if missing, ingest it, detect faces and open "
            "the window on it. Demo accounts: officer / demo-officer-password (records officer), "
            "chief / demo-chief-password (approver), admin / demo-admin-password."
        ),
    )
    demo.add_argument("--headless", action="store_true",
                      help="no window: run every step, redact every face, approve, export and verify, print it all")
    demo.add_argument("--folder", metavar="DIR", help=f"where the demo lives (default {demo_dir()})")
    demo.add_argument("--fresh", action="store_true", help="start over with a new demo case")
    demo.add_argument("-o", "--output", metavar="OUT_DIR",
                      help="with --headless: also copy the release package to this new folder")
    demo.set_defaults(handler=_demo)
