"""The review window end to end, offscreen: open a case, add footage (detection
runs on its own and the test waits for it), toggle a track, draw a region,
make a segment with I/O, undo and redo, drag a box (one undo step), approve as
the approver, export as the officer, verify, and check the release on disk and
the ledger."""

from __future__ import annotations

import av
import pytest
from PySide6.QtCore import QPoint, Qt

from tests.window_support import PASSWORDS, answer_dialogs, face_clip, make_case, settings
from tests.window_support import window_env_fixture as window_env  # noqa: F401

pytestmark = pytest.mark.slow


def wait_idle(qtbot, window, timeout=60_000):  # noqa: ANN001
    qtbot.waitUntil(lambda: not window.jobs and window.detect_job is None, timeout=timeout)


def point_of(window, x: float, y: float) -> QPoint:  # noqa: ANN001
    r = window.player.picture_rect()
    s = r.width() / window.session.info.width
    return QPoint(int(r.x() + x * s), int(r.y() + y * s))


def drag(qtbot, widget, a: QPoint, b: QPoint) -> None:  # noqa: ANN001
    qtbot.mousePress(widget, Qt.LeftButton, pos=a)
    for t in (0.25, 0.5, 0.75, 1.0):
        qtbot.mouseMove(widget, QPoint(int(a.x() + (b.x() - a.x()) * t), int(a.y() + (b.y() - a.y()) * t)))
    qtbot.mouseRelease(widget, Qt.LeftButton, pos=b)


def test_review_window_end_to_end(qtbot, tmp_path, monkeypatch, window_env):  # noqa: ANN001, F811
    from app.main_window import MainWindow
    from review import Case

    errors = window_env
    clip = face_clip(tmp_path / "clips")
    case_dir = make_case(tmp_path / "case")
    answer_dialogs(monkeypatch, segment_reason="D3-RESIDENCE", segment_audio="mute")

    window = MainWindow(settings(tmp_path))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    assert window.open_case(case_dir, "alice", PASSWORDS["alice"])
    s = window.session
    assert str(case_dir) in window.recent_cases()[0]

    # Ingest: the recording opens and detection starts by itself; results arrive through the case.
    window.ingest([clip])
    qtbot.waitUntil(lambda: window.detect_job is not None or (s.plan is not None and s.plan.engine), timeout=30_000)
    wait_idle(qtbot, window)
    assert not errors, errors
    assert s.plan.engine and len(s.plan.tracks) >= 2, "detection should find the demo faces"
    assert all(t.decision is None for t in s.plan.tracks), "detections start undecided"
    qtbot.waitUntil(lambda: window.player.image is not None and window.player.image_frame == s.frame)

    # The export is blocked while tracks are undecided; the review pass opens instead.
    window.export()
    assert errors and "no decision" in errors.pop()
    assert window.a["review"].isChecked() and window.review_bar.item is not None

    # Toggle a track: click its decision cell (redact), then again (release).
    first = s.plan.tracks[0].id
    window.toggle_decision(first)
    assert s.plan.track(first).decision == "redact" and s.plan.track(first).reason
    window.toggle_decision(first)
    assert s.plan.track(first).decision == "release"
    undo_before = s.undo.count()

    # Draw a manual region with the mouse on frame 10.
    window.go(10)
    qtbot.waitUntil(lambda: window.player.image_frame == 10)
    qtbot.keyClick(window, Qt.Key_D)
    assert window.player.draw_mode
    drag(qtbot, window.player, point_of(window, 40, 150), point_of(window, 120, 220))
    manual = [t for t in s.plan.tracks if t.kind == "manual"]
    assert len(manual) == 1, errors
    region = manual[0]
    assert region.decision == "redact" and region.first_frame == 10
    box = region.box_at(10)
    assert abs(box.x - 40) < 2 and abs(box.w - 80) < 3
    qtbot.keyClick(window, Qt.Key_Escape)
    assert not window.player.draw_mode

    # Move the region's box by dragging it on a later frame: one keyframe, one undo step.
    window.go(20)
    qtbot.waitUntil(lambda: window.player.image_frame == 20)
    s.select_tracks([region.id])
    count = s.undo.count()
    drag(qtbot, window.player, point_of(window, 80, 185), point_of(window, 110, 185))
    moved = s.plan.track(region.id)
    key = moved.keyframe_at(20)
    assert key is not None and key.source == "human" and abs(key.box.x - 70) < 3
    assert s.undo.count() == count + 1

    # A segment from I/O marks: frames 30..40 muted and blacked out with an ordinance reason.
    window.go(30)
    qtbot.keyClick(window, Qt.Key_I)
    window.go(40)
    qtbot.keyClick(window, Qt.Key_O)
    qtbot.keyClick(window, Qt.Key_S)
    assert [(x.start, x.end, x.video, x.audio, x.reason) for x in s.plan.segments] == [
        (30, 41, "blackout", "mute", "D3-RESIDENCE")]

    # Drag the segment's end edge on the timeline to frame 45 (frame-accurate, one step).
    canvas = window.timeline.canvas
    seg = s.plan.segments[0]
    y = canvas.seg_top + 10
    drag(qtbot, canvas, QPoint(int(canvas.x_of(seg.end)), y), QPoint(int(round(canvas.x_of(45))), y))
    assert s.plan.segments[0].end == 45

    # Undo and redo go through the case as well.
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert s.plan.segments[0].end == 41
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert s.plan.segments == []
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert s.plan.segments[0].end == 45
    assert s.undo.count() > undo_before

    # Decide the rest (R redacts every selected track), so export opens.
    s.select_tracks([t.id for t in s.plan.tracks if t.decision is None])
    qtbot.keyClick(window, Qt.Key_R)
    assert not s.plan.undecided()
    assert window.review_bar.item is None or window.review_bar.item.kind == "uncovered"

    # Approve as the approver, export as the officer, verify.
    from app.views.export import ExportDialog

    s.sign_in("chief", PASSWORDS["chief"])
    dialog = ExportDialog(s, window)
    qtbot.addWidget(dialog)
    assert dialog.approve_btn.isEnabled() and not dialog.export_btn.isVisible()
    dialog._approve()
    s.sign_in("alice", PASSWORDS["alice"])
    dialog.refresh()
    assert dialog.export_btn.isEnabled(), dialog.status.text()
    with qtbot.waitSignal(dialog.exported, timeout=60_000):
        dialog.export_btn.click()
    record = dialog.record
    assert dialog.pages.currentIndex() == 2 and "D3-RESIDENCE" in dialog.log_view.toPlainText()
    dialog.verify_btn.click()
    qtbot.waitUntil(lambda: "VERIFIED" in dialog.verify_out.toPlainText(), timeout=60_000)
    assert not errors, errors

    # The release on disk: same frame count, the drawn region black on frame 15, the segment black.
    release = record.release_path
    assert release.is_file()
    with av.open(str(release)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == s.info.frame_count
    inside = frames[15][160:205, 60:100]
    assert inside.mean() < 30, "the drawn region must be filled black"
    assert frames[35].max() < 40, "the segment blacks out the whole frame"
    assert frames[50].mean() > 40

    # The ledger names who did what.
    case = Case.open(case_dir)
    try:
        case.sign_in("audrey", PASSWORDS["audrey"])
        entries = case.ledger_entries()
    finally:
        case.close()
    actions = {(e.action, e.actor) for e in entries}
    assert ("track.decide", "alice") in actions
    assert ("segment.save", "alice") in actions
    assert ("track.save", "alice") in actions
    assert ("release.approve", "chief") in actions
    assert ("release.export", "alice") in actions
    window.close()


def test_an_auditor_sees_the_plan_but_cannot_change_it(qtbot, tmp_path, window_env):  # noqa: ANN001, F811
    from app.main_window import MainWindow
    from redaction.plan import Box, Keyframe, Plan, Track
    from redaction.probe import probe
    from review import Case

    errors = window_env
    clip = face_clip(tmp_path / "clips")
    case_dir = make_case(tmp_path / "case")
    case = Case.open(case_dir)
    case.sign_in("alice", PASSWORDS["alice"])
    rec = case.ingest(clip).recording
    info = probe(rec.path)
    plan = Plan(info.video_ref(rec.sha256), [Track("f1", [Keyframe(0, Box(10, 10, 40, 40)), Keyframe(20, Box(50, 10, 40, 40))])])
    case.record_detection(rec.id, plan)
    case.close()

    window = MainWindow(settings(tmp_path))
    qtbot.addWidget(window)
    window.show()
    assert window.open_case(case_dir, "audrey", PASSWORDS["audrey"])
    qtbot.waitUntil(lambda: window.session.plan is not None and window.session.info is not None, timeout=20_000)
    assert [t.id for t in window.session.plan.tracks] == ["f1"]
    assert not window.a["redact"].isEnabled() and not window.a["draw"].isEnabled()
    assert "read-only" in window.st_user.text()
    # Even when asked directly, the case refuses and the window says so in one sentence.
    window.decide(["f1"], "redact", "GRAMA-PRIVATE")
    assert errors and "records officer" in errors[-1].lower()
    assert window.session.plan.track("f1").decision is None
    window.close()


def test_a_file_that_is_not_a_video_is_one_clear_sentence(qtbot, tmp_path, window_env):  # noqa: ANN001, F811
    from app.main_window import MainWindow

    errors = window_env
    case_dir = make_case(tmp_path / "case")
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("this is not footage\n")
    window = MainWindow(settings(tmp_path))
    qtbot.addWidget(window)
    window.show()
    assert window.open_case(case_dir, "alice", PASSWORDS["alice"])
    window.ingest([bogus])
    qtbot.waitUntil(lambda: bool(errors), timeout=20_000)
    wait_idle(qtbot, window)
    assert len(errors) == 1 and "notes.mp4" in errors[0] and "Traceback" not in errors[0], errors
    assert window.session.case.recordings() == [] and window.session.recording is None
    # A wrong password at sign-in is refused in one sentence too, and nothing opens.
    window.close_case()
    assert not window.open_case(case_dir, "alice", "wrong-password")
    assert window.session is None and "password" in errors[-1].lower()
    window.close()
