"""The release package: the release beside a read-only copy of the original, a manifest and checksums.

For a release written to ``DIR/NAME.mp4`` the package is::

    DIR/NAME.mp4                 the release (H.264/AAC, redacted, no metadata)
    DIR/NAME.original.EXT        read-only copy of the unedited original (EXT = its own suffix);
                                 not copied when the original already is that file or an
                                 identical copy is already there
    DIR/NAME.manifest.json       what was done: SHA-256 of original and release, frame counts,
                                 the full plan, engine/model/ffmpeg versions, encoder settings,
                                 UTC time
    DIR/NAME.sha256              checksums of the three files above; verify with
                                 ``cd DIR && sha256sum -c NAME.sha256``

Order: the original is copied (and hashed) first; the release is encoded to a
temporary file; the manifest and checksum file are written from that
temporary file; only then is the release renamed into place. Every file is
written atomically, so the release exists only if its package is complete,
and a failure never leaves a partial file under any of these names. The
original is only ever read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from . import __version__ as ENGINE_VERSION
from .errors import ExportError, RedactionError
from .export import DEFAULT_CRF, DEFAULT_PRESET, ExportResult, check_plan, export_release, public_mode
from .ffmpeg_bin import ffmpeg_version
from .fsutil import atomic_path, atomic_write_text, describe_os_error
from .hashing import sha256_file
from .plan import Plan, Style
from .probe import MediaInfo, probe
from .progress import CancelToken, ProgressCallback

MANIFEST_FORMAT = "bwc-redact-manifest"
MANIFEST_VERSION = 1
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


@dataclass(frozen=True)
class PackagePaths:
    release: Path
    original_copy: Path
    manifest: Path
    checksums: Path

    @classmethod
    def for_release(cls, release: Path | str, original: Path | str) -> PackagePaths:
        release = Path(release)
        stem, folder = release.stem, release.parent
        suffix = Path(original).suffix or ".video"
        return cls(
            release=release,
            original_copy=folder / f"{stem}.original{suffix}",
            manifest=folder / f"{stem}.manifest.json",
            checksums=folder / f"{stem}.sha256",
        )


@dataclass(frozen=True)
class ReleasePackage:
    paths: PackagePaths
    original_sha256: str
    release_sha256: str
    manifest: dict[str, Any]
    export: ExportResult


def plan_sha256(plan: Plan) -> str:
    """Hash of the plan's canonical JSON (sorted keys, no spaces): stable across machines."""
    canonical = json.dumps(plan.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def checksum_line(digest: str, name: str) -> str:
    """One ``sha256sum`` line; names with a backslash or newline use its escaped form."""
    if "\\" in name or "\n" in name or "\r" in name:
        escaped = name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
        return f"\\{digest}  {escaped}\n"
    return f"{digest}  {name}\n"


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def copy_original(
    original: Path, copy: Path, original_sha256: str, cancel: CancelToken | None = None
) -> bool:
    """Make ``copy`` a read-only byte-for-byte copy of ``original``; return False if nothing had to be copied."""
    if _same_file(original, copy):
        return False
    if copy.exists() and sha256_file(copy, cancel=cancel) == original_sha256:
        with contextlib.suppress(OSError):
            os.chmod(copy, READ_ONLY)
        return False
    try:
        with atomic_path(copy) as tmp:
            shutil.copyfile(original, tmp)
            if sha256_file(tmp, cancel=cancel) != original_sha256:
                raise ExportError(
                    f"The copy of {original.name} does not match the original; nothing was kept."
                )
        os.chmod(copy, READ_ONLY)
    except OSError as error:
        raise ExportError(describe_os_error(error, copy)) from error
    except RedactionError as error:
        raise ExportError(str(error)) from error
    return True


def build_manifest(
    info: MediaInfo,
    plan: Plan,
    paths: PackagePaths,
    result: ExportResult,
    release_file: Path,
    original_sha256: str,
    release_sha256: str,
    models: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    tracks = plan.tracks
    return {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "created_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "engine": {"name": "bwc-redact", "version": ENGINE_VERSION, "pyav": av.__version__},
        "models": dict(models or {}),
        "ffmpeg": {"version": ffmpeg_version()},
        "encoder": dict(result.encoder),
        "original": {
            "file": paths.original_copy.name,
            "source_name": info.path.name,
            "sha256": original_sha256,
            "size_bytes": info.size_bytes,
            "container": info.container,
            "streams": info.kinds(),
            "width": info.width,
            "height": info.height,
            "frame_count": info.frame_count,
            "fps": round(info.fps, 6),
            "variable_frame_rate": info.video.variable_frame_rate,
            "rotation": info.video.rotation,
            "duration_s": round(info.duration, 6),
        },
        "release": {
            "file": paths.release.name,
            "sha256": release_sha256,
            "size_bytes": release_file.stat().st_size,
            "width": result.width,
            "height": result.height,
            "frame_count": result.frame_count,
            "has_audio": result.has_audio,
            "frames_burned": result.frames_burned,
        },
        "summary": {
            "tracks": len(tracks),
            "tracks_redacted": sum(1 for t in tracks if t.decision != "release"),
            "tracks_released": sum(1 for t in tracks if t.decision == "release"),
            "possible_minors": sum(1 for t in tracks if t.possible_minor),
            "segments": len(plan.segments),
        },
        "plan_sha256": plan_sha256(plan),
        "plan": plan.to_json(),
        "extra": dict(extra or {}),
    }


def prepare_package(
    info: MediaInfo, release: Path | str, cancel: CancelToken | None = None
) -> tuple[PackagePaths, str]:
    """Check the package's paths and hash the original; returns (paths, original SHA-256)."""
    paths = PackagePaths.for_release(release, info.path)
    if paths.release.suffix.lower() != ".mp4":
        raise ExportError(f"The release must be an .mp4 file, not {paths.release.name}.")
    for other in (paths.release, paths.manifest, paths.checksums):
        if _same_file(info.path, other):
            raise ExportError(f"Refusing to write over the original {other}.")
    if not paths.release.parent.is_dir():
        raise ExportError(
            f"The folder {paths.release.parent} does not exist; could not write {paths.release}."
        )
    return paths, sha256_file(info.path, cancel=cancel)


def write_package_files(
    info: MediaInfo,
    plan: Plan,
    paths: PackagePaths,
    result: ExportResult,
    release_file: Path,
    original_sha256: str,
    models: dict[str, Any] | None,
    extra: dict[str, Any] | None,
    written: list[Path],
    cancel: CancelToken | None = None,
) -> tuple[str, dict[str, Any]]:
    """Write the manifest and checksum file for a finished, not yet renamed release.

    Appends each file written to ``written`` (so a caller can remove them if
    the release never appears); returns (release SHA-256, manifest).
    """
    release_sha256 = sha256_file(release_file, cancel=cancel)
    manifest = build_manifest(
        info, plan, paths, result, release_file, original_sha256, release_sha256, models, extra
    )
    try:
        atomic_write_text(paths.manifest, json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
        written.append(paths.manifest)
        lines = [
            checksum_line(release_sha256, paths.release.name),
            checksum_line(original_sha256, paths.original_copy.name),
            checksum_line(sha256_file(paths.manifest), paths.manifest.name),
        ]
        atomic_write_text(paths.checksums, "".join(lines))
        written.append(paths.checksums)
        for path in written:
            os.chmod(path, public_mode())
    except RedactionError as error:
        raise ExportError(str(error)) from error
    return release_sha256, manifest


def export_package(
    source: Path | str | MediaInfo,
    plan: Plan,
    release: Path | str,
    *,
    style: Style | None = None,
    preset: str = DEFAULT_PRESET,
    crf: float = DEFAULT_CRF,
    models: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ReleasePackage:
    """Export ``plan`` onto ``source`` as a complete release package (see the module docstring).

    ``models`` (name -> version) and ``extra`` go into the manifest as given.
    The plan is checked against the original (size, frames, SHA-256 if set)
    before anything is written.
    """
    info = source if isinstance(source, MediaInfo) else probe(source)
    paths, original_sha256 = prepare_package(info, release, cancel)
    check_plan(info, plan, original_sha256)  # before the copy: a wrong plan writes nothing at all
    copy_original(info.path, paths.original_copy, original_sha256, cancel)
    written: list[Path] = []
    state: dict[str, Any] = {}

    def write_manifest(tmp: Path, result: ExportResult) -> None:
        state["release_sha256"], state["manifest"] = write_package_files(
            info, plan, paths, result, tmp, original_sha256, models, extra, written, cancel
        )

    try:
        result = export_release(
            info,
            plan,
            paths.release,
            style=style,
            preset=preset,
            crf=crf,
            progress=progress,
            cancel=cancel,
            source_sha256=original_sha256,
            before_commit=write_manifest,
        )
    except BaseException:
        for path in written:  # the release never appeared: a manifest for it would lie
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    return ReleasePackage(paths, original_sha256, state["release_sha256"], state["manifest"], result)
