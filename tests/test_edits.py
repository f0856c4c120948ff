"""Reversible plan edits (redaction/edits.py): each edit applies, its inverse
restores the plan exactly, and no edit ever uncovers a pixel it should not."""

from __future__ import annotations

import random

import pytest

from redaction import edits
from redaction.errors import PlanError
from redaction.plan import Box, Keyframe, Plan, Segment, Track, VideoRef


def make_plan() -> Plan:
    video = VideoRef(width=320, height=180, frame_count=100, fps=30.0)
    t1 = Track("f1", [Keyframe(0, Box(10, 10, 40, 40)), Keyframe(20, Box(50, 10, 40, 40)),
                      Keyframe(40, Box(90, 30, 30, 30))])
    t2 = Track("f2", [Keyframe(30, Box(200, 50, 30, 30)), Keyframe(60, Box(220, 60, 30, 30)), Keyframe(70, None)],
               possible_minor=True, minor_evidence={"ages": [12, 14]})
    t3 = Track("f3", [Keyframe(65, Box(100, 100, 20, 20)), Keyframe(90, Box(110, 100, 20, 20))])
    return Plan(video=video, tracks=[t1, t2, t3], segments=[Segment("s1", 10, 20, "blackout", None, "D3-RESIDENCE")])


def roundtrip(plan: Plan, edit: edits.Edit) -> Plan:
    """Apply ``edit`` to a copy, check the inverse gives the original back, return the edited copy."""
    before = plan.to_json()
    edited = plan.copy()
    edit.apply(edited)
    undone = edited.copy()
    edit.inverse().apply(undone)
    assert undone.to_json() == before
    return edited


def covered_pixels(track: Track, frame: int, w: int = 320, h: int = 180):
    box = track.box_at(frame)
    return None if box is None else box.pixel_bounds(w, h)


def contains(outer, inner) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] and outer[3] >= inner[3]


def test_moving_an_auto_box_makes_a_human_keyframe_and_undo_restores_it():
    plan = make_plan()
    edit = edits.set_box(plan, "f1", 20, Box(60, 20, 44, 44))
    edited = roundtrip(plan, edit)
    key = edited.track("f1").keyframe_at(20)
    assert key.source == "human" and key.box == Box(60, 20, 44, 44)
    # frames between keyframes are interpolated towards the new box
    assert edited.track("f1").box_at(10) == Box(10, 10, 40, 40).lerp(Box(60, 20, 44, 44), 0.5)
    assert plan.track("f1").keyframe_at(20).source == "auto"  # the original plan is untouched


def test_setting_a_box_between_keyframes_adds_one_and_past_the_end_extends_the_track():
    plan = make_plan()
    edited = roundtrip(plan, edits.set_box(plan, "f1", 5, Box(0, 0, 30, 30)))
    assert [k.frame for k in edited.track("f1").keyframes] == [0, 5, 20, 40]
    extended = roundtrip(plan, edits.extend_track(plan, "f1", 55))
    assert extended.track("f1").last_frame == 55
    assert extended.track("f1").box_at(55) == Box(90, 30, 30, 30)


def test_boxes_are_clipped_to_the_picture_and_empty_ones_refused():
    plan = make_plan()
    edited = roundtrip(plan, edits.set_box(plan, "f1", 0, Box(-20, -10, 60, 40)))
    assert edited.track("f1").box_at(0) == Box(0, 0, 40, 30)
    with pytest.raises(PlanError):
        edits.set_box(plan, "f1", 0, Box(400, 10, 20, 20))
    with pytest.raises(PlanError):
        edits.set_box(plan, "f1", 100, Box(0, 0, 20, 20))  # past the last frame


def test_deleting_keyframes_interpolates_again_but_never_leaves_an_empty_track():
    plan = make_plan()
    edited = roundtrip(plan, edits.delete_keyframe(plan, "f1", 20))
    assert edited.track("f1").box_at(20) == Box(10, 10, 40, 40).lerp(Box(90, 30, 30, 30), 0.5)
    with pytest.raises(PlanError):
        edits.delete_keyframe(plan, "f1", 21)
    single = Plan(plan.video, [Track("m1", [Keyframe(3, Box(1, 1, 5, 5), "human")], kind="manual")])
    with pytest.raises(PlanError, match="delete the track"):
        edits.delete_keyframe(single, "m1", 3)


def test_a_possible_minor_is_not_released_without_a_reason():
    plan = make_plan()
    with pytest.raises(PlanError, match="minor"):
        edits.set_decision(plan, "f2", "release")
    edited = roundtrip(plan, edits.set_decision(plan, "f2", "release", "RELEASE-NOT-MINOR", " checked "))
    assert (edited.track("f2").decision, edited.track("f2").reason, edited.track("f2").note) == (
        "release", "RELEASE-NOT-MINOR", "checked")
    assert edits.set_decision(plan, "f1", None).empty  # already undecided


def test_geometry_changes_take_back_a_release_but_not_a_redaction():
    plan = make_plan()
    edits.set_decisions(plan, ["f1"], "release").apply(plan)
    edits.set_decision(plan, "f3", "redact", "GRAMA-PRIVATE").apply(plan)
    moved = roundtrip(plan, edits.set_box(plan, "f1", 0, Box(12, 12, 40, 40)))
    assert moved.track("f1").decision is None
    moved = roundtrip(plan, edits.set_box(plan, "f3", 65, Box(101, 100, 20, 20)))
    assert moved.track("f3").decision == "redact" and moved.track("f3").reason == "GRAMA-PRIVATE"


def test_several_decisions_are_one_step():
    plan = make_plan()
    edit = edits.set_decisions(plan, ["f1", "f3"], "redact", "GRAMA-PRIVATE")
    assert edit.label == "Redact 2 tracks" and len(edit.decisions) == 2
    edited = roundtrip(plan, edit)
    assert {t.id for t in edited.tracks if t.decision == "redact"} == {"f1", "f3"}


def test_split_keeps_every_frames_coverage():
    plan = make_plan()
    edits.set_decision(plan, "f1", "redact", "GRAMA-PRIVATE").apply(plan)
    edit = edits.split_track(plan, "f1", 27)
    edited = roundtrip(plan, edit)
    head, tail = edited.track("f1"), edited.track(edit.select)
    assert (head.first_frame, head.last_frame, tail.first_frame, tail.last_frame) == (0, 26, 27, 40)
    assert tail.decision == "redact"  # the new half inherits the redaction
    for frame in range(0, 41):
        part = head if frame < 27 else tail
        other = tail if frame < 27 else head
        assert other.box_at(frame) is None
        assert contains(covered_pixels(part, frame), covered_pixels(plan.track("f1"), frame))
    with pytest.raises(PlanError):
        edits.split_track(plan, "f1", 0)
    with pytest.raises(PlanError):
        edits.split_track(plan, "f1", 41)


def test_merge_covers_every_part_on_every_frame():
    rng = random.Random(7)
    for _ in range(25):
        video = VideoRef(width=320, height=180, frame_count=120, fps=30.0)
        tracks = []
        for n in range(3):
            frames = sorted(rng.sample(range(120), rng.randint(1, 6)))
            keys = [Keyframe(f, Box(rng.uniform(0, 250), rng.uniform(0, 120), rng.uniform(5, 60), rng.uniform(5, 50)))
                    for f in frames]
            if rng.random() < 0.4 and frames[-1] < 119:
                keys.append(Keyframe(rng.randint(frames[-1] + 1, 119), None))
            tracks.append(Track(f"f{n + 1}", keys, possible_minor=n == 2))
        plan = Plan(video, tracks)
        edit = edits.merge_tracks(plan, ["f1", "f2", "f3"])
        edited = roundtrip(plan, edit)
        assert [t.id for t in edited.tracks] == ["f1"]
        merged = edited.track("f1")
        assert merged.possible_minor
        for frame in range(120):
            parts = [covered_pixels(t, frame) for t in tracks]
            parts = [p for p in parts if p is not None]
            got = covered_pixels(merged, frame)
            if not parts:
                continue
            assert got is not None, f"frame {frame} lost its cover"
            for part in parts:
                assert contains(got, part), (frame, got, part)


def test_merge_needs_two_tracks_and_keeps_a_shared_redaction():
    plan = make_plan()
    with pytest.raises(PlanError):
        edits.merge_tracks(plan, ["f1"])
    edits.set_decisions(plan, ["f1", "f3"], "redact", "GRAMA-PRIVATE").apply(plan)
    assert roundtrip(plan, edits.merge_tracks(plan, ["f1", "f3"])).track("f1").decision == "redact"
    edits.set_decision(plan, "f3", "release").apply(plan)
    assert roundtrip(plan, edits.merge_tracks(plan, ["f1", "f3"])).track("f1").decision is None


def test_manual_regions_span_their_range_and_can_end_early():
    plan = make_plan()
    edit = edits.add_region(plan, 10, Box(5, 5, 50, 30), end=39, label="screen")
    edited = roundtrip(plan, edit)
    region = edited.track(edit.select)
    assert (region.kind, region.label, region.first_frame, region.last_frame) == ("manual", "screen", 10, 39)
    assert all(k.source == "human" for k in region.keyframes)
    ended = roundtrip(edited, edits.end_track(edited, region.id, 25))
    assert ended.track(region.id).last_frame == 25 and ended.track(region.id).box_at(26) is None
    assert roundtrip(edited, edits.delete_track(edited, region.id)).tracks == plan.tracks


def test_deleting_a_decided_track_and_undoing_brings_the_decision_back():
    plan = make_plan()
    edits.set_decision(plan, "f2", "release", "RELEASE-NOT-MINOR").apply(plan)
    edited = roundtrip(plan, edits.delete_track(plan, "f2"))
    assert "f2" not in {t.id for t in edited.tracks}


def test_segments_need_a_reason_and_edges_move_frame_by_frame():
    plan = make_plan()
    with pytest.raises(PlanError, match="reason"):
        edits.add_segment(plan, 30, 40)
    edit = edits.add_segment(plan, 30, 40, video=None, audio="mute", reason="D3-MEDICAL")
    edited = roundtrip(plan, edit)
    assert edited.segments[-1] == Segment(edit.select, 30, 40, None, "mute", "D3-MEDICAL")
    moved = roundtrip(edited, edits.change_segment(edited, edit.select, end=45))
    assert moved.segments[-1].end == 45
    with pytest.raises(PlanError):
        edits.change_segment(edited, edit.select, start=50)  # start after end
    with pytest.raises(PlanError):
        edits.change_segment(edited, edit.select, end=101)
    assert edits.change_segment(edited, edit.select, end=40).empty
    assert roundtrip(edited, edits.delete_segment(edited, "s1")).segments == [edited.segments[-1]]


def test_edits_compose_into_one_step():
    plan = make_plan()
    first = edits.set_box(plan, "f1", 20, Box(55, 10, 40, 40))
    step = plan.copy()
    first.apply(step)
    second = edits.set_box(step, "f1", 20, Box(70, 15, 40, 40))
    combined = first.then(second)
    edited = roundtrip(plan, combined)
    assert edited.track("f1").keyframe_at(20).box == Box(70, 15, 40, 40)
    assert len(combined.tracks) == 1


def test_outward_rounding_never_shrinks():
    rng = random.Random(3)
    for _ in range(500):
        box = Box(rng.uniform(0, 300), rng.uniform(0, 300), rng.uniform(0, 80), rng.uniform(0, 80))
        out = edits.outward(box)
        stored = Box.from_list(out.as_list())
        assert stored.x <= box.x and stored.y <= box.y
        assert stored.x2 >= box.x2 - 1e-9 and stored.y2 >= box.y2 - 1e-9


def test_detector_keyframes_past_the_end_are_dropped_without_changing_any_frame():
    plan = make_plan()
    plan.tracks[0].set_keyframes([*plan.tracks[0].keyframes, Keyframe(99, Box(1, 1, 9, 9)), Keyframe(100, None)])
    before = [plan.tracks[0].box_at(f) for f in range(100)]
    assert edits.fit_to_video(plan) == 1
    assert [plan.tracks[0].box_at(f) for f in range(100)] == before


def test_a_region_drawn_with_a_reason_is_redacted_in_the_same_step():
    plan = make_plan()
    edit = edits.add_region(plan, 5, Box(10, 10, 30, 30), end=9, reason="GRAMA-PRIVATE")
    region = roundtrip(plan, edit).track(edit.select)
    assert (region.decision, region.reason) == ("redact", "GRAMA-PRIVATE")
