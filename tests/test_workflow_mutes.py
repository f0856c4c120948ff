"""Mute and deactivation records (B.2): the finder locates muted stretches and
dropped audio within a few frames; records, confirmation and withdrawal
through the case API, checked by verify."""

from __future__ import annotations

import pytest

from review import CaseError, PermissionDenied
from review.mutes import detect_mutes
from review.verify import verify_case
from tests.review_support import fast_hashing_fixture, ffmpeg, make_case, open_as, password  # noqa: F401
from tests.workflow_support import (
    FPS,
    audio_ends_clip,
    demo_soundtrack_clip,
    dropout_clip,
    muted_clip,
)

FRAME = 1 / FPS
TOLERANCE = 2  # frames


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mute-clips")
    return {
        "muted": muted_clip(folder / "muted.mp4", 3.0, (1.0, 1.6)),
        "ends": audio_ends_clip(folder / "ends.mp4", 3.0, 1.5),
        "dropout": dropout_clip(folder / "dropout.mkv", 3.0, (1.0, 1.8)),
    }


def _close(found, expected_start, expected_end, tolerance=TOLERANCE):
    assert abs(found.start - expected_start) <= tolerance * FRAME, (found, expected_start)
    assert abs(found.end - expected_end) <= tolerance * FRAME, (found, expected_end)
    assert abs(found.start_frame - round(expected_start * FPS)) <= tolerance
    assert abs(found.end_frame - round(expected_end * FPS)) <= tolerance


def test_finds_the_muted_stretch_within_a_few_frames(clips):
    found = detect_mutes(clips["muted"])
    assert [c.kind for c in found] == ["silence"], [c.describe() for c in found]
    _close(found[0], 1.0, 1.6)


def test_finds_the_demo_recipes_muted_stretch(tmp_path):
    from resources.demo_recipe import MUTED

    found = detect_mutes(demo_soundtrack_clip(tmp_path / "demo-sound.mp4"))
    assert [c.kind for c in found] == ["silence"], [c.describe() for c in found]
    _close(found[0], *MUTED)


def test_finds_an_audio_stream_that_ends_early(clips):
    found = detect_mutes(clips["ends"])
    assert [c.kind for c in found] == ["audio_ends"], [c.describe() for c in found]
    _close(found[0], 1.5, 3.0)
    assert found[0].end_frame == 3 * FPS


def test_finds_an_audio_stream_that_drops_out_and_comes_back(clips):
    path, gap_start, gap_end = clips["dropout"]
    found = detect_mutes(path)
    assert [c.kind for c in found] == ["dropout"], [c.describe() for c in found]
    _close(found[0], gap_start, gap_end, tolerance=1)


def test_a_recording_without_sound_is_one_candidate(tmp_path):
    path = tmp_path / "silent-film.mp4"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=160x120:rate={FPS}:duration=1", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", path)
    found = detect_mutes(path)
    assert [(c.kind, c.start_frame, c.end_frame) for c in found] == [("no_audio", 0, FPS)]


def test_a_short_pause_or_a_quiet_tone_is_not_a_mute(tmp_path):
    quiet = tmp_path / "quiet.mp4"
    # A tone at -60 dBFS for 1 s (a quiet room is far above digital silence) and a 0.2 s gap of zeros.
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=160x120:rate={FPS}", "-f", "lavfi",
           "-i", "sine=frequency=300:sample_rate=48000", "-af",
           "volume=0.001,volume=enable='between(t,1.2,1.4)':volume=0", "-t", "2", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", quiet)
    assert detect_mutes(quiet) == []
    assert [c.kind for c in detect_mutes(quiet, min_seconds=0.1)] == ["silence"]


def test_not_a_video_is_a_clear_error(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video")
    with pytest.raises(Exception) as caught:
        detect_mutes(bad)
    assert "notes.mp4" in str(caught.value)


def test_detect_confirm_record_withdraw_through_the_case(tmp_path, clips):
    case = open_as(make_case(tmp_path / "case"), "alice")
    rec = case.ingest(clips["muted"], officer="J. Doe", camera="BWC-7",
                      recorded_at="2026-11-03T14:05:00-07:00").recording
    detection = case.detect_mutes(rec.id)
    assert len(detection.candidates) == 1
    event = case.record_camera_event(rec.id, "mute", candidate=1, stated_reason=None, note="no announcement heard")
    assert (event.source, event.detection_id, event.stated_reason, event.officer) == ("detected", detection.id, None,
                                                                                       "J. Doe")
    assert abs(event.start_seconds - 1.0) < 0.1
    assert event.occurred_at == "2026-11-03T21:05:01Z"  # the recording's start plus the offset
    manual = case.record_camera_event(rec.id, "deactivation", start=2.5, stated_reason="victim interview, privacy",
                                      officer="K. Smith")
    missing = case.record_camera_event(rec.id, "not_activated", note="arrived on scene recording already running late")
    assert missing.occurred_at == "2026-11-03T21:05:00Z"
    with pytest.raises(CaseError, match="no candidate 2"):
        case.record_camera_event(rec.id, "mute", candidate=2)
    with pytest.raises(CaseError, match="outside the recording"):
        case.record_camera_event(rec.id, "mute", start=99.0)
    with pytest.raises(CaseError, match="Unknown kind"):
        case.record_camera_event(rec.id, "paused", start=1.0)
    case.withdraw_camera_event(manual.id, "wrong recording")
    with pytest.raises(CaseError, match="already withdrawn"):
        case.withdraw_camera_event(manual.id, "again")
    events = case.camera_events(rec.id)
    assert [(e.kind, e.withdrawn) for e in events] == [("mute", None), ("deactivation", "wrong recording"),
                                                       ("not_activated", None)]
    for name in ("chief", "audrey", "paul", "admin"):
        case.sign_in(name, password(name))
        with pytest.raises(PermissionDenied, match="record camera muting or deactivation"):
            case.record_camera_event(rec.id, "mute", start=1.0)
        with pytest.raises(PermissionDenied):
            case.detect_mutes(rec.id)
        with pytest.raises(PermissionDenied):
            case.withdraw_camera_event(event.id, "not mine to withdraw")
    case.sign_in("alice", password("alice"))
    denied = [(e.actor, e.payload["permission"]) for e in case.ledger_entries(action="denied")]
    assert denied == [(n, "mute.record") for n in ("chief", "audrey", "paul", "admin") for _ in range(3)]
    case.close()
    report = verify_case(tmp_path / "case", record=False)
    assert report.ok, report.lines()
