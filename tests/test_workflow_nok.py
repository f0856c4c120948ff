"""Next-of-kin records and viewings (D.3, D.4), and every role's forbidden
case-level workflow action tried through the API, refused and logged."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from review import CaseError, PermissionDenied
from review.nok import PreviewSession, PreviewSource
from review.verify import verify_case
from tests.review_support import (  # noqa: F401
    USERS,
    base_clip_fixture,
    fast_hashing_fixture,
    open_as,
    password,
    reviewed_case,
)

FAKE = PreviewSource("release", 1, Path("/nonexistent"), "0" * 64, "nothing")


@pytest.fixture(name="exported")
def exported_fixture(tmp_path, base_clip):
    path, rec_id = reviewed_case(tmp_path, base_clip)
    case = open_as(path, "alice")
    case.set_incident("critical", "2026-11-03T14:05:00-07:00")
    export = case.export(rec_id)
    case.close()
    return path, rec_id, export


def test_next_of_kin_steps_and_a_viewing_of_the_approved_release(exported):
    path, rec_id, export = exported
    case = open_as(path, "alice")
    case.set_incident_facts(True)
    case.nok_consult("Utah Grief Support Network", contact="Dr. A. Lee", occurred_at="2026-11-04T10:00:00-07:00")
    case.nok_notify("Maria Roe", "2099-01-15", method="in person", relationship="mother",
                    occurred_at="2026-11-05T10:00:00-07:00")
    with pytest.raises(CaseError, match="in the past"):
        case.nok_notify("Maria Roe", "2020-01-01")
    case.nok_offer("Maria Roe", "accepted")
    with pytest.raises(CaseError, match="accepted, declined, pending"):
        case.nok_offer("Maria Roe", "maybe")
    case.add_content_warning(rec_id, 10, 20, "use of force")
    case.add_content_warning(rec_id, 25, None, "the injured man is seen")
    with pytest.raises(CaseError, match="outside recording"):
        case.add_content_warning(rec_id, 500, None, "too late")
    items = {i.key: i for i in case.clocks()}
    assert items["D4a"].status == "done" and items["D4b"].status == "done"
    assert items["D4c"].status == "in progress"

    sources = case.preview_sources()
    assert [(s.kind, s.export_id) for s in sources] == [("release", export.id)]
    case.sign_in("paul", password("paul"))
    session = PreviewSession(case, sources[0], ["Maria Roe (mother)", "  ", "Rev. J. Park"])
    assert "not started" in session.watermark
    assert [w.label for w in session.warnings] == ["use of force", "the injured man is seen"]
    viewing = session.start()
    assert viewing.id in session.watermark and case.info().case_id in session.watermark
    assert viewing.attendees == ["Maria Roe (mother)", "Rev. J. Park"] and viewing.host == "paul"
    assert viewing.media_sha256 == export.release_sha256 and viewing.ended_at is None
    assert session.start() is viewing  # starting twice does not open a second record
    ended = session.end("the family left after 20 minutes")
    assert ended.ended_at and ended.ended_at >= ended.started_at and "20 minutes" in ended.note
    assert session.end() is ended
    with pytest.raises(CaseError, match="already ended"):
        case.end_viewing(viewing.id)
    assert {i.key: i for i in case.clocks()}["D4c"].status == "done"
    case.close()
    report = verify_case(path, record=False)
    assert report.ok, report.lines()


def test_the_unredacted_recording_only_after_the_familys_d3_request(exported):
    path, rec_id, _ = exported
    case = open_as(path, "paul")
    unredacted = PreviewSource("unredacted", rec_id, Path("x"), "0" * 64, "original")
    with pytest.raises(CaseError, match="only be shown unredacted after the family's request under D.3"):
        case.start_viewing(unredacted, ["Maria Roe"])
    case.nok_request_unredacted(rec_id, "Maria Roe", relationship="mother")  # preview hosts may record it
    source = [s for s in case.preview_sources() if s.kind == "unredacted"]
    assert len(source) == 1 and "requested by Maria Roe under D.3" in source[0].label
    viewing = case.start_viewing(source[0], ["Maria Roe"])
    rec = case.recording(rec_id)
    assert (viewing.shown, viewing.media_sha256, viewing.request_id) == ("unredacted", rec.sha256,
                                                                        source[0].request_id)
    case.end_viewing(viewing.id)
    with pytest.raises(CaseError, match="Name who attends"):
        case.start_viewing(source[0], [" "])
    held = case.record_viewing(source[0], ["Maria Roe"], "2026-11-06T10:00:00-07:00", "2026-11-06T10:40:00-07:00")
    assert not held.in_app and held.ended_at == "2026-11-06T17:40:00Z"
    case.close()
    report = verify_case(path, record=False)
    assert report.ok, report.lines()


def test_a_changed_release_file_is_not_shown(exported):
    path, _, export = exported
    release = path / "exports" / export.id / "release.mp4"
    os.chmod(release, 0o644)
    with open(release, "ab") as handle:
        handle.write(b"tampered")
    case = open_as(path, "paul")
    with pytest.raises(CaseError, match="no longer matches its recorded SHA-256"):
        case.start_viewing(case.preview_sources()[0], ["Maria Roe"])
    conn = sqlite3.connect(path / "case.db")
    assert conn.execute("SELECT COUNT(*) FROM nok_viewings").fetchone()[0] == 0
    failed = conn.execute("SELECT payload FROM ledger WHERE action = 'action.failed'").fetchall()
    conn.close()
    assert any("no longer matches" in row[0] for row in failed)
    case.close()


# Case-level workflow actions: (permission, attempt). Each role outside the permission is refused.
ACTIONS = {
    "mark a clock done": ("clock.mark", lambda c, r: c.mark_done("C1")),
    "record a GRAMA request": ("clock.mark", lambda c, r: c.receive("grama", "2026-11-05T09:00:00-07:00")),
    "record the incident facts": ("case.edit", lambda c, r: c.set_incident_facts(True)),
    "look for mutes": ("mute.record", lambda c, r: c.detect_mutes(r)),
    "record a mute": ("mute.record", lambda c, r: c.record_camera_event(r, "mute", start=0.1)),
    "consult": ("nok.record", lambda c, r: c.nok_consult("Grief Center")),
    "notify": ("nok.record", lambda c, r: c.nok_notify("M. Roe", "2099-01-01")),
    "offer": ("nok.record", lambda c, r: c.nok_offer("M. Roe", "pending")),
    "request unredacted": ("nok.record", lambda c, r: c.nok_request_unredacted(r, "M. Roe")),
    "content warning": ("nok.record", lambda c, r: c.add_content_warning(r, 1, None, "x")),
    "start a viewing": ("preview.host", lambda c, r: c.start_viewing(FAKE, ["M. Roe"])),
    "end a viewing": ("preview.host", lambda c, r: c.end_viewing("V0")),
    "record a viewing": ("preview.host", lambda c, r: c.record_viewing(FAKE, ["M. Roe"], "2026-11-06T10:00Z",
                                                                     "2026-11-06T11:00Z")),
}


@pytest.mark.parametrize("name", [n for n in USERS])
def test_every_roles_forbidden_workflow_actions_are_refused_and_logged(tmp_path, base_clip, name):
    from review.auth import PERMISSIONS

    path, rec_id = reviewed_case(tmp_path, base_clip)
    case = open_as(path, "alice")
    case.set_incident("critical", "2026-11-03T14:05:00-07:00")
    case.sign_in(name, password(name))
    role = USERS[name][0]
    forbidden = {a: p for a, (p, _) in ACTIONS.items() if role not in {r.value for r in PERMISSIONS[p][0]}}
    assert forbidden or role == "records_officer"
    before = sqlite3.connect(path / "case.db").execute(
        "SELECT (SELECT COUNT(*) FROM clock_marks) + (SELECT COUNT(*) FROM nok_records) + "
        "(SELECT COUNT(*) FROM camera_events) + (SELECT COUNT(*) FROM nok_viewings)").fetchone()
    for action in forbidden:
        with pytest.raises(PermissionDenied) as refused:
            ACTIONS[action][1](case, rec_id)
        message = str(refused.value)
        assert message.count(".") >= 1 and "recorded in the case ledger" in message and "\n" not in message
    conn = sqlite3.connect(path / "case.db")
    denials = conn.execute("SELECT actor, role, payload FROM ledger WHERE action = 'denied' ORDER BY seq").fetchall()
    after = conn.execute(
        "SELECT (SELECT COUNT(*) FROM clock_marks) + (SELECT COUNT(*) FROM nok_records) + "
        "(SELECT COUNT(*) FROM camera_events) + (SELECT COUNT(*) FROM nok_viewings)").fetchone()
    conn.close()
    assert [(a, r) for a, r, _ in denials] == [(name, role)] * len(forbidden)
    assert [json.loads(p)["permission"] for _, _, p in denials] == list(forbidden.values())
    assert after == before
    case.close()
    if role == "preview_host":
        assert set(forbidden) == {"mark a clock done", "record a GRAMA request", "record the incident facts",
                                  "look for mutes", "record a mute"}
    if role == "auditor":
        assert len(forbidden) == len(ACTIONS)
