"""Roles and access, enforced in the case layer: every forbidden action is refused
with a clear message and recorded in the ledger; sign-in with argon2 hashes."""

from __future__ import annotations

import sqlite3

import pytest

from redaction.plan import Box, Keyframe, Segment, Track
from review import Case, PermissionDenied, SignInError
from review.auth import PERMISSIONS
from review.verify import verify_case
from tests.review_support import (  # noqa: F401
    USERS,
    base_clip_fixture,
    fast_hashing_fixture,
    make_case,
    open_as,
    password,
    reviewed_case,
    sample_plan,
)

# action name -> (permission it needs, how to attempt it)
ACTIONS = {
    "ingest": ("recording.ingest", lambda c, r, clip: c.ingest(clip)),
    "record_detection": ("plan.edit", lambda c, r, clip: c.record_detection(r, sample_plan(), replace=True)),
    "save_track": ("plan.edit", lambda c, r, clip: c.save_track(r, Track("m1", [Keyframe(1, Box(1, 1, 9, 9), "human")], "manual", "tattoo"))),
    "delete_track": ("plan.edit", lambda c, r, clip: c.delete_track(r, "t1")),
    "decide": ("plan.edit", lambda c, r, clip: c.decide(r, "t1", "release", "RELEASE-REVIEWED")),
    "save_segment": ("plan.edit", lambda c, r, clip: c.save_segment(r, Segment("s9", 1, 3, "blackout", None, "D3-DEATH"))),
    "delete_segment": ("plan.edit", lambda c, r, clip: c.delete_segment(r, "s1")),
    "approve": ("release.approve", lambda c, r, clip: c.approve(r)),
    "export": ("release.export", lambda c, r, clip: c.export(r)),
    "add_user": ("user.manage", lambda c, r, clip: c.add_user("zed", "auditor", "zed-pass-12")),
    "disable_user": ("user.manage", lambda c, r, clip: c.update_user("paul", active=False)),
    "set_incident": ("case.edit", lambda c, r, clip: c.set_incident("critical", "2026-11-03T14:05:00Z")),
    "delete_recording": ("original.alter", lambda c, r, clip: c.delete_recording(r)),
    "read_ledger": ("ledger.read", lambda c, r, clip: c.ledger_entries()),
}


def _denied(case: Case) -> list:
    return [e for e in case.ledger_entries() if e.action == "denied"] if case.user else []


def _denials(path) -> list[tuple]:
    conn = sqlite3.connect(path / "case.db")
    rows = conn.execute("SELECT actor, role, payload FROM ledger WHERE action = 'denied' ORDER BY seq").fetchall()
    conn.close()
    return rows


def _state(path) -> tuple:
    conn = sqlite3.connect(path / "case.db")
    state = tuple(
        conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
        for t in ("recordings", "tracks", "keyframes", "segments", "decisions", "approvals", "exports", "users", "case_info")
    )
    conn.close()
    return state


@pytest.mark.parametrize("name", [*USERS, None])
def test_every_forbidden_action_is_refused_and_recorded(tmp_path, base_clip, name):
    path, rec = reviewed_case(tmp_path, base_clip)
    role = USERS[name][0] if name else None
    forbidden = [a for a, (perm, _) in ACTIONS.items() if role not in {r.value for r in PERMISSIONS[perm][0]}]
    assert forbidden
    case = open_as(path, name)
    for action in forbidden:
        permission, attempt = ACTIONS[action]
        before = _state(path)
        count = len(_denials(path))
        with pytest.raises(PermissionDenied) as caught:
            attempt(case, rec, base_clip)
        message = str(caught.value)
        assert "\n" not in message and "recorded in the case ledger" in message
        assert ("Sign in first" in message) if name is None else (f"'{name}' may not" in message)
        assert _state(path) == before, f"{action} changed the case although refused"
        denials = _denials(path)
        assert len(denials) == count + 1, action
        actor, logged_role, payload = denials[-1]
        assert f'"permission":"{permission}"' in payload
        assert logged_role == (role or "anonymous")
        assert actor == name if name else actor.startswith("os:")
    case.close()
    assert verify_case(path, record=False).ok


def test_allowed_roles_can_act(tmp_path, base_clip):
    path, rec = reviewed_case(tmp_path, base_clip)
    case = open_as(path, "alice")
    case.save_track(rec, Track("m1", [Keyframe(1, Box(1, 1, 9, 9), "human")], "manual", "tattoo"))
    case.decide(rec, "m1", "redact", "GRAMA-PRIVATE", "tattoo on forearm")
    case.save_segment(rec, Segment("s9", 1, 3, "blackout", None, "D3-DEATH"))
    case.set_incident("critical", "2026-11-03T14:05:00-07:00")
    assert case.info().incident_time == "2026-11-03T21:05:00Z"
    case.sign_in("chief", password("chief"))
    case.approve(rec)
    case.sign_in("admin", password("admin"))
    case.add_user("zed", "auditor", "zed-pass-12")
    case.sign_in("audrey", password("audrey"))
    assert case.ledger_entries()
    with pytest.raises(PermissionDenied):
        case.delete_recording(rec)
    case.close()
    assert verify_case(path, record=False).ok


def test_nobody_may_alter_an_original_not_even_an_administrator(tmp_path, base_clip):
    path, rec = reviewed_case(tmp_path, base_clip)
    for name in USERS:
        case = open_as(path, name)
        with pytest.raises(PermissionDenied, match="nobody may"):
            case.delete_recording(rec)
        case.close()
    assert "original.alter" in PERMISSIONS and not PERMISSIONS["original.alter"][0]


def test_export_needs_an_approval_of_the_current_plan(tmp_path, base_clip):
    path, rec = reviewed_case(tmp_path, base_clip)
    case = open_as(path, "alice")
    case.save_segment(rec, Segment("s2", 10, 12, None, "mute", "D3-MEDICAL"))  # changes the plan after approval
    with pytest.raises(PermissionDenied, match="has no approval"):
        case.export(rec)
    last = case.ledger_entries(action="denied")[-1]
    assert last.payload["permission"] == "release.export"
    assert last.payload["plan_hash"] == case.plan_hash(rec)
    case.close()


def test_approval_refuses_a_plan_that_changed_since_it_was_shown(tmp_path, base_clip):
    path, rec = reviewed_case(tmp_path, base_clip)
    case = open_as(path, "alice")
    seen = case.plan_hash(rec)
    case.save_segment(rec, Segment("s2", 10, 12, None, "mute", "D3-MEDICAL"))
    case.sign_in("chief", password("chief"))
    with pytest.raises(Exception, match="changed since it was shown"):
        case.approve(rec, seen)
    assert case.ledger_entries(action="action.failed")[-1].payload["attempt"].startswith("approve")
    case.close()


def test_sign_in_failures_are_recorded_without_the_password(tmp_path):
    path = make_case(tmp_path / "case")
    case = Case.open(path)
    for name, pw in (("alice", "wrong-password"), ("nobody", "whatever-1"), ("alice", "")):
        with pytest.raises(SignInError, match="^Wrong user name or password.$"):
            case.sign_in(name, pw)
        assert case.user is None
    case.sign_in("admin", password("admin"))
    case.update_user("paul", active=False)
    with pytest.raises(SignInError, match="disabled"):
        case.sign_in("paul", password("paul"))
    case.sign_in("admin", password("admin"))
    failed = case.ledger_entries(action="sign_in.failed")
    assert [e.payload["reason"] for e in failed] == ["wrong password", "unknown user", "wrong password", "account disabled"]
    assert all(e.role == "anonymous" for e in failed)
    case.close()
    raw = b"".join(p.read_bytes() for p in path.rglob("*") if p.is_file())
    for _, pw in USERS.values():
        assert pw.encode() not in raw
    assert b"wrong-password" not in raw


def test_password_hashes_are_argon2id(tmp_path):
    path = make_case(tmp_path / "case")
    conn = sqlite3.connect(path / "case.db")
    hashes = [row[0] for row in conn.execute("SELECT password_hash FROM users")]
    conn.close()
    assert len(hashes) == len(USERS) and all(h.startswith("$argon2id$") for h in hashes)
    assert len(set(hashes)) == len(hashes)  # salted


def test_role_changes_and_disabling_apply_to_open_sessions(tmp_path, base_clip):
    path, rec = reviewed_case(tmp_path, base_clip)
    officer = open_as(path, "alice")
    admin = open_as(path, "admin")
    admin.update_user("alice", role="auditor")
    with pytest.raises(PermissionDenied, match="Auditor 'alice' may not"):
        officer.decide(rec, "t1", "redact", "D3-RESIDENCE")
    admin.update_user("alice", role="records_officer", active=False)
    with pytest.raises(PermissionDenied, match="Sign in first"):
        officer.decide(rec, "t1", "redact", "D3-RESIDENCE")
    with pytest.raises(Exception, match="last active administrator"):
        admin.update_user("admin", active=False)
    officer.close()
    admin.close()
    assert verify_case(path, record=False).ok


def test_users_can_change_their_own_password_only_with_the_current_one(tmp_path):
    path = make_case(tmp_path / "case")
    case = open_as(path, "alice")
    with pytest.raises(Exception, match="current password is wrong"):
        case.set_password("alice", "new-pass-123", "not-it")
    case.set_password("alice", "new-pass-123", password("alice"))
    with pytest.raises(PermissionDenied):
        case.set_password("chief", "new-pass-123")
    case.sign_in("alice", "new-pass-123")
    with pytest.raises(Exception, match="at least 8"):
        case.set_password("alice", "short", "new-pass-123")
    case.close()


def test_verify_flags_an_entry_made_under_a_role_that_may_not(tmp_path, base_clip):
    path, rec = reviewed_case(tmp_path, base_clip)
    case = open_as(path, "audrey")
    # Bypass the gate (as a buggy or hostile program would) and write as an auditor.
    with case.transaction() as tx:
        tx.record("segment.delete", {"recording": rec, "segment": "s1"})
        tx.execute("DELETE FROM segments WHERE segment_id = 's1'")
    case.close()
    report = verify_case(path, record=False)
    assert not report.ok
    assert any("role auditor may not do segment.delete" in f.message for f in report.failures)


def test_the_preview_host_cannot_read_the_ledger_but_can_open_the_case(tmp_path, base_clip):
    path, rec = reviewed_case(tmp_path, base_clip)
    case = open_as(path, "paul")
    assert case.recording(rec).id == rec
    with pytest.raises(PermissionDenied, match="Preview host 'paul' may not read the ledger"):
        case.ledger_entries()
    case.close()
