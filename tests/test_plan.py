import json

import pytest

from redaction.errors import PlanError
from redaction.plan import Box, Keyframe, Plan, Segment, Track, VideoRef


def make_track(keys, **kw):
    return Track(id="f1", keyframes=[Keyframe(f, None if b is None else Box(*b)) for f, b in keys], **kw)


def test_interpolates_linearly_between_keyframes():
    track = make_track([(10, (0, 0, 10, 10)), (20, (100, 50, 30, 10))])
    assert track.box_at(9) is None
    assert track.box_at(10) == Box(0, 0, 10, 10)
    assert track.box_at(15) == Box(50, 25, 20, 10)
    assert track.box_at(20) == Box(100, 50, 30, 10)
    assert track.box_at(21) is None


def test_absent_keyframe_holds_then_hides_until_next_box():
    track = make_track([(0, (0, 0, 10, 10)), (5, None), (8, (20, 20, 10, 10)), (10, (40, 20, 10, 10))])
    assert track.box_at(4) == Box(0, 0, 10, 10)
    assert track.box_at(5) is None
    assert track.box_at(7) is None
    assert track.box_at(8) == Box(20, 20, 10, 10)
    assert track.box_at(9) == Box(30, 20, 10, 10)
    assert list(track.present_frames()) == [0, 1, 2, 3, 4, 8, 9, 10]
    assert (track.first_frame, track.last_frame) == (0, 10)


def test_keyframes_are_sorted_and_unique():
    track = make_track([(8, (1, 1, 1, 1)), (2, (0, 0, 1, 1))])
    assert [k.frame for k in track.keyframes] == [2, 8]
    with pytest.raises(PlanError):
        make_track([(2, (0, 0, 1, 1)), (2, (1, 1, 1, 1))])


def test_released_tracks_are_not_burned_and_undecided_ones_are():
    video = VideoRef(width=64, height=48, frame_count=30, fps=30.0)
    a = make_track([(0, (0, 0, 5, 5)), (29, (0, 0, 5, 5))])
    b = Track(id="f2", keyframes=[Keyframe(0, Box(9, 9, 5, 5)), Keyframe(29, Box(9, 9, 5, 5))], decision="release")
    plan = Plan(video=video, tracks=[a, b])
    assert [t.id for t, _ in plan.redacted_boxes(3)] == ["f1"]
    assert [t.id for t in plan.undecided()] == ["f1"]


def test_plan_round_trips_through_json(tmp_path):
    video = VideoRef(width=64, height=48, frame_count=30, fps=29.97, sha256="ab" * 32, name="x.mp4")
    plan = Plan(
        video=video,
        tracks=[make_track([(0, (1.5, 2, 3, 4)), (4, None)], possible_minor=True, minor_evidence={"ages": [12]})],
        segments=[Segment(id="s1", start=3, end=9, video="blackout", audio="tone", reason="D3-minor")],
    )
    path = tmp_path / "tracks.json"
    plan.save(path)
    again = Plan.load(path)
    assert again.to_json() == plan.to_json()
    assert again.tracks[0].box_at(2) == Box(1.5, 2, 3, 4)
    assert again.blackout(3) and not again.blackout(9)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(format="other"),
        lambda d: d.update(version=99),
        lambda d: d["tracks"][0].update(decision="maybe"),
        lambda d: d["tracks"][0]["keyframes"][0].update(box=[0, 0, -1, 4]),
        lambda d: d["segments"][0].update(end=999),
        lambda d: d["segments"][0].update(start=5, end=5),
        lambda d: d["tracks"].append(dict(d["tracks"][0])),
    ],
)
def test_malformed_plans_are_refused_with_a_plan_error(mutate):
    video = VideoRef(width=64, height=48, frame_count=30, fps=30.0)
    plan = Plan(video=video, tracks=[make_track([(0, (0, 0, 2, 2))])], segments=[Segment("s1", 0, 5)])
    data = json.loads(plan.dumps())
    mutate(data)
    with pytest.raises(PlanError):
        Plan.from_json(data)


def test_loading_garbage_names_the_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(PlanError, match="bad.json"):
        Plan.load(path)
