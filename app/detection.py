"""Face detection for review, shared by the window and ``bwc-redact demo``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from redaction.edits import fit_to_video
from redaction.plan import Plan, Track
from redaction.progress import CancelToken, ProgressCallback


def detection_plan(source: Path | str, *, progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None, on_update: Callable[[list[Track]], None] | None = None,
                   sha256: str | None = None) -> Plan:
    """Detect faces for review: every track starts *undecided*, so the review
    pass asks about each one (undecided tracks are still redacted in a release)."""
    from redaction.pipeline import DetectParams, detect_faces

    plan = detect_faces(source, params=DetectParams(decision=None), progress=progress, cancel=cancel,
                        on_update=on_update, sha256=sha256)
    fit_to_video(plan)
    return plan
