"""The window's session over a real case: merge, split and delete reach the
case store (and its ledger), and undo brings back geometry *and* decisions."""

from __future__ import annotations

from redaction import edits
from redaction.plan import Box, Keyframe, Plan, Track
from tests.window_support import PASSWORDS, face_clip, make_case
from tests.window_support import window_env_fixture as window_env  # noqa: F401


def open_session(tmp_path):  # noqa: ANN001, ANN201
    from app.state import Session
    from redaction.probe import probe
    from review import Case

    clip = face_clip(tmp_path / "clips")
    case = Case.open(make_case(tmp_path / "case"))
    case.sign_in("alice", PASSWORDS["alice"])
    rec = case.ingest(clip).recording
    info = probe(rec.path)
    plan = Plan(info.video_ref(rec.sha256), [
        Track("f1", [Keyframe(0, Box(10, 10, 40, 40)), Keyframe(20, Box(60, 10, 40, 40))]),
        Track("f2", [Keyframe(25, Box(70, 12, 40, 40)), Keyframe(50, Box(120, 20, 40, 40))]),
    ])
    case.record_detection(rec.id, plan)
    case.decide(rec.id, "f1", "redact", "GRAMA-PRIVATE")
    case.decide(rec.id, "f2", "release", "RELEASE-NOT-MINOR")
    session = Session(case)
    session.recording, session.info, session.plan = rec, info, case.plan(rec.id)
    return session


def state(plan: Plan):  # noqa: ANN201
    return {t.id: ([k.to_json() for k in t.keyframes], t.decision, t.reason) for t in plan.tracks}


def test_merge_split_delete_and_their_undo_go_through_the_case(qapp, tmp_path, window_env):  # noqa: ANN001, F811
    s = open_session(tmp_path)
    case, rec = s.case, s.recording.id
    original = state(s.plan)

    s.apply(edits.merge_tracks(s.plan, ["f1", "f2"]))
    stored = case.plan(rec)
    assert [t.id for t in stored.tracks] == ["f1"]
    assert stored.track("f1").decision is None  # one part was released: the merged face is decided anew
    assert stored.track("f1").first_frame == 0 and stored.track("f1").last_frame == 50

    s.undo.undo()
    assert state(case.plan(rec)) == original  # both tracks back, with their decisions and reasons
    s.undo.redo()
    assert [t.id for t in case.plan(rec).tracks] == ["f1"]
    s.undo.undo()

    s.apply(edits.split_track(s.plan, "f1", 10))
    parts = case.plan(rec)
    new_id = next(t.id for t in parts.tracks if t.id not in ("f1", "f2"))
    assert parts.track(new_id).decision == "redact" and parts.track(new_id).first_frame == 10
    s.undo.undo()
    assert state(case.plan(rec)) == original

    s.apply(edits.delete_track(s.plan, "f2"))
    assert [t.id for t in case.plan(rec).tracks] == ["f1"]
    s.undo.undo()
    assert state(case.plan(rec)) == original

    actions = [e.action for e in case.ledger_entries()]
    assert actions.count("track.delete") >= 3 and "track.decide" in actions
    case.close()
