"""probe(): stream inventory, displayed size, frame rates and the frame timestamp table."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from redaction.errors import InputError
from redaction.probe import Timebase, format_timecode, probe
from tests import media


def test_plain_clip_with_audio():
    info = probe(media.base_clip())
    assert info.kinds() == ["video", "audio"]
    assert (info.width, info.height) == (320, 240)
    assert info.video.rotation == 0
    assert info.video.codec == "h264"
    assert info.video.pix_fmt == "yuv420p"
    assert info.frame_count == 60
    assert info.video.nominal_fps == pytest.approx(30)
    assert info.fps == pytest.approx(30)
    assert not info.video.variable_frame_rate
    assert info.duration == pytest.approx(2.0, abs=0.05)
    (audio,) = info.audio
    assert (audio.codec, audio.sample_rate, audio.channels) == ("aac", 48000, 1)
    assert info.main_audio == audio
    ref = info.video_ref("ab" * 32)
    assert (ref.width, ref.height, ref.frame_count, ref.sha256) == (320, 240, 60, "ab" * 32)


@pytest.mark.parametrize(
    "clip",
    [media.base_clip, media.vfr_clip, media.cut_clip, media.rotated_clip, media.odd_clip, media.mkv_clip],
)
def test_timestamp_table_is_what_the_decoder_yields(clip):
    path = clip()
    info = probe(path)
    tb = info.timebase
    table = [Fraction(tb.pts(i)) * tb.time_base for i in range(len(tb))]
    assert table == media.frame_times(path)
    # ...and the ffmpeg command line (the score tool) sees the same number of frames.
    if not info.video.variable_frame_rate:
        assert len(media.decode_gray(path)) == info.frame_count


def test_variable_frame_rate_is_detected():
    info = probe(media.vfr_clip())
    assert info.video.variable_frame_rate
    steps = {round(info.timebase.frame_duration(i), 4) for i in range(info.frame_count - 1)}
    assert len(steps) >= 2
    assert not probe(media.base_clip()).video.variable_frame_rate


def test_edit_list_hides_pre_roll_frames():
    # The stream-copy cut from 0.5 s keeps the whole first GOP in the file, but its edit list
    # shows only the 45 frames after the cut point: those are the video's frames.
    info = probe(media.cut_clip())
    assert info.frame_count == 45
    assert info.timebase.seconds(0) == 0
    assert len(media.decode_gray(media.cut_clip())) == 45


@pytest.mark.parametrize("degrees", [90, 270])
def test_rotation_gives_displayed_size(degrees):
    info = probe(media.rotated_clip(degrees))
    assert info.video.rotation == degrees
    assert (info.width, info.height) == (240, 320)
    assert (info.video.coded_width, info.video.coded_height) == (320, 240)
    assert media.video_size(media.rotated_clip(degrees)) == (240, 320)


def test_odd_size():
    info = probe(media.odd_clip())
    assert (info.width, info.height) == (161, 121)
    assert info.video.pix_fmt == "yuv444p"


def test_inventory_of_extra_streams_and_tags():
    info = probe(media.extras_clip())
    kinds = info.kinds()
    assert kinds[:2] == ["video", "audio"]
    assert {"subtitle", "data", "cover_art"} <= set(kinds)
    assert info.video.index == 0  # the cover picture is not mistaken for the footage
    assert info.chapters == 2
    assert info.tags["title"] == media.SECRET_TAGS["title"]
    assert "40.7128" in info.tags["location"]
    assert "BWC-SN-0042" in info.tags["comment"]
    assert "creation_time" in info.tags
    assert "BWC-SN-0042" in info.video.tags.get("name", "") + info.video.tags.get("title", "")

    mkv = probe(media.mkv_clip())
    assert {"attachment", "cover_art", "subtitle"} <= set(mkv.kinds())
    assert mkv.tags.get("SERIAL") == "BWC-SN-0042"
    assert mkv.video.time_base == Fraction(1, 1000)


def test_timebase_conversions():
    tb = Timebase([0, 512, 1024, 1536, 2048], Fraction(1, 15360))
    assert len(tb) == 5
    assert tb.seconds(3) == pytest.approx(0.1)
    assert tb.seconds(5) == pytest.approx(5 / 30)  # the end of the last frame
    assert tb.frame_at(0.0) == 0
    assert tb.frame_at(0.05) == 1  # frame 1 is on screen from 1/30 s to 2/30 s
    assert tb.frame_at(99) == 4
    assert tb.nearest_frame(0.05) == 1
    assert tb.nearest_frame(0.06) == 2
    assert tb.nearest_frame(-3) == 0
    assert tb.timecode(1) == "00:00:00.033"
    assert tb.label(3) == "00:00:00.100 / frame 3"
    assert tb.index_of_pts(1024) == 2
    assert tb.index_of_pts(1000) is None
    assert not tb.is_variable


def test_timebase_rounding_jitter_is_not_variable_but_real_gaps_are():
    jitter = Timebase([0, 33, 67, 100, 133, 167, 200], Fraction(1, 1000))  # 30 fps on a millisecond clock
    assert not jitter.is_variable
    gaps = Timebase([0, 33, 67, 150, 183, 217], Fraction(1, 1000))
    assert gaps.is_variable


def test_timecode_format():
    assert format_timecode(0) == "00:00:00.000"
    assert format_timecode(3723.4567) == "01:02:03.456"
    assert format_timecode(1 / 30) == "00:00:00.033"
    assert format_timecode(36000) == "10:00:00.000"


def _bad_inputs(tmp: Path) -> dict[str, tuple[Path, str]]:
    text = tmp / "notes.mp4"
    text.write_text("This is not a video.\n", encoding="utf-8")
    empty = tmp / "empty.mp4"
    empty.write_bytes(b"")
    data = media.base_clip().read_bytes()
    moov_at_end = tmp / "cut_short.mp4"  # recording stopped before the index was written
    moov_at_end.write_bytes(data[: len(data) // 2])
    faststart = tmp / "faststart.mp4"
    media.ffmpeg("-i", media.base_clip(), "-c", "copy", "-movflags", "+faststart", faststart)
    truncated = tmp / "truncated.mp4"  # index intact, half the frames missing
    truncated.write_bytes(faststart.read_bytes()[: faststart.stat().st_size // 2])
    junk = tmp / "junk.mp4"
    junk.write_bytes(bytes(range(256)) * 64)
    audio = tmp / "voice.m4a"
    media.ffmpeg("-f", "lavfi", "-i", "sine", "-t", "0.5", audio)
    image = tmp / "still.png"
    media.ffmpeg("-f", "lavfi", "-i", "color=red:size=32x32", "-frames:v", "1", image)
    return {
        "text": (text, "text file"),
        "empty": (empty, "empty"),
        "moov missing": (moov_at_end, "not a readable video"),
        "truncated": (truncated, "incomplete or damaged"),
        "junk": (junk, "not a readable video"),
        "missing": (tmp / "nowhere.mp4", "no such file"),
        "directory": (tmp, "folder"),
        "audio only": (audio, "no video stream"),
        "still image": (image, "still image"),
    }


def test_bad_inputs_give_one_sentence_naming_the_file(tmp_path):
    for label, (path, reason) in _bad_inputs(tmp_path).items():
        with pytest.raises(InputError) as caught:
            probe(path)
        message = str(caught.value)
        assert str(path) in message, label
        assert reason in message, (label, message)
        assert "\n" not in message and message.endswith("."), (label, message)


def test_truncated_file_is_still_rejected_by_the_ffmpeg_cli_too(tmp_path):
    # Sanity check of the fixture: the half file really is broken for ffmpeg as well.
    path = _bad_inputs(tmp_path)["truncated"][0]
    frames = subprocess.run(
        [media.ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    assert frames.returncode != 0 or frames.stderr
