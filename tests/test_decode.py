"""Frame-exact decoding: sequential, random access, rotation, and the timestamp check."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from redaction.decode import FrameReader, iter_frames
from redaction.errors import Cancelled, InputError
from redaction.probe import Timebase, probe
from redaction.progress import CancelToken
from redaction.yuv import YuvFrame
from tests import media


def _planes(path):
    return {i: (f.y.copy(), f.u.copy(), f.v.copy()) for i, f in iter_frames(path)}


@pytest.mark.parametrize(
    "clip",
    [media.base_clip, media.cut_clip, media.vfr_clip, media.rotated_clip, lambda: media.rotated_clip(270)],
)
def test_sequential_frames_match_ffmpeg_cli(clip):
    path = clip()
    ours = _planes(path)
    theirs = media.decode_yuv(path)
    if not probe(path).video.variable_frame_rate:  # the CLI re-times VFR to a constant rate
        assert len(theirs) == len(ours)
    assert sorted(ours) == list(range(len(ours)))
    for i in range(len(ours) if len(theirs) == len(ours) else 1):
        for mine, ref in zip(ours[i], theirs[i], strict=True):
            assert np.array_equal(mine, ref), f"frame {i} differs"


def test_odd_size_444_source_becomes_420_with_ceil_chroma():
    frames = list(iter_frames(media.odd_clip()))
    assert len(frames) == 45
    index, frame = frames[10]
    assert index == 10
    assert frame.y.shape == (121, 161) and frame.u.shape == (61, 81) and frame.v.shape == (61, 81)
    reference = media.decode_yuv(media.odd_clip())[10]
    assert np.array_equal(frame.y, reference[0])
    # Chroma went through two different 4:4:4 -> 4:2:0 resamplers: close on average, not equal.
    assert np.abs(frame.u.astype(int) - reference[1]).mean() < 6


def test_bgr_and_rgb_outputs_and_crops():
    path = media.base_clip()
    yuv = dict(iter_frames(path, end=5))
    bgr = dict(iter_frames(path, output="bgr", end=5))
    rgb = dict(iter_frames(path, output="rgb", end=5))
    assert sorted(bgr) == [0, 1, 2, 3, 4]
    for i in range(5):
        assert bgr[i].shape == (240, 320, 3) and bgr[i].dtype == np.uint8
        assert np.array_equal(bgr[i], yuv[i].to_bgr())
        assert np.abs(rgb[i].astype(int) - bgr[i][:, :, ::-1]).max() <= 1
    full = yuv[2].to_bgr()
    rng = random.Random(3)
    for _ in range(40):
        x0, y0 = rng.randrange(0, 319), rng.randrange(0, 239)
        x1, y1 = rng.randrange(x0 + 1, 321), rng.randrange(y0 + 1, 241)
        assert np.array_equal(yuv[2].to_bgr((x0, y0, x1, y1)), full[y0:y1, x0:x1]), (x0, y0, x1, y1)


def test_crop_on_odd_frame_edges():
    _, frame = next(iter(iter_frames(media.odd_clip())))
    full = frame.to_bgr()
    assert full.shape == (121, 161, 3)
    assert np.array_equal(frame.to_bgr((150, 110, 161, 121)), full[110:121, 150:161])
    assert np.array_equal(frame.to_bgr((3, 5, 4, 6)), full[5:6, 3:4])


def test_frames_are_read_only_views_and_writable_copies_are_independent():
    frames = iter_frames(media.base_clip())
    _, first = next(frames)
    with pytest.raises(ValueError):
        first.y[0, 0] = 0
    before = first.y.copy()
    drawn = first.writable()
    assert drawn is not first and drawn.is_writable
    drawn.y[:] = 0
    assert np.array_equal(first.y, before)
    assert drawn.to_av().pts == first.pts
    # The decoder carries on unharmed (its reference pictures were not touched).
    _, second = next(frames)
    assert np.array_equal(second.y, media.decode_yuv(media.base_clip())[1][0])


def test_start_end_progress_and_cancel():
    path = media.base_clip()
    everything = _planes(path)
    calls = []
    part = list(iter_frames(path, start=37, end=45, progress=lambda d, t: calls.append((d, t))))
    assert [i for i, _ in part] == list(range(37, 45))
    for i, frame in part:
        assert np.array_equal(frame.y, everything[i][0])
    assert calls[-1] == (8, 8) and len(calls) == 8

    token = CancelToken()
    seen = []
    with pytest.raises(Cancelled):
        for i, _ in iter_frames(path, cancel=token):
            seen.append(i)
            if i == 4:
                token.cancel()
    assert seen == [0, 1, 2, 3, 4]


def test_timestamp_mismatch_is_an_error_not_a_shift():
    info = probe(media.base_clip())
    pts = info.timebase.pts_array.copy()
    pts[30:] += 1  # the table says frame 30 is one tick later than the decoder will say
    shifted = dataclasses.replace(info, timebase=Timebase(pts, info.timebase.time_base))
    with pytest.raises(InputError, match="frame 30 decoded with timestamp"):
        for _ in iter_frames(shifted):
            pass


def test_missing_frames_at_the_end_are_an_error():
    info = probe(media.base_clip())
    pts = list(info.timebase.pts_array) + [int(info.timebase.end_pts)]
    video = dataclasses.replace(info.video, frame_count=61)
    longer = dataclasses.replace(info, video=video, timebase=Timebase(pts, info.timebase.time_base))
    with pytest.raises(InputError, match="only 60 of its 61 frames"):
        for _ in iter_frames(longer):
            pass


@pytest.mark.parametrize("clip", [media.base_clip, media.vfr_clip, media.cut_clip, media.rotated_clip])
def test_random_access_gives_the_exact_frame(clip):
    path = clip()
    everything = _planes(path)
    order = list(everything)
    random.Random(7).shuffle(order)
    with FrameReader(path, cache_size=4) as reader:
        for i in order[:25] + [3, 2, 1, 0, len(order) - 1]:
            frame = reader.read(i)
            assert frame.index == i
            assert np.array_equal(frame.y, everything[i][0]), f"frame {i}"
            assert np.array_equal(frame.v, everything[i][2]), f"frame {i}"
        assert len(reader._cache) <= 4
        with pytest.raises(IndexError):
            reader.read(len(order))


def test_sequential_reads_do_not_seek_and_recent_frames_are_cached():
    with FrameReader(media.base_clip(), cache_size=8) as reader:
        for i in range(20, 40):
            reader.read(i)
        assert reader.seeks == 1
        for i in range(39, 31, -1):  # stepping back within the cache
            assert reader.read(i).index == i
        assert reader.seeks == 1
        reader.read(5)
        assert reader.seeks == 2
        frame = reader.read(6)
        assert isinstance(frame, YuvFrame) and reader.seeks == 2
        assert reader.read_rgb(6).shape == (240, 320, 3)


@pytest.mark.parametrize("clip", [media.base_clip, media.vfr_clip])
def test_stepping_backwards_seeks_once_per_keyframe_interval_and_stays_exact(clip):
    path = clip()
    everything = _planes(path)
    last = len(everything) - 1
    with FrameReader(path, cache_size=32) as reader:
        reader.read(last)
        for i in range(last - 1, -1, -1):  # reverse play over the whole clip
            frame = reader.read(i)
            assert frame.index == i
            assert np.array_equal(frame.y, everything[i][0]), f"frame {i}"
            assert np.array_equal(frame.u, everything[i][1]), f"frame {i}"
        keyframes = len(probe(path).keyframes)
        # One seek per keyframe interval (plus the first jump), not one per frame.
        assert reader.seeks <= keyframes + 1 < len(everything) // 4
