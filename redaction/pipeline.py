"""The engine's top-level jobs: find every face in a video, and redact it in one go.

``detect_faces`` decodes the video once, tracks faces (``redaction.track``),
pads them into redaction tracks (``redaction.faces``) and flags possible minors
(``redaction.minors``), and returns a ``Plan`` every face of which is set to be
redacted. ``redact`` is detection followed by export into a release package.
Both report progress in frames and stop promptly when cancelled.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .decode import iter_frames
from .detect import MODEL_FILES, FaceDetector
from .faces import PaddingParams, to_plan_track
from .hashing import sha256_file
from .minors import METHOD as MINOR_METHOD
from .minors import assess
from .plan import Decision, Plan, Track
from .probe import MediaInfo, probe
from .progress import CancelToken, ProgressCallback
from .track import FaceTrack, FaceTracker, TrackerParams

UpdateCallback = Callable[[list[Track]], None]


@dataclass
class DetectParams:
    tracker: TrackerParams = field(default_factory=TrackerParams)
    padding: PaddingParams = field(default_factory=PaddingParams)
    min_score: float = 0.5
    decision: Decision | None = "redact"  # what every detected face starts as
    update_every: int = 30  # frames between ``on_update`` calls


def model_versions() -> dict[str, Any]:
    """What produced a plan: recorded in plans, manifests and the case ledger."""
    import mediapipe

    return {
        "engine": f"bwc-redact {__version__}",
        "face_detector": f"MediaPipe BlazeFace {mediapipe.__version__} ({', '.join(MODEL_FILES.values())})",
        "age_estimator": MINOR_METHOD,
    }


def detect_faces(
    source: Path | str | MediaInfo,
    *,
    params: DetectParams | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    on_update: UpdateCallback | None = None,
    sha256: str | None = None,
) -> Plan:
    """Find, track and pad every face; flag possible minors. Returns the plan.

    ``on_update(tracks)`` receives the tracks found so far every
    ``params.update_every`` frames (boxes near the newest frame may still
    grow); the window uses it to show results as they come.
    """
    p = params or DetectParams()
    info = source if isinstance(source, MediaInfo) else probe(source)
    started = time.perf_counter()
    if sha256 is None:
        sha256 = sha256_file(info.path, cancel=cancel)
    detector = FaceDetector(min_score=p.min_score)
    try:
        tracker = FaceTracker(info.width, info.height, info.fps, detector, p.tracker)
        for index, frame in iter_frames(info, output="yuv", progress=progress, cancel=cancel):
            tracker.process(index, frame, frame.y)
            if on_update is not None and index % p.update_every == p.update_every - 1:
                on_update(_plan_tracks(tracker.finish(), info, p, with_minors=False))
        faces = tracker.finish()
    finally:
        detector.close()
    tracks = _plan_tracks(faces, info, p, with_minors=True, cancel=cancel)
    engine = model_versions()
    engine["parameters"] = {"tracker": asdict(p.tracker), "padding": asdict(p.padding), "min_score": p.min_score}
    engine["detector_calls"] = dict(detector.calls)
    engine["seconds"] = round(time.perf_counter() - started, 2)
    return Plan(video=info.video_ref(sha256), tracks=tracks, engine=engine)


def _plan_tracks(faces: list[FaceTrack], info: MediaInfo, p: DetectParams, *, with_minors: bool,
                 cancel: CancelToken | None = None) -> list[Track]:
    out = []
    for face in sorted(faces, key=lambda t: (t.first_frame, t.id)):
        track = to_plan_track(face, f"f{len(out) + 1}", info.width, info.height, p.padding)
        if track is None:
            continue
        track.decision = p.decision
        if with_minors:
            if cancel is not None:
                cancel.raise_if_cancelled()
            track.possible_minor, track.minor_evidence = assess([(f, crop) for _, f, crop in face.crops])
        out.append(track)
    return out
