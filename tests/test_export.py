"""export_release end to end on generated clips: frames, timestamps, pixels, audio, metadata, failures."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from redaction.decode import iter_frames
from redaction.encode import ReleaseWriter
from redaction.errors import Cancelled, ExportError, PlanError
from redaction.export import DEFAULT_PRESET, TONE_HZ, export_release
from redaction.hashing import sha256_file
from redaction.plan import Box, Keyframe, Plan, Segment, Style, Track
from redaction.probe import probe
from redaction.progress import CancelToken
from redaction.render import box_rect
from tests import media

FILL_TOLERANCE = 12  # blackout frames after compression
LOSSLESS = {"crf": 0, "preset": "ultrafast"}  # x264 lossless: release pixels can be compared exactly
ALLOWED_CONTAINER_TAGS = {"major_brand", "minor_version", "compatible_brands"}
ALLOWED_STREAM_TAGS = {"language", "handler_name", "vendor_id"}


def moving_plan(path: Path, segments: list[Segment] | None = None, sha256: str | None = None) -> Plan:
    info = probe(path)
    n, w, h = info.frame_count, info.width, info.height
    face = Track(
        "t1", [Keyframe(0, Box(5.5, 7.3, 40.2, 50.6)), Keyframe(n - 1, Box(w - 60.7, h - 70.1, 50, 60))]
    )
    blink = Track("t2", [Keyframe(3, Box(w / 2, 10, 30.4, 30.4)), Keyframe(12, None)])  # absent from frame 12
    shown = Track("t3", [Keyframe(0, Box(w / 2, h / 2, 20, 20))], decision="release")
    return Plan(video=info.video_ref(sha256), tracks=[face, blink, shown], segments=segments or [])


def assert_boxes_filled(release: Path, plan: Plan, original: Path | None = None) -> None:
    """Every box pixel is black in every frame of the release.

    With ``original`` the release must be lossless (crf 0): box pixels must be
    exactly black and every pixel outside the boxes exactly the original's, which
    also proves no frame moved. Without it, compression may ring near box edges:
    the check is then statistical.
    """
    frames = media.decode_yuv(release)
    assert len(frames) == plan.video.frame_count
    sources = media.decode_yuv(original) if original is not None else None
    checked = 0
    for i, (y, u, v) in enumerate(frames):
        outside = np.ones(y.shape, bool)
        for _track, box in plan.redacted_boxes(i):
            x0, y0, x1, y1 = box.pixel_bounds(y.shape[1], y.shape[0])
            deviation = np.abs(y[y0:y1, x0:x1].astype(int) - 16)
            rows, cols = slice(y0 // 2, (y1 + 1) // 2), slice(x0 // 2, (x1 + 1) // 2)
            chroma = np.abs(np.stack([u[rows, cols], v[rows, cols]]).astype(int) - 128)
            if sources is not None:
                assert deviation.max() == 0 and chroma.max() == 0, f"frame {i}: box {box} not filled"
            else:
                assert deviation.mean() < 4 and np.percentile(deviation, 99) <= 24, f"frame {i}: box {box}"
                assert chroma.mean() < 4, f"frame {i}: box {box} chroma"
            ax0, ay0, ax1, ay1 = box_rect(box, y.shape[1], y.shape[0])
            outside[ay0:ay1, ax0:ax1] = False
            checked += 1
        if sources is not None:
            assert np.array_equal(y[outside], sources[i][0][outside]), f"frame {i} differs outside the boxes"
    assert checked > 0


def assert_clean_metadata(release: Path) -> None:
    info = probe(release)
    assert set(info.tags) <= ALLOWED_CONTAINER_TAGS, info.tags
    for stream in info.streams:
        assert set(stream.tags) <= ALLOWED_STREAM_TAGS, stream.tags
    assert info.chapters == 0
    data = release.read_bytes()
    for word in (*media.SECRET_WORDS, "x264 - core", "Lavf", "Lavc"):
        assert word.encode() not in data, word


def assert_same_timing(original: Path, release: Path) -> None:
    assert media.frame_times(release) == media.frame_times(original)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial" in p.name)


def test_release_keeps_frames_and_timestamps_and_hides_every_box(tmp_path):
    source = media.base_clip()
    out = tmp_path / "release.mp4"
    plan = moving_plan(source)
    result = export_release(source, plan, out, **LOSSLESS)
    assert result.frame_count == 60 and result.has_audio and result.frames_burned == 60
    assert media.stream_types(out) == ["video", "audio"]
    assert_same_timing(source, out)
    assert len(media.decode_gray(out)) == len(media.decode_gray(source))
    assert_boxes_filled(out, plan, original=source)
    # The released track stays visible: its area still looks like the original.
    original, release = media.decode_gray(source), media.decode_gray(out)
    assert np.abs(original[20, 120:140, 160:180].astype(int) - release[20, 120:140, 160:180]).mean() < 8
    assert_clean_metadata(out)
    assert oct(out.stat().st_mode & 0o777) != oct(0o600)
    assert leftovers(tmp_path) == []


def test_default_quality_release_still_hides_every_box(tmp_path):
    source = media.base_clip()
    out = tmp_path / "release.mp4"
    plan = moving_plan(source)
    result = export_release(source, plan, out)
    assert (result.encoder["preset"], result.encoder["crf"]) == (DEFAULT_PRESET, 23)
    assert_boxes_filled(out, plan)


def test_blackout_and_audio_mute_and_tone_are_frame_accurate(tmp_path):
    source = media.base_clip()
    info = probe(source)
    segments = [
        Segment("s1", 10, 16, video="blackout"),
        Segment("s2", 30, 45, video=None, audio="mute"),
        Segment("s3", 48, 57, video=None, audio="tone"),
    ]
    plan = moving_plan(source, segments)
    out = tmp_path / "release.mp4"
    export_release(source, plan, out)
    luma = media.decode_gray(out)
    for i in range(60):
        if 10 <= i < 16:
            assert luma[i].max() <= 16 + FILL_TOLERANCE, f"frame {i} not blacked out"
        else:
            assert luma[i].mean() > 40, f"frame {i} blacked out by mistake"

    rate = 48000
    before, after = media.decode_audio(source, rate), media.decode_audio(out, rate)
    tb = info.timebase

    def window(a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
        return before[int(a * rate) : int(b * rate)], after[int(a * rate) : int(b * rate)]

    def rms(x: np.ndarray) -> float:
        return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))

    edge = 0.03  # AAC frames (21 ms) smear a boundary by less than this
    mute_a, mute_b = tb.pts_seconds(30), tb.pts_seconds(45)
    _, muted = window(mute_a + edge, mute_b - edge)
    assert rms(muted) < 1e-3
    for a, b in [(0.05, mute_a - edge), (mute_b + edge, tb.pts_seconds(48) - edge)]:
        orig, kept = window(a, b)
        assert rms(kept) > 0.7 * rms(orig) > 0, (a, b)
    tone_a, tone_b = tb.pts_seconds(48), tb.pts_seconds(57)
    _, toned = window(tone_a + edge, tone_b - edge)
    spectrum = np.abs(np.fft.rfft(toned))
    assert abs(np.fft.rfftfreq(len(toned), 1 / rate)[spectrum.argmax()] - TONE_HZ) < 20
    orig, kept = window(tone_b + edge, 1.95)
    assert rms(kept) > 0.7 * rms(orig)
    # The frame before the segment still has its sound: the mute starts on the segment's first frame.
    orig, lead_in = window(mute_a - 1 / 30, mute_a - edge)
    assert rms(lead_in) > 0.5 * rms(orig) > 0


@pytest.mark.parametrize("clip", [media.extras_clip, media.mkv_clip])
def test_extra_streams_chapters_and_tags_are_dropped(clip, tmp_path):
    source = clip()
    assert len(probe(source).streams) > 2
    out = tmp_path / "release.mp4"
    export_release(source, moving_plan(source), out)
    assert media.stream_types(out) == ["video", "audio"]
    assert_clean_metadata(out)
    assert_same_timing(source, out)


def test_variable_frame_rate_timestamps_survive(tmp_path):
    source = media.vfr_clip()
    assert probe(source).video.variable_frame_rate
    out = tmp_path / "release.mp4"
    plan = moving_plan(source)
    export_release(source, plan, out)
    assert_same_timing(source, out)
    assert probe(out).video.variable_frame_rate
    # A plain re-encode does not keep them; this is what the pipeline is for.
    plain = tmp_path / "plain.mp4"
    media.ffmpeg("-i", source, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", plain)
    assert media.frame_times(plain) != media.frame_times(source)


def test_edit_list_cut_keeps_only_visible_frames(tmp_path):
    source = media.cut_clip()
    out = tmp_path / "release.mp4"
    plan = moving_plan(source)
    export_release(source, plan, out, **LOSSLESS)
    assert_same_timing(source, out)
    assert_boxes_filled(out, plan, original=source)


@pytest.mark.parametrize("degrees", [90, 270])
def test_rotated_source_is_released_upright_at_its_displayed_size(degrees, tmp_path):
    source = media.rotated_clip(degrees)
    out = tmp_path / "release.mp4"
    plan = moving_plan(source)
    export_release(source, plan, out, **LOSSLESS)
    info = probe(out)
    assert info.video.rotation == 0
    assert (info.width, info.height) == (240, 320) == media.video_size(out)
    # Lossless and compared with the ffmpeg CLI's autorotated decode: same orientation, same pixels.
    assert_boxes_filled(out, plan, original=source)


def test_odd_size_keeps_its_size(tmp_path):
    source = media.odd_clip()
    out = tmp_path / "release.mp4"
    plan = moving_plan(source)
    export_release(source, plan, out, **LOSSLESS)
    assert media.video_size(out) == (161, 121)
    assert probe(out).frame_count == probe(source).frame_count
    assert_boxes_filled(out, plan, original=source)


def test_video_without_audio(tmp_path):
    source = media.silent_clip()
    out = tmp_path / "release.mp4"
    result = export_release(source, moving_plan(source), out)
    assert not result.has_audio
    assert media.stream_types(out) == ["video"]


@pytest.mark.parametrize("kind", ["blur", "pixelate"])
def test_optional_styles_still_hide_the_box(kind, tmp_path):
    source = media.noisy_clip()
    out = tmp_path / "release.mp4"
    box = Box(100, 60, 120, 120)
    plan = Plan(video=probe(source).video_ref(), tracks=[Track("t", [Keyframe(0, box), Keyframe(29, box)])])
    export_release(source, plan, out, style=Style(kind))
    original, release = media.decode_gray(source), media.decode_gray(out)
    for i in (0, 15, 29):
        a = original[i, 64:176, 104:216].astype(float)
        b = release[i, 64:176, 104:216].astype(float)

        def energy(x: np.ndarray) -> float:
            return float((np.diff(x, axis=0) ** 2).sum() + (np.diff(x, axis=1) ** 2).sum())

        assert energy(b) < 0.2 * energy(a)


def test_plan_for_another_video_writes_nothing(tmp_path):
    out = tmp_path / "release.mp4"
    wrong_size = moving_plan(media.odd_clip())
    with pytest.raises(PlanError, match="161x121"):
        export_release(media.base_clip(), wrong_size, out)
    wrong_length = moving_plan(media.cut_clip())
    with pytest.raises(PlanError, match="frames"):
        export_release(media.base_clip(), wrong_length, out)
    wrong_hash = moving_plan(media.base_clip(), sha256="0" * 64)
    with pytest.raises(PlanError, match="SHA-256"):
        export_release(media.base_clip(), wrong_hash, out)
    assert list(tmp_path.iterdir()) == []


def test_right_hash_is_accepted_and_original_is_untouched(tmp_path):
    source = tmp_path / "original.mp4"
    source.write_bytes(media.base_clip().read_bytes())
    source.chmod(0o444)
    digest = sha256_file(source)
    result = export_release(source, moving_plan(source, sha256=digest), tmp_path / "release.mp4")
    assert result.source_sha256 == digest
    assert sha256_file(source) == digest
    assert source.stat().st_mode & 0o777 == 0o444
    with pytest.raises(ExportError, match="over the original"):
        export_release(source, moving_plan(source), source)


def test_missing_folder_and_bad_settings(tmp_path):
    plan = moving_plan(media.base_clip())
    with pytest.raises(ExportError, match="does not exist"):
        export_release(media.base_clip(), plan, tmp_path / "nowhere" / "release.mp4")
    with pytest.raises(ExportError, match="preset"):
        export_release(media.base_clip(), plan, tmp_path / "r.mp4", preset="warp")
    assert list(tmp_path.iterdir()) == []


def test_cancel_leaves_nothing_and_stops_ffmpeg(tmp_path):
    token = CancelToken()
    seen = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if done == 10:
            token.cancel()

    out = tmp_path / "release.mp4"
    before = set(threading.enumerate())
    with pytest.raises(Cancelled):
        export_release(
            media.base_clip(), moving_plan(media.base_clip()), out, progress=progress, cancel=token
        )
    assert max(seen) <= 11
    assert list(tmp_path.iterdir()) == []
    assert set(threading.enumerate()) <= before
    children = subprocess.run(
        ["pgrep", "-P", str(os.getpid())], capture_output=True, text=True
    ).stdout.split()
    assert children == [], "ffmpeg was left running"


SANDBOX_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from redaction.errors import ExportError
from redaction.export import export_release
from redaction.plan import Plan
plan = Plan.load({plan!r})
try:
    export_release({source!r}, plan, {out!r})
except ExportError as error:
    print("ExportError:", error)
else:
    print("no error")
"""


def _run_in_mount_namespace(tmp_path: Path, mount: str, out: Path) -> str:
    """Run an export inside a private mount namespace where ``out``'s folder is a special mount.

    ``unshare --user --map-root-user --mount`` lets the test mount a tiny or
    read-only tmpfs without privileges on the real machine.
    """
    plan_file = tmp_path / "plan.json"
    moving_plan(media.base_clip()).save(plan_file)
    folder = out.parent
    folder.mkdir()
    script = SANDBOX_SCRIPT.format(
        root=str(Path(__file__).resolve().parent.parent),
        plan=str(plan_file),
        source=str(media.base_clip()),
        out=str(out),
    )
    shell = f"{mount} {folder} && {sys.executable} -c {_quote(script)} && ls -A {folder}"
    result = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", shell], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _quote(text: str) -> str:
    return "'" + textwrap.dedent(text).replace("'", "'\"'\"'") + "'"


def test_full_disk_is_a_clear_error_and_leaves_nothing(tmp_path):
    out = tmp_path / "small" / "release.mp4"
    stdout = _run_in_mount_namespace(tmp_path, "mount -t tmpfs -o size=48k tmpfs", out)
    lines = stdout.strip().splitlines()
    assert lines == [f"ExportError: The disk is full; could not write {out}."], stdout


def test_read_only_folder_is_a_clear_error(tmp_path):
    out = tmp_path / "locked" / "release.mp4"
    stdout = _run_in_mount_namespace(tmp_path, "mount -t tmpfs -o ro tmpfs", out)
    assert stdout.strip().splitlines() == [f"ExportError: Permission denied; could not write {out}."], stdout


def test_full_range_source_is_released_in_standard_range(tmp_path):
    source = media.full_range_clip()
    info = probe(source)
    assert info.video.full_range
    out = tmp_path / "release.mp4"
    plan = Plan(video=info.video_ref(), segments=[Segment("s", 0, 3, video="blackout")])
    export_release(source, plan, out)
    released = probe(out)
    assert released.video.pix_fmt == "yuv420p" and not released.video.full_range
    luma = media.decode_gray(out)
    assert abs(int(media.decode_yuv(out)[0][0].mean()) - 16) <= 2  # limited-range black, not Y=0
    # The picture itself keeps its brightness as the ffmpeg CLI shows it (both converted to gray).
    assert np.abs(media.decode_gray(source)[5].astype(int) - luma[5]).mean() < 4


def test_pixel_aspect_ratio_is_kept(tmp_path):
    source = media.anamorphic_clip()
    assert probe(source).video.sample_aspect_ratio == Fraction(4, 3)
    out = tmp_path / "release.mp4"
    export_release(source, Plan(video=probe(source).video_ref()), out)
    assert probe(out).video.sample_aspect_ratio == Fraction(4, 3)


def test_release_writer_streaming_api(tmp_path):
    source = media.base_clip()
    info = probe(source)
    out = tmp_path / "streamed.mp4"
    with ReleaseWriter(info, out, preset="ultrafast", crf=0) as writer:
        for _index, frame in iter_frames(info):
            drawn = frame.writable()
            drawn.y[:8, :8] = 16  # something only this caller draws
            writer.write(drawn)
    assert writer.frames_written == 60 and out.exists()
    assert_same_timing(source, out)
    assert all((y[:8, :8] == 16).all() for y, _u, _v in media.decode_yuv(out))

    with (
        pytest.raises(ValueError, match="expected frame 0"),
        ReleaseWriter(info, tmp_path / "a.mp4") as writer,
    ):
        _, frame = next(iter(iter_frames(info, start=5)))
        writer.write(frame)
    with pytest.raises(ExportError, match="Only 10 of 60"), ReleaseWriter(info, tmp_path / "b.mp4") as writer:
        for _index, frame in iter_frames(info, end=10):
            writer.write(frame)
    with pytest.raises(RuntimeError, match="boom"), ReleaseWriter(info, tmp_path / "c.mp4") as writer:
        raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["streamed.mp4"]


def test_transport_stream_clock_is_moved_to_zero_keeping_every_frame_time(tmp_path):
    source = media.ts_clip()
    info = probe(source)
    assert info.start_time > 1
    out = tmp_path / "release.mp4"
    export_release(source, moving_plan(source), out)
    before, after = media.frame_times(source), media.frame_times(out)
    assert len(before) == len(after) == info.frame_count
    shift = after[0] - before[0]
    assert abs(shift + info.start_time) < Fraction(1, 1000)  # the container clock now starts at zero
    assert np.array_equal(np.diff(np.array(before, dtype=object)), np.diff(np.array(after, dtype=object)))
    assert after[0] < Fraction(1, 10)


def test_ffmpeg_errors_become_one_sentence():
    from redaction.ffmpeg_bin import explain

    out = Path("/cases/release.mp4")
    tail = "[out#0/mp4 @ 0x55d2] Error writing trailer: No space left on device\nConversion failed!\n"
    assert explain(tail, output=out) == f"The disk is full; could not write {out}."
    assert explain("x.mp4: Permission denied\n", output=out) == f"Permission denied; could not write {out}."
    generic = "[aac @ 0x1234abcd] Unsupported channel layout 'weird'.\nConversion failed!\n"
    assert explain(generic, action="Export failed") == "Export failed: Unsupported channel layout 'weird'."
    assert explain("", action="Export failed") == "Export failed: no reason given."
