"""Export a release: decode the original, burn the plan, encode (``redaction.encode``).

``export_release`` checks that the plan belongs to the video, then streams
every frame from the decoder through ``render.burn`` into a ``ReleaseWriter``;
see ``redaction.encode`` for how timestamps, sizes, rotation, metadata and
audio segments are handled and why nothing partial is ever left behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .decode import iter_frames
from .encode import (  # noqa: F401  (re-exported: callers take the defaults from here)
    DEFAULT_CRF,
    DEFAULT_PRESET,
    PRESETS,
    TONE_HZ,
    TONE_LEVEL,
    ReleaseWriter,
    build_command,
    encoder_settings,
    public_mode,
)
from .errors import PlanError
from .hashing import sha256_file
from .plan import Plan, Style
from .probe import MediaInfo, probe
from .progress import CancelToken, ProgressCallback
from .render import burn


@dataclass(frozen=True)
class ExportResult:
    path: Path
    frame_count: int
    width: int
    height: int
    has_audio: bool
    frames_burned: int  # frames with at least one box or a blackout
    encoder: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    source_sha256: str | None = None

    @classmethod
    def of(
        cls,
        info: MediaInfo,
        writer: ReleaseWriter,
        frames_burned: int,
        started: float,
        source_sha256: str | None,
    ) -> ExportResult:
        """What a finished ``writer`` produced from ``info``, timed from ``started`` (perf_counter)."""
        return cls(
            path=writer.out,
            frame_count=info.frame_count,
            width=info.width,
            height=info.height,
            has_audio=info.main_audio is not None,
            frames_burned=frames_burned,
            encoder=writer.settings,
            seconds=time.perf_counter() - started,
            source_sha256=source_sha256,
        )


def check_plan(info: MediaInfo, plan: Plan, source_sha256: str | None = None) -> str | None:
    """Raise ``PlanError`` unless ``plan`` was made for this video; return the source hash if computed."""
    ref = plan.video
    name = info.path.name
    if (ref.width, ref.height) != (info.width, info.height):
        raise PlanError(
            f"The plan is for a {ref.width}x{ref.height} video, but {name} is {info.width}x{info.height}."
        )
    if ref.frame_count != info.frame_count:
        raise PlanError(
            f"The plan is for a video of {ref.frame_count} frames, but {name} has {info.frame_count}."
        )
    if ref.sha256:
        source_sha256 = source_sha256 or sha256_file(info.path)
        if source_sha256.lower() != ref.sha256.lower():
            raise PlanError(f"The plan belongs to another recording: {name} does not match its SHA-256.")
    return source_sha256


def export_release(
    source: Path | str | MediaInfo,
    plan: Plan,
    out: Path | str,
    *,
    style: Style | None = None,
    preset: str = DEFAULT_PRESET,
    crf: float = DEFAULT_CRF,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    source_sha256: str | None = None,
    before_commit: Callable[[Path, ExportResult], None] | None = None,
) -> ExportResult:
    """Render ``plan`` onto ``source`` and write the release to ``out`` (MP4, H.264 + AAC).

    ``style`` overrides the plan's style. ``source_sha256`` avoids hashing the
    original again when the plan names its hash. ``before_commit(tmp, result)``
    runs on the finished, verified temporary file just before it is renamed to
    ``out`` (the release package uses it to hash the release and write the
    manifest); if it raises, nothing is left at ``out``. Raises ``PlanError``
    for a plan made for another video, ``ExportError`` for encoding or disk
    problems, ``InputError`` if the original turns out damaged, and
    ``Cancelled`` when ``cancel`` is set.
    """
    started = time.perf_counter()
    info = source if isinstance(source, MediaInfo) else probe(source)
    source_sha256 = check_plan(info, plan, source_sha256)
    burned = 0
    with ReleaseWriter(info, out, plan=plan, preset=preset, crf=crf) as writer:
        # One decoding thread: x264 already keeps every core busy, so frame threads here
        # would only add their overhead (about 15% more decoding CPU) to the total.
        for index, frame in iter_frames(info, cancel=cancel, thread_type="SLICE"):
            drawn = burn(frame, plan, index, style=style)
            burned += drawn is not frame
            writer.write(drawn)
            if progress is not None:
                progress(index + 1, info.frame_count)
        temp = writer.finish()
        result = ExportResult.of(info, writer, burned, started, source_sha256)
        if before_commit is not None:
            before_commit(temp, result)
    return result
