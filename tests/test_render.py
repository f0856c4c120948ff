"""Burning a plan into YUV frames: coverage, chroma edges, styles, blackout, preview."""

from __future__ import annotations

import numpy as np
import pytest

from redaction.plan import Box, Keyframe, Plan, Segment, Style, Track, VideoRef
from redaction.render import blackout, box_rect, burn, draw_boxes, needs_render, preview_rgb
from redaction.yuv import YuvFrame, rgb_to_yuv


def textured(width: int = 96, height: int = 64, seed: int = 1) -> YuvFrame:
    rng = np.random.default_rng(seed)
    image = rng.integers(40, 220, size=(height, width, 3), dtype=np.uint8)
    return YuvFrame.from_bgr(image)


def plan_with(boxes: list[Box], width: int = 96, height: int = 64, **track_args) -> Plan:
    tracks = [Track(f"t{i}", [Keyframe(0, b), Keyframe(9, b)], **track_args) for i, b in enumerate(boxes)]
    return Plan(video=VideoRef(width, height, 10, 30.0), tracks=tracks)


def covered_chroma(x0: int, y0: int, x1: int, y1: int) -> tuple[slice, slice]:
    return slice(y0 // 2, (y1 + 1) // 2), slice(x0 // 2, (x1 + 1) // 2)


@pytest.mark.parametrize(
    "box", [Box(10.3, 7.6, 20.2, 11.1), Box(11, 7, 20, 12), Box(0, 0, 3.5, 2.2), Box(80.5, 50.5, 40, 40)]
)
def test_solid_fill_covers_every_touched_pixel_and_its_chroma(box):
    frame = textured()
    original = frame.copy()
    drawn = burn(frame, plan_with([box]), 3)
    assert drawn is frame  # a writable frame is drawn on in place
    x0, y0, x1, y1 = box.pixel_bounds(96, 64)
    assert (drawn.y[y0:y1, x0:x1] == 16).all()
    rows, cols = covered_chroma(x0, y0, x1, y1)
    assert (drawn.u[rows, cols] == 128).all() and (drawn.v[rows, cols] == 128).all()
    # Outside the chroma-aligned rectangle nothing changed.
    ax0, ay0, ax1, ay1 = box_rect(box, 96, 64)
    assert ax0 <= x0 and ay0 <= y0 and ax1 >= x1 and ay1 >= y1
    assert ax1 - x1 <= 1 and x0 - ax0 <= 1
    outside = np.ones((64, 96), bool)
    outside[ay0:ay1, ax0:ax1] = False
    assert np.array_equal(drawn.y[outside], original.y[outside])


def test_no_coloured_fringe_in_rgb_at_odd_edges():
    frame = YuvFrame.from_bgr(np.full((40, 40, 3), (0, 0, 255), np.uint8))  # pure red
    out = preview_rgb(frame, plan_with([Box(5, 5, 10, 10)], 40, 40), 0)
    # Box starts and ends on odd pixels: every covered pixel must be black, not dark red.
    assert out[5:15, 5:15].max() <= 2


def test_burn_leaves_read_only_input_alone_and_skips_clean_frames():
    frame = textured()
    for plane in (frame.y, frame.u, frame.v):
        plane.flags.writeable = False
    plan = plan_with([Box(10, 10, 10, 10)])
    drawn = burn(frame, plan, 0)
    assert drawn is not frame and (drawn.y[10:20, 10:20] == 16).all()
    assert not (frame.y[10:20, 10:20] == 16).all()
    assert burn(frame, plan, 50) is frame  # past the track's last keyframe: nothing to hide
    assert not needs_render(plan, 50) and needs_render(plan, 0)


def test_released_tracks_are_not_drawn_and_undecided_are():
    frame = textured()
    released = plan_with([Box(10, 10, 10, 10)], decision="release")
    assert burn(frame, released, 0) is frame
    undecided = plan_with([Box(10, 10, 10, 10)], decision=None)
    assert (burn(frame.copy(), undecided, 0).y[10:20, 10:20] == 16).all()


def test_boxes_outside_or_partly_outside_the_frame():
    frame = textured()
    plan = plan_with([Box(-20, -20, 10, 10), Box(90.5, 60.5, 30, 30)])
    drawn = burn(frame.copy(), plan, 0)
    assert (drawn.y[60:, 90:] == 16).all()
    assert not (drawn.y[:10, :10] == 16).any()


def test_solid_colour_from_style():
    frame = textured()
    plan = plan_with([Box(20, 20, 16, 16)])
    plan.style = Style("solid", (255, 0, 0))
    out = preview_rgb(frame, plan, 0)
    patch = out[20:36, 20:36].reshape(-1, 3).astype(int)
    assert np.abs(patch - [255, 0, 0]).max() <= 6
    assert rgb_to_yuv((0, 0, 0)) == (16, 128, 128)


def _gradient_energy(plane: np.ndarray) -> float:
    p = plane.astype(np.float64)
    return float((np.diff(p, axis=0) ** 2).sum() + (np.diff(p, axis=1) ** 2).sum())


@pytest.mark.parametrize("kind", ["blur", "pixelate"])
def test_blur_and_pixelate_remove_detail(kind):
    frame = textured(200, 160)
    box = Box(40, 30, 100, 110)
    x0, y0, x1, y1 = box_rect(box, 200, 160)
    before = frame.y[y0:y1, x0:x1].copy()
    draw_boxes(frame, [box], Style(kind))
    after = frame.y[y0:y1, x0:x1]
    # The score kit calls a region hidden below 20% of its gradient energy; be far stronger.
    assert _gradient_energy(after) < 0.02 * _gradient_energy(before)
    assert np.abs(after.astype(int) - before).mean() > 20
    if kind == "pixelate":
        assert len(np.unique(after[:, 0])) <= 6 and len(np.unique(after[0, :])) <= 6


def test_blackout_segment_and_preview_match_burn():
    frame = textured()
    plan = plan_with([Box(10, 10, 10, 10)])
    plan.video = VideoRef(96, 64, 10, 30.0)
    plan.segments = [Segment("s1", 2, 4, video="blackout")]
    out = burn(frame, plan, 3)
    assert (out.y == 16).all() and (out.u == 128).all() and (out.v == 128).all()
    blank = frame.copy()
    blackout(blank)
    assert np.array_equal(blank.y, out.y)
    assert np.array_equal(preview_rgb(frame, plan, 0), burn(frame.copy(), plan, 0).to_rgb())
    assert preview_rgb(frame, plan, 3).max() <= 1


def test_odd_frame_edges():
    frame = YuvFrame.from_bgr(np.full((121, 161, 3), 200, np.uint8))
    assert frame.u.shape == (61, 81)
    drawn = burn(frame, plan_with([Box(150.2, 110.7, 30, 30)], 161, 121), 0)
    assert (drawn.y[110:, 150:] == 16).all()
    assert (drawn.u[55:, 75:] == 128).all()
    assert drawn.to_rgb().shape == (121, 161, 3)
