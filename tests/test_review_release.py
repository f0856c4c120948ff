"""The release package of a case recording, exported through the engine."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import av
import numpy as np
import pytest

import review.release as release_module
from redaction.errors import Cancelled, ExportError
from redaction.plan import Box, Keyframe, Track
from redaction.progress import CancelToken
from review import CaseError
from review.verify import verify_case
from tests.review_support import (  # noqa: F401
    base_clip_fixture,
    fast_hashing_fixture,
    open_as,
    password,
    reviewed_case,
)

PACKAGE = {"release.mp4", "manifest.json", "redaction-log.csv", "redaction-log.html", "SHA256SUMS"}


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def approved(tmp_path, base_clip):
    return reviewed_case(tmp_path, base_clip)


def test_package_manifest_and_logs(tmp_path, approved):
    path, rec = approved
    case = open_as(path, "alice")
    plan_hash = case.plan_hash(rec)
    recording = case.recording(rec)
    record = case.export(rec, tmp_path / "out")
    entries = case.ledger_entries()
    case.close()

    for folder in (record.folder, tmp_path / "out"):
        assert {p.name for p in folder.iterdir()} == PACKAGE
        for name, sha in record.files.items():
            assert _sha(folder / name) == sha
    assert all((record.folder / n).stat().st_mode & 0o222 == 0 for n in PACKAGE)

    manifest = json.loads((record.folder / "manifest.json").read_text())
    assert manifest["original"]["sha256"] == recording.sha256 == _sha(recording.path)
    assert manifest["release"]["sha256"] == record.release_sha256 == _sha(record.release_path)
    assert manifest["plan"]["sha256"] == plan_hash == record.plan_hash
    assert _sha(path / "plans" / f"{plan_hash}.json") == plan_hash
    assert manifest["approval"]["approver"] == "chief"
    by_id = {r["id"]: r for r in manifest["redactions"]}
    assert set(by_id) == {"t1", "t2", "s1"}
    assert (by_id["t1"]["start_frame"], by_id["t1"]["end_frame"]) == (0, 25)
    assert by_id["t1"]["region"] == "10,10,50,42"
    assert by_id["t1"]["category"] == "GRAMA-PRIVATE" and "63G-2-302" in by_id["t1"]["citation"]
    assert by_id["t2"]["category"] == "D3-MINOR" and "D.3" in by_id["t2"]["citation"]
    assert by_id["s1"]["region"] == "whole frame" and by_id["s1"]["start_time"] == "00:00:00.166"
    assert all(r["redacted_by"] == "alice" and r["approved_by"] == "chief" for r in by_id.values())
    count = manifest["ledger"]["entries"]
    assert next(e for e in entries if e.seq == count).hash == manifest["ledger"]["head"]

    rows = list(csv.DictReader(io.StringIO((record.folder / "redaction-log.csv").read_text())))
    assert [r["redaction"] for r in rows] == ["t1", "t2", "s1"]
    assert rows[2]["category code"] == "D3-RESIDENCE"
    html = (record.folder / "redaction-log.html").read_text()
    assert "Salt Lake City Ord. 54-20" in html and "63G-2-302" in html and "3 redactions" in html
    for secret in ("bystander", "kitchen", "J. Doe", "BWC-1"):  # notes and officer/camera stay in the case
        for name in ("manifest.json", "redaction-log.csv", "redaction-log.html"):
            assert secret not in (record.folder / name).read_text(), (secret, name)

    exported = [e for e in entries if e.action == "release.export"][-1]
    assert exported.payload["release_sha256"] == record.release_sha256
    assert exported.payload["plan_hash"] == plan_hash
    delivered = [e for e in entries if e.action == "release.deliver"][-1]
    assert delivered.payload["to"] == str(tmp_path / "out")
    assert verify_case(path, record=False).ok


def _frame(path, index: int) -> np.ndarray:
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == index:
                return frame.to_ndarray(format="gray")
    raise AssertionError(index)


def test_the_release_hides_what_the_plan_says(approved):
    path, rec = approved
    case = open_as(path, "alice")
    record = case.export(rec)
    original = case.recording(rec).path
    case.close()
    assert _frame(record.release_path, 6).max() < 30  # inside the blackout segment
    face = _frame(record.release_path, 0)[12:48, 12:48]  # inside t1's box on frame 0
    assert face.std() < 3 and face.mean() < 30
    assert _frame(original, 0)[12:48, 12:48].std() > 10  # the original shows a picture there


def test_labels_are_escaped_in_the_html_log(approved):
    path, rec = approved
    case = open_as(path, "alice")
    case.save_track(rec, Track("m1", [Keyframe(2, Box(5, 5, 20, 20), "human")], "manual", "<script>x</script>"))
    case.decide(rec, "m1", "redact", "GRAMA-PROTECTED")
    digest = case.plan_hash(rec)
    case.sign_in("chief", password("chief"))
    case.approve(rec, digest)
    case.sign_in("alice", password("alice"))
    record = case.export(rec)
    case.close()
    html = (record.folder / "redaction-log.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_a_failed_or_cancelled_export_leaves_nothing_and_is_recorded(tmp_path, approved, monkeypatch):
    path, rec = approved
    case = open_as(path, "alice")
    token = CancelToken()

    def cancel_at_first_frame(done, total):
        token.cancel()

    with pytest.raises(Cancelled):
        case.export(rec, tmp_path / "out", progress=cancel_at_first_frame, cancel=token)
    assert case.ledger_entries(action="action.cancelled")
    probe, real_export = release_module._engine()

    def broken(*args, **kwargs):
        raise ExportError("The encoder failed.")

    monkeypatch.setattr(release_module, "_engine", lambda: (probe, broken))
    with pytest.raises(ExportError):
        case.export(rec, tmp_path / "out")
    assert case.ledger_entries(action="action.failed")[-1].payload["error"] == "The encoder failed."
    assert case.exports() == []
    case.close()
    assert list((path / "exports").iterdir()) == []
    assert not (tmp_path / "out").exists()
    assert verify_case(path, record=False).ok


def test_export_refuses_a_non_empty_output_folder_and_an_altered_original(tmp_path, approved):
    path, rec = approved
    out = tmp_path / "taken"
    out.mkdir()
    (out / "x").write_text("x")
    case = open_as(path, "alice")
    with pytest.raises(CaseError, match="not empty"):
        case.export(rec, out)
    original = case.recording(rec).path
    original.chmod(0o644)
    with open(original, "r+b") as handle:
        handle.seek(200)
        byte = handle.read(1)
        handle.seek(200)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(CaseError, match="no longer matches its recorded SHA-256"):
        case.export(rec)
    assert case.exports() == []
    case.close()


def test_export_refuses_undecided_tracks(approved):
    path, rec = approved
    case = open_as(path, "alice")
    case.save_track(rec, Track("m2", [Keyframe(2, Box(5, 5, 20, 20), "human")], "manual", "screen"))
    with pytest.raises(CaseError, match="no current decision"):
        case.export(rec)
    case.close()
