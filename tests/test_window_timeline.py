"""The timeline's segment lane with the mouse, offscreen: dragging a segment's
body moves it in time through the case store as one undo step, and a plain
click on it still only selects it."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from tests.window_support import PASSWORDS, face_clip, make_case, settings
from tests.window_support import window_env_fixture as window_env  # noqa: F401


def segment_case(tmp_path):  # noqa: ANN001, ANN201
    """A case with one recording whose plan has one segment, frames 20..30."""
    from redaction.plan import Plan, Segment
    from redaction.probe import probe
    from review import Case

    case_dir = make_case(tmp_path / "case")
    case = Case.open(case_dir)
    case.sign_in("alice", PASSWORDS["alice"])
    rec = case.ingest(face_clip(tmp_path / "clips")).recording
    plan = Plan(probe(rec.path).video_ref(rec.sha256), [], [Segment("s1", 20, 30, "blackout", "mute", "D3-RESIDENCE")])
    case.record_detection(rec.id, plan)
    case.close()
    return case_dir


def drag(qtbot, widget, a: QPoint, b: QPoint) -> None:  # noqa: ANN001
    qtbot.mousePress(widget, Qt.LeftButton, pos=a)
    for t in (0.25, 0.5, 0.75, 1.0):
        qtbot.mouseMove(widget, QPoint(int(a.x() + (b.x() - a.x()) * t), int(a.y() + (b.y() - a.y()) * t)))
    qtbot.mouseRelease(widget, Qt.LeftButton, pos=b)


def test_dragging_a_segment_body_moves_it_in_one_undo_step(qtbot, tmp_path, window_env):  # noqa: ANN001, F811
    from app.main_window import MainWindow
    from app.views.timeline import SEG_H

    errors = window_env
    window = MainWindow(settings(tmp_path))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    assert window.open_case(segment_case(tmp_path), "alice", PASSWORDS["alice"])
    s = window.session
    qtbot.waitUntil(lambda: s.info is not None and s.plan is not None, timeout=20_000)
    canvas = window.timeline.canvas

    def stored() -> tuple[int, int]:
        segment = s.case.plan(s.recording.id).segments[0]
        return segment.start, segment.end

    def at(frame: float) -> QPoint:
        return QPoint(int(round(canvas.x_of(frame))), canvas.seg_top + SEG_H // 2)

    # A click on the body without moving selects the segment and changes nothing.
    count = s.undo.count()
    qtbot.mouseClick(canvas, Qt.LeftButton, pos=at(25))
    assert s.selected_segment == "s1"
    assert stored() == (20, 30) and s.undo.count() == count

    # Grab it in the middle and drop it 7 frames later: both ends move, one undo step.
    drag(qtbot, canvas, at(25.5), at(32.5))
    assert stored() == (27, 37)
    assert s.undo.count() == count + 1
    s.undo.undo()
    assert stored() == (20, 30)
    s.undo.redo()
    assert stored() == (27, 37)

    # Dragged far past the end it stops at the recording's last frame, its length kept.
    drag(qtbot, canvas, at(30), at(canvas.frame_count + 40))
    assert stored() == (canvas.frame_count - 10, canvas.frame_count)
    assert not errors, errors
    window.close()


def test_track_edits_at_the_playhead_act_on_the_one_selected_track(qtbot, tmp_path, window_env):  # noqa: ANN001, F811
    from app.main_window import MainWindow
    from redaction.plan import Box, Keyframe, Plan, Track
    from redaction.probe import probe
    from review import Case

    case_dir = make_case(tmp_path / "case")
    case = Case.open(case_dir)
    case.sign_in("alice", PASSWORDS["alice"])
    rec = case.ingest(face_clip(tmp_path / "clips")).recording
    track = Track("m1", [Keyframe(0, Box(10, 10, 40, 40), "human"), Keyframe(40, Box(60, 10, 40, 40), "human")],
                  kind="manual", label="screen")
    case.record_detection(rec.id, Plan(probe(rec.path).video_ref(rec.sha256), [track], []))
    case.close()

    errors = window_env
    window = MainWindow(settings(tmp_path))
    qtbot.addWidget(window)
    window.show()
    assert window.open_case(case_dir, "alice", PASSWORDS["alice"])
    s = window.session
    qtbot.waitUntil(lambda: s.info is not None and s.plan is not None, timeout=20_000)

    def stored() -> list[tuple[str, list[int]]]:
        return [(t.id, [k.frame for k in t.keyframes]) for t in s.case.plan(s.recording.id).tracks]

    before, count = stored(), s.undo.count()
    s.set_frame(20)
    window.split()  # nothing selected: nothing happens
    assert stored() == before and s.undo.count() == count

    s.select_tracks(["m1"])
    window.add_keyframe()
    assert 20 in dict(stored())["m1"] and s.undo.count() == count + 1
    window.delete_keyframe()
    assert stored() == before
    window.split()
    assert len(stored()) == 2
    s.undo.undo()
    assert stored() == before
    assert not errors, errors
    window.close()
