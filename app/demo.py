"""The demo: a case with generated footage, its detections, and (headless) a release.

Everything lives in one folder (``app.paths.demo_dir()``, usually
``~/.local/share/bwc-redact/demo``)::

    demo/demo-footage.mp4   the generated clip (four public-domain portraits, a muted stretch)
    demo/case/              an ordinary case folder holding it

The demo case has three accounts whose passwords are printed here and in the
README because they protect nothing: ``admin``, ``officer`` (records officer)
and ``chief`` (approver). Real cases never have known passwords.

The steps are plain functions (no Qt) so the window runs them on a worker
thread and ``bwc-redact demo --headless`` runs them in a terminal.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from redaction.errors import RedactionError
from redaction.progress import CancelToken, ProgressCallback

from .paths import demo_dir

DEMO_USERS = {
    "admin": ("admin", "demo-admin-password"),
    "officer": ("records_officer", "demo-officer-password"),
    "chief": ("approver", "demo-chief-password"),
}
OFFICER, APPROVER = "officer", "chief"
CLIP_NAME = "demo-footage.mp4"
Say = Callable[[str], None]


@dataclass(frozen=True)
class DemoCase:
    folder: Path
    case_path: Path
    clip: Path
    recording_id: int
    detected: bool  # a detection run is already recorded


def password(name: str) -> str:
    return DEMO_USERS[name][1]


def make_clip(folder: Path, say: Say = print, **size: int) -> Path:
    """The demo footage, generated once (a half-written clip never takes its name)."""
    clip = folder / CLIP_NAME
    if clip.exists():
        return clip
    from resources.demo_recipe import make_demo_clip

    folder.mkdir(parents=True, exist_ok=True)
    say(f"Generating the demo footage in {clip} ...")
    partial = folder / f".{CLIP_NAME}.partial.mp4"
    try:
        make_demo_clip(partial, **size)
        os.replace(partial, clip)
    except (OSError, RuntimeError) as error:
        partial.unlink(missing_ok=True)
        raise RedactionError(f"Could not generate the demo footage in {folder}: {error}") from error
    return clip


def prepare(folder: Path | None = None, *, fresh: bool = False, say: Say = print,
            progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
            clip_size: dict[str, int] | None = None) -> DemoCase:
    """Create (or reuse) the demo case and ingest the demo footage into it."""
    from review import Case

    folder = Path(folder or demo_dir()).expanduser().absolute()
    case_path = folder / "case"
    if fresh and case_path.exists():
        say(f"Removing the old demo case {case_path}")
        shutil.rmtree(case_path)
    clip = make_clip(folder, say, **(clip_size or {}))
    if case_path.exists():
        case = Case.open(case_path)
    else:
        say(f"Creating the demo case in {case_path}")
        name, (_, pw) = "admin", DEMO_USERS["admin"]
        case = Case.create(case_path, title="Demo: patrol walk-by", admin=name, password=pw,
                           display_name="Demo administrator")
        case.add_user(OFFICER, DEMO_USERS[OFFICER][0], password(OFFICER), display_name="Demo records officer")
        case.add_user(APPROVER, DEMO_USERS[APPROVER][0], password(APPROVER), display_name="Demo approver")
    try:
        case.sign_in(OFFICER, password(OFFICER))
        result = case.ingest(clip, officer="Demo officer", camera="BWC-0042", recorded_at="2026-11-01T14:03:00Z",
                             progress=progress, cancel=cancel)
        recording = result.recording
        say(("Reusing" if result.duplicate else "Ingested") + f" the demo footage as recording {recording.id}")
        detected = bool(case.plan(recording.id).engine)
    finally:
        case.close()
    return DemoCase(folder, case_path, clip, recording.id, detected)


def run_headless(folder: Path | None = None, *, fresh: bool = False, out_dir: Path | None = None,
                 say: Say = print, clip_size: dict[str, int] | None = None) -> int:
    """Every step of the demo without a window, then approve, export and verify."""
    from review import Case
    from review.verify import verify_case

    from .commands.progress import progress_bar
    from .detection import detection_plan

    with progress_bar("ingest", unit="B") as update:
        demo = prepare(folder, fresh=fresh, say=say, progress=update, clip_size=clip_size)
    case = Case.open(demo.case_path)
    try:
        case.sign_in(OFFICER, password(OFFICER))
        rec = case.recording(demo.recording_id)
        if not demo.detected:
            say(f"Detecting faces in {rec.original_name} ...")
            with progress_bar("detect") as update:
                plan = detection_plan(rec.path, progress=update, sha256=rec.sha256)
            case.record_detection(rec.id, plan)
        plan = case.plan(rec.id)
        say(f"{len(plan.tracks)} faces tracked:")
        for track in plan.tracks:
            minor = " (possible minor)" if track.possible_minor else ""
            say(f"  {track.id}: frames {track.first_frame}-{track.last_frame}{minor}")
        for track in plan.undecided():
            reason = "D3-MINOR" if track.possible_minor else "GRAMA-PRIVATE"
            case.decide(rec.id, track.id, "redact", reason, "demo: redact every face")
        digest = case.plan_hash(rec.id)
        case.sign_in(APPROVER, password(APPROVER))
        case.approve(rec.id, digest, "demo approval")
        say(f"Approved plan {digest[:16]}... as {APPROVER}")
        case.sign_in(OFFICER, password(OFFICER))
        with progress_bar("export") as update:
            record = case.export(rec.id, out_dir, progress=update)
    finally:
        case.close()
    say(f"Exported release {record.id}")
    say(f"  original sha256 {record.original_sha256}")
    say(f"  release  sha256 {record.release_sha256}")
    say(f"  release file    {record.release_path}")
    if record.delivered_to:
        say(f"  delivered to    {record.delivered_to}")
    report = verify_case(demo.case_path)
    for line in report.lines():
        say(line)
    say(f"Open it in the window: bwc-redact gui {demo.case_path}  (user {OFFICER}, password {password(OFFICER)})")
    return 0 if report.ok else 1
