"""Case folders, ingest and the plan store."""

from __future__ import annotations

import json
import random
import stat

import pytest

from redaction.errors import InputError, PlanError
from redaction.plan import Box, Keyframe, Segment, Track
from review import Case, CaseError, load_reasons
from review.reasons import parse_table
from review.verify import verify_case
from tests.review_support import (  # noqa: F401
    base_clip_fixture,
    fast_hashing_fixture,
    make_case,
    open_as,
    password,
    sample_plan,
    variant,
)


def test_a_new_case_folder(tmp_path):
    path = make_case(tmp_path / "case")
    names = {p.name for p in path.iterdir()}
    assert {"case.db", "ledger.jsonl", "SHA256SUMS", "case-public-key.pem", "keys", "evidence", "exports", "plans",
            "README.txt"} <= names
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no work folder left behind"
    assert (path / "evidence").stat().st_mode & 0o222 == 0
    with pytest.raises(CaseError, match="not empty"):
        Case.create(path, title="again", admin="admin", password=password("admin"))
    with pytest.raises(CaseError, match="not a bwc-redact case"):
        Case.open(tmp_path)


def test_ingest_copies_once_read_only_with_metadata_and_probe(tmp_path, base_clip):
    path = make_case(tmp_path / "case")
    case = open_as(path, "alice")
    result = case.ingest(base_clip, officer="J. Doe", camera="BWC-1", recorded_at="2026-11-03T14:05:00-07:00")
    rec = result.recording
    assert not result.duplicate
    assert rec.path.read_bytes() == base_clip.read_bytes()
    assert rec.path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) == 0
    assert (rec.officer, rec.camera, rec.recorded_at) == ("J. Doe", "BWC-1", "2026-11-03T21:05:00Z")
    assert rec.media["frame_count"] == 30 and rec.media["width"] == 160 and rec.media["fps"] == 30.0
    assert rec.evidence_path.startswith(f"evidence/{rec.sha256[:16]}-")
    again = case.ingest(base_clip, officer="Someone Else")
    assert again.duplicate and again.recording.id == rec.id and again.recording.officer == "J. Doe"
    copy = variant(base_clip, tmp_path / "renamed copy.mp4", seed=0, pad_bytes=0)
    assert case.ingest(copy).duplicate  # same bytes under another name
    assert len(list((path / "evidence").iterdir())) == 1
    entry = case.ledger_entries(action="ingest")[0]
    assert entry.payload["sha256"] == rec.sha256 and entry.payload["officer"] == "J. Doe"
    case.close()
    assert f"{rec.sha256}  {rec.evidence_path}" in (path / "SHA256SUMS").read_text()


def test_bad_input_is_refused_clearly_and_recorded(tmp_path, base_clip):
    path = make_case(tmp_path / "case")
    case = open_as(path, "alice")
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(random.Random(1).randbytes(100_000))
    with pytest.raises(InputError, match="corrupt.mp4 is not a readable video"):
        case.ingest(corrupt)
    with pytest.raises(InputError, match="no such file"):
        case.ingest(tmp_path / "missing.mp4")
    with pytest.raises(CaseError, match="no time zone"):
        case.ingest(base_clip, recorded_at="2026-11-03 14:05")
    failed = case.ledger_entries(action="action.failed")
    assert [e.payload["file"] for e in failed] == ["corrupt.mp4", "missing.mp4", base_clip.name]
    assert case.recordings() == []
    case.close()
    assert list((path / "evidence").iterdir()) == []
    assert list((path / ".incoming").iterdir()) == []


def test_plan_round_trip_and_decisions(tmp_path, base_clip):
    path = make_case(tmp_path / "case")
    case = open_as(path, "alice")
    rec = case.ingest(base_clip).recording.id
    source = sample_plan()
    case.record_detection(rec, source)
    plan = case.plan(rec)
    assert [t.to_json() for t in plan.tracks] == [t.to_json() for t in source.tracks]
    assert [s.to_json() for s in plan.segments] == [s.to_json() for s in source.segments]
    assert plan.video.sha256 == case.recording(rec).sha256 and plan.video.frame_count == 30
    with pytest.raises(CaseError, match="already has 2 tracks"):
        case.record_detection(rec, source)

    with pytest.raises(CaseError, match="needs a reason code"):
        case.decide(rec, "t1", "redact")
    with pytest.raises(CaseError, match="not a reason for a redaction"):
        case.decide(rec, "t1", "redact", "RELEASE-REVIEWED")
    with pytest.raises(CaseError, match="possible minor"):
        case.decide(rec, "t2", "release")
    with pytest.raises(CaseError, match="Unknown reason code"):
        case.decide(rec, "t1", "redact", "MADE-UP")
    case.decide(rec, "t2", "release", "RELEASE-NOT-MINOR", "adult, checked ID")
    case.decide(rec, "t1", "release", "RELEASE-ON-DUTY-OFFICER")
    plan = case.plan(rec)
    assert [(t.decision, t.reason, t.note) for t in plan.tracks] == [
        ("release", "RELEASE-ON-DUTY-OFFICER", ""), ("release", "RELEASE-NOT-MINOR", "adult, checked ID")]
    history = case.decisions(rec, "t2")
    assert [(d.decision, d.decided_by, d.current) for d in history] == [("release", "alice", True)]

    # Moving a released track's box takes the release back: it needs deciding again.
    moved = plan.track("t1")
    moved.set_keyframes([*moved.keyframes[:1], Keyframe(10, Box(30, 30, 40, 40), "human"), *moved.keyframes[1:]])
    assert case.save_track(rec, moved)
    assert not case.save_track(rec, moved)  # unchanged: nothing recorded
    plan = case.plan(rec)
    assert plan.track("t1").decision is None and plan.track("t2").decision == "release"
    assert not case.decisions(rec, "t1")[-1].current
    case.decide(rec, "t1", "redact", "GRAMA-PRIVATE")

    with pytest.raises(PlanError, match="past the end"):
        case.save_segment(rec, Segment("s9", 20, 31, "blackout", None, "D3-DEATH"))
    with pytest.raises(CaseError, match="needs a reason code"):
        case.save_segment(rec, Segment("s9", 20, 25, "blackout"))
    case.delete_segment(rec, "s1")
    case.delete_track(rec, "t2")
    case.save_track(rec, Track("t2", [Keyframe(3, Box(90, 50, 30, 30))]))  # a new track under an old id
    assert case.plan(rec).track("t2").decision is None  # the old track's decision does not carry over
    case.close()
    report = verify_case(path, record=False)
    assert report.ok, report.lines()


def test_detection_for_another_video_is_refused(tmp_path, base_clip):
    path = make_case(tmp_path / "case")
    case = open_as(path, "alice")
    rec = case.ingest(base_clip).recording.id
    plan = sample_plan()
    plan.video.sha256 = "f" * 64
    with pytest.raises(PlanError, match="another video"):
        case.record_detection(rec, plan)
    case.close()


def test_reason_table():
    table = load_reasons()
    codes = {r.code for r in table.offered("withhold")}
    assert {"D3-RESIDENCE", "D3-MEDICAL", "D3-INTIMATE", "D3-MINOR", "D3-DEATH", "D3-DV-SA-PERSON",
            "D3-DV-SA-FACILITY", "GRAMA-PRIVATE", "GRAMA-CONTROLLED", "GRAMA-PROTECTED"} <= codes
    assert "63G-2-304" in table.get("GRAMA-CONTROLLED").citation
    assert all(table.get(c).citation for c in codes)
    good = {"format": "bwc-redact-reason-codes", "version": 2, "codes": [
        {"code": "A", "use": "withhold", "group": "g", "label": "l", "citation": "c", "retired": True}]}
    assert parse_table(good).offered() == []
    with pytest.raises(CaseError, match="retired"):
        parse_table(good).check("A", "withhold")
    with pytest.raises(CaseError, match="twice"):
        parse_table({**good, "codes": good["codes"] * 2})
    with pytest.raises(CaseError, match="not a bwc-redact"):
        parse_table({"codes": []})


def test_users_copied_from_another_case(tmp_path):
    first = make_case(tmp_path / "first")
    second = Case.create(tmp_path / "second", title="Next", admin="admin2", password="admin2-pass",
                         users_from=first)
    names = {u.name: u.role.value for u in second.users()}
    assert names["alice"] == "records_officer" and names["admin2"] == "admin" and names["admin"] == "admin"
    second.sign_in("alice", password("alice"))
    copied = [e for e in json.loads("[" + ",".join((tmp_path / "second" / "ledger.jsonl").read_text().splitlines()) + "]")
              if e["action"] == "user.add" and e["payload"].get("copied_from")]
    assert len(copied) == 5
    second.close()
    assert verify_case(tmp_path / "second", record=False).ok


def test_withdrawing_a_decision_and_saving_a_whole_plan(tmp_path, base_clip):
    path = make_case(tmp_path / "case")
    case = open_as(path, "alice")
    rec = case.ingest(base_clip).recording.id
    case.record_detection(rec, sample_plan())
    case.decide(rec, "t1", "redact", "GRAMA-PRIVATE")
    case.withdraw_decision(rec, "t1", "clicked the wrong track")
    assert case.plan(rec).track("t1").decision is None
    assert [d.decision for d in case.decisions(rec, "t1")] == ["redact", "withdrawn"]
    case.decide(rec, "t1", "release", "RELEASE-ON-DUTY-OFFICER")

    # A window's merge: t2's keyframes join t1, t2 goes, a segment moves; one transaction.
    edited = case.plan(rec)
    t1, t2 = edited.track("t1"), edited.track("t2")
    t1.set_keyframes([k for k in t1.keyframes if k.frame < 3] + [k for k in t2.keyframes])
    edited.tracks = [t1]
    edited.segments[0].start = 6
    before = case.head()[0]
    after = case.save_plan(rec, edited)
    entries = case.ledger_entries(start=before + 1)
    assert [e.action for e in entries if e.action != "checkpoint"] == ["track.delete", "track.save", "segment.save"]
    assert [t.id for t in after.tracks] == ["t1"]
    assert after.track("t1").decision is None, "the release lapsed with the new geometry"
    assert after.segments[0].start == 6
    assert case.save_plan(rec, after).to_json() == after.to_json()
    assert case.head()[0] == before + len(entries)  # saving the same plan again records nothing
    case.close()
    assert verify_case(path, record=False).ok

