"""Link detections into face tracks and carry each face through every frame.

One pass over the video, frame by frame, constant memory:

1. Optical flow moves every live track from the previous frame to this one
   (``redaction.motion``); where the face's own points fail (blur, shake) the
   box follows the camera's motion plus the face's own recent drift.
2. The detector looks at this frame's slice of the sweep (``schedule``) and
   at a crop around every track due for re-detection.
3. Detections re-anchor the tracks they overlap (a weak first detection must
   be confirmed by the other model); the others start new tracks.
4. A few frames after it starts (once its motion is known), a new track is
   carried *backwards* through the last three seconds of frames (kept as
   flow pyramids) to where the face entered the picture, because it may have
   been visible before the sweep reached it; it stops where the picture no
   longer looks like the face.
5. A track that leaves the picture is followed with the camera for a few
   seconds (the officer may turn back). One the detector keeps missing is
   *lost*: its box ends where the face was last seen, but for three seconds a
   sure detection where it should be brings it back, bridging the gap (a weak
   one there starts a new track, which must be confirmed first).

The output is, per track, a face box on every frame it covers, with how sure
we are (frames since the detector last confirmed it). Turning that into
padded redaction boxes and keyframes is ``redaction.faces``'s job.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

import numpy as np

from .detect import (
    MOSAIC_MAX_SIDE,
    Detection,
    FaceDetector,
    ParallelDetector,
    Region,
    RgbSource,
    non_max_suppression,
)
from .motion import (
    SMALL_FACE,
    GrayPyramid,
    Similarity,
    camera_motion,
    face_look,
    follow_box,
    follow_small,
    likeness,
    novelty,
)
from .plan import Box
from .schedule import Sweep, default_levels


@dataclass(frozen=True, slots=True)
class _Past:
    index: int
    pyramid: GrayPyramid
    camera: Similarity  # motion from the previous frame into this one

    @property
    def gray(self) -> np.ndarray:
        return self.pyramid.full


@dataclass
class TrackerParams:
    # Frames between re-detections of a tracked face. Its crop also sees the faces around
    # it: at 3 rather than 4, a face that peeks out beside it for two frames is caught
    # more often (22 generated cases: uncovered face-frames 54 -> 32, longest leak 18 -> 7).
    refresh_every: int = 3
    max_misses: int = 4  # consecutive failed re-detections that end a track
    tail_frames: int = 8  # frames kept after the last confirmation of an ended track
    offscreen_seconds: float = 5.0  # how long a face that left the picture is expected back
    detectable_share: float = 0.6  # a face less inside the picture than this cannot be re-detected
    gone_below: float = 0.4  # a box whose picture correlates less than this with the face ...
    gone_frames: int = 4  # ... for this many frames in a row no longer holds it (carrying back)
    shrink_limit: float = 0.8  # a detection may shrink a track's box at most this much at once
    revive_seconds: float = 3.0  # a lost face found again near where it should be within this keeps its track
    revive_every: int = 6  # frames between looks at where a lost face should be
    bridge_seconds: float = 1.0  # the longest gap a found-again face is carried back over
    back_seconds: float = 3.0  # the most a new track may be carried backwards
    back_sweeps: float = 1.5  # ... and no more than this many sweeps of the level that found it
    back_margin: int = 6
    back_after: int = 4  # frames a new track is followed forward first, to learn how it moves
    back_blind: int = 8  # carrying back stops after this many frames in a row the face could not be seen
    min_new_score: float = 0.5
    sure_score: float = 0.75  # a new track from a weaker detection must be found again ...
    tentative_misses: int = 2  # ... by a full-range look at it before this many fail, or it is dropped
    crop_factor: float = 2.6  # re-detection crop side / face size
    sample_crops: int = 6  # face crops kept per track for age estimation


@dataclass
class FaceObservation:
    frame: int
    box: Box  # whole-face box (see Detection.face_box)
    since_detection: int  # 0 on a frame where the detector confirmed it
    reliable: bool  # the face's own points moved it (not only camera motion)


@dataclass
class FaceTrack:
    id: int
    observations: dict[int, FaceObservation] = field(default_factory=dict)
    scores: list[float] = field(default_factory=list)
    found_by: str = ""  # the sweep level (or "refresh") whose detection started it
    confirmed: bool = True  # False until a weak first detection is seen again
    last_detection: int = -1
    drift: tuple[float, float] = (0.0, 0.0)  # the face's own motion, px/frame, beyond the camera's
    misses: int = 0  # consecutive re-detections that found nothing
    last_attempt: int = -1
    trusted: int = -1  # last frame we had reason to believe the face was there
    offscreen_since: int | None = None
    lost_since: int | None = None  # ended by misses; may still be found again (see ``ghost``)
    ghost: Box | None = None  # where a lost face would be now, following the camera
    look: np.ndarray | None = None  # appearance at the last detection
    unlike_since: int | None = None  # first of the frames in a row whose box no longer looks like the face
    carry: tuple[int, int] | None = None  # (frame, reach) of a carry-back still to do
    crops: list[tuple[float, int, np.ndarray]] = field(default_factory=list)  # (score, frame, RGB)
    alive: bool = True

    def box(self, frame: int) -> Box | None:
        obs = self.observations.get(frame)
        return obs.box if obs else None

    @property
    def first_frame(self) -> int:
        return min(self.observations)

    @property
    def last_frame(self) -> int:
        return max(self.observations)


class FaceTracker:
    def __init__(
        self,
        width: int,
        height: int,
        fps: float,
        detector: FaceDetector | ParallelDetector,
        params: TrackerParams | None = None,
    ) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.detector = detector
        self.params = params or TrackerParams()
        self.sweep = Sweep(width, height, default_levels(width, height, fps))
        self.tracks: list[FaceTrack] = []
        self._next_id = 1
        self._back = max(1, round(self.params.back_seconds * fps))
        # Recent frames (luma, and shrunk for camera motion) and the camera motion into each,
        # for carrying new tracks back. Bounded: memory does not grow with the clip.
        self._history: collections.deque[_Past] = collections.deque(
            maxlen=self._back + self.params.back_after + 1
        )
        self._offscreen_limit = max(1, round(self.params.offscreen_seconds * fps))
        self._revive_limit = max(1, round(self.params.revive_seconds * fps))
        self._bridge = max(1, round(self.params.bridge_seconds * fps))
        self.index = -1

    @property
    def reach(self) -> int:
        """How many frames back a new detection can still add boxes (carry-back, done a few frames late)."""
        return self._back + self.params.back_after

    # -- per frame -----------------------------------------------------------------------------------
    def process(self, index: int, frame: RgbSource, gray: np.ndarray) -> None:
        self.index = index
        # The history keeps views of the decoder's planes: each holds its frame's buffer, which the
        # decoder does not reuse while referenced, so no copy is needed.
        pyramid = GrayPyramid(gray)
        live = [t for t in self.tracks if t.alive]
        camera = Similarity.identity()
        self._change = None
        if self._history:
            prev = self._history[-1]
            camera = camera_motion(prev.pyramid, pyramid)
            self._change = novelty(prev.pyramid, pyramid, camera)
            self._propagate(prev.pyramid, pyramid, camera, live, index)
        self._history.append(_Past(index, pyramid, camera))
        self._gray = gray
        self._move_ghosts(camera, index)

        found = self._detect(frame, index, live)
        matched = self._associate(found, live, index, frame)
        for track in self._refreshed:
            track.misses = 0 if track in matched else track.misses + 1
        for track in live:
            self._update_life(track, index)
        for track in self.tracks:
            if track.carry is not None and (
                index - track.carry[0] >= self.params.back_after or not track.alive
            ):
                self._carry_back(track, *track.carry)
                track.carry = None
        # A weak detection never seen again was not a face (a pattern, a poster's shading): forget it.
        dropped = [t for t in live if not t.confirmed and t.misses >= self.params.tentative_misses]
        if dropped:
            self.tracks = [t for t in self.tracks if t not in dropped]

    def _lost(self) -> list[FaceTrack]:
        return [t for t in self.tracks if t.lost_since is not None and t.ghost is not None]

    def _move_ghosts(self, camera: Similarity, index: int) -> None:
        for track in self._lost():
            if index - track.lost_since > self._revive_limit:
                track.lost_since, track.ghost = None, None
                continue
            g = camera.apply_box(track.ghost)
            track.ghost = Box(g.x + track.drift[0], g.y + track.drift[1], g.w, g.h)

    def _update_life(self, track: FaceTrack, index: int) -> None:
        p = self.params
        share = self._inside_share(track.box(index))
        if share == 0.0:
            # Off the picture: keep following the camera, the officer may turn back to it.
            if track.offscreen_since is None:
                track.offscreen_since = index
            elif index - track.offscreen_since > self._offscreen_limit:
                track.alive = False
                for f in [f for f in track.observations if f >= track.offscreen_since]:
                    del track.observations[f]
            return
        if track.offscreen_since is not None:
            track.trusted = index  # back in view where the camera motion says it should be
            track.offscreen_since = None
        if share >= 0.9 and track.last_detection != index and _looks_checkable(track.box(index)):
            if likeness(track.look, self._gray, track.box(index)) < p.gone_below:
                if track.unlike_since is None:
                    track.unlike_since = index
            else:
                track.unlike_since = None
        if track.misses >= p.max_misses and (
            track.misses >= 2 * p.max_misses or not self._held(track, index)
        ):
            track.alive = False
            track.lost_since, track.ghost = index, track.box(index)
            # The sweep should look here again soon: the face may only have been hard to see.
            self.sweep.boost(track.box(index))
            # Probably gone (walked off, covered): keep a short tail after the last good sighting,
            # and nothing from where the box stopped looking like the face.
            end = track.trusted + p.tail_frames
            if track.unlike_since is not None and track.unlike_since > track.trusted:
                end = min(end, track.unlike_since - 1)
            for f in [f for f in track.observations if f > end]:
                del track.observations[f]

    def _held(self, track: FaceTrack, index: int, frames: int = 3) -> bool:
        """Whether the face's own picture carried the box over the last few frames.

        A face the detector keeps missing but whose picture is still followed
        frame to frame (a small face beside a big one, a face turned away) is
        given twice as long before the track ends.
        """
        recent = [track.observations.get(f) for f in range(index - frames + 1, index + 1)]
        return all(o is not None and o.reliable for o in recent)

    def _inside_share(self, box: Box | None) -> float:
        if box is None or box.area <= 0:
            return 0.0
        inside = box.clipped(self.width, self.height)
        return 0.0 if inside is None else inside.area / box.area

    def _propagate(
        self, prev: GrayPyramid, cur: GrayPyramid, camera: Similarity, live: list[FaceTrack], index: int
    ) -> None:
        """Move every live track from ``index - 1`` to ``index``."""
        for track in live:
            old = track.box(index - 1)
            by_camera = camera.apply_box(old)
            guess = Box(by_camera.x + track.drift[0], by_camera.y + track.drift[1], by_camera.w, by_camera.h)
            # Mostly outside the picture, a face's few visible points say little about where it
            # went (they jump to whatever edge texture is left); the camera's motion says more.
            own = (
                _follow(prev, cur, old, guess)
                if self._inside_share(old) >= self.params.detectable_share
                else None
            )
            if own is not None:
                # Remember how the face moves on its own (walking), to bridge blurred frames.
                dx, dy = own.cx - by_camera.cx, own.cy - by_camera.cy
                track.drift = (0.7 * track.drift[0] + 0.3 * dx, 0.7 * track.drift[1] + 0.3 * dy)
                box = own
            else:
                box = guess
            since = track.observations[index - 1].since_detection + 1
            track.observations[index] = FaceObservation(index, box, since, own is not None)

    def _detect(self, frame: RgbSource, index: int, live: list[FaceTrack]) -> list[Detection]:
        regions = self.sweep.regions_for(index, self._untracked_change(live, index))
        p = self.params
        self._refreshed = []
        for track in live:
            box = track.box(index)
            every = p.refresh_every if track.confirmed else 1
            due = index - max(track.last_detection, track.last_attempt) >= every
            if not due or self._inside_share(box) < p.detectable_share:
                continue
            track.last_attempt = index
            regions.append(self._crop_region(box, sure=track.confirmed))
            self._refreshed.append(track)
        for track in self._lost():
            if (index - track.lost_since) % p.revive_every == 0 and self._inside_share(
                track.ghost
            ) >= p.detectable_share:
                regions.append(self._crop_region(track.ghost.grown(track.ghost.w * 0.2, track.ghost.h * 0.2)))
        return non_max_suppression(self.detector.detect_all(frame, regions))

    def _untracked_change(self, live: list[FaceTrack], index: int) -> np.ndarray | None:
        """Picture change outside the faces already tracked: where a new face may be."""
        change = self._change
        if change is None:
            return None
        k = change.shape[1] / self.width
        for track in live:
            box = track.box(index)
            if box is None:
                continue
            bounds = box.grown(box.w * 0.25, box.h * 0.25).pixel_bounds(self.width, self.height)
            if bounds is not None:
                x0, y0, x1, y1 = (round(v * k) for v in bounds)
                change[y0:y1, x0:x1] = 0
        return change

    def _crop_region(self, box: Box, sure: bool = True) -> Region:
        size = max(box.w, box.h)
        if not sure and size < 36:
            # A weak first detection of a distant face is checked by full-range on a small
            # crop; four such crops share one call (FaceDetector.detect_all).
            side, model = min(MOSAIC_MAX_SIDE, max(48, round(size * 3.2))), "full"
        elif size < 36:
            # Distant faces: short-range sees them best at ~40 px of its 128.
            side, model = max(56, round(size * 3.2)), "short"
        elif not sure:
            # A weak first detection is checked by full-range: short-range alone keeps
            # "finding" big faces in crowds and patterned walls.
            side, model = round(size * self.params.crop_factor), "full"
        else:
            # Short-range is three times cheaper and reliable when the face fills ~40% of the crop.
            side, model = round(size * self.params.crop_factor), "short"
        side = min(side, max(self.width, self.height))
        return Region(round(box.cx - side / 2), round(box.cy - side / 2), side, model, "refresh")

    def _associate(
        self, found: list[Detection], live: list[FaceTrack], index: int, frame: RgbSource
    ) -> list[FaceTrack]:
        """Match detections to live tracks (re-anchoring them); start tracks for the rest."""
        pairs = []
        for d_i, det in enumerate(found):
            fb = det.face_box()
            for t_i, track in enumerate(live):
                box = track.box(index)
                if box is None:
                    continue
                overlap = fb.iou(box)
                centred = box.x <= fb.cx <= box.x2 and box.y <= fb.cy <= box.y2
                # A detection much bigger or smaller than the face is something else (a helmet,
                # a poster); letting it in would make the next re-detection crop bigger still.
                ratio = max(fb.w, fb.h) / max(box.w, box.h, 1e-6)
                if (overlap > 0.15 or centred) and 0.6 <= ratio <= 1.6:
                    pairs.append((overlap + (0.5 if centred else 0.0), d_i, t_i))
        used_d, used_t = set(), set()
        for _, d_i, t_i in sorted(pairs, reverse=True):
            if d_i in used_d or t_i in used_t:
                continue
            used_d.add(d_i)
            used_t.add(t_i)
            det, track = found[d_i], live[t_i]
            track.misses = 0
            if det.score >= self.params.sure_score or (det.model == "full" and det.level == "refresh"):
                # (short-range, or the sweep, re-finding the same weak pattern proves nothing)
                track.confirmed = True
            self._confirm(track, det, index, frame)
        for d_i, det in enumerate(found):
            if d_i in used_d or det.score < self.params.min_new_score:
                continue
            if any(det.face_box().iou(t.box(index)) > 0.3 for t in self.tracks if t.box(index) is not None):
                continue  # already covered by a track matched to another detection
            sure = det.score >= self.params.sure_score
            # A weak detection where a lost face should be is more often something else (its
            # tail follows the camera off the edge, onto scenery); it must be confirmed like
            # any new one before it may extend the old track and paint the gap.
            lost = self._lost_match(det.face_box(), index) if sure else None
            if lost is not None:
                self._revive(lost, det, index, frame)
                continue
            track = FaceTrack(self._next_id, found_by=det.level, confirmed=sure)
            self._next_id += 1
            self.tracks.append(track)
            self._confirm(track, det, index, frame)
            level = det.level if det.level != "refresh" else ""
            reach = round(self.params.back_sweeps * self.sweep.period_of(level)) + self.params.back_margin
            track.carry = (index, reach)
        return [live[t_i] for t_i in used_t]

    def _lost_match(self, box: Box, index: int) -> FaceTrack | None:
        """A lost track whose face this could be: near where it should be, about its size."""
        best, best_score = None, 0.0
        for track in self._lost():
            ghost = track.ghost
            ratio = max(box.w, box.h) / max(ghost.w, ghost.h, 1e-6)
            near = ghost.grown(ghost.w * 0.5, ghost.h * 0.5)
            if 0.6 <= ratio <= 1.6 and near.x <= box.cx <= near.x2 and near.y <= box.cy <= near.y2:
                score = box.iou(ghost) + 1.0 / (1 + index - track.lost_since)
                if score > best_score:
                    best, best_score = track, score
        return best

    def _revive(self, track: FaceTrack, det: Detection, index: int, frame: RgbSource) -> None:
        """A lost face seen again: same track, and the gap filled back from here."""
        gap_from = max(f for f in track.observations if f < index)
        track.alive, track.lost_since, track.ghost = True, None, None
        track.misses, track.offscreen_since, track.unlike_since = 0, None, None
        self._confirm(track, det, index, frame)
        # Bridge a short loss (a blink of the detector, a passing occlusion); a long one is
        # more likely a different face that appeared there: carry it back as a new one would be.
        track.carry = (index, min(index - gap_from - 1, self._bridge))

    def _confirm(self, track: FaceTrack, det: Detection, index: int, frame: RgbSource) -> None:
        box = det.face_box()
        before = track.box(index)
        if before is not None and track.last_detection >= 0:
            if det.cut:
                # A tile's edge cut the face: the box is shifted toward the part it saw. Keep
                # where the face was followed to as well, so the cut-off part stays covered.
                track.observations[index] = FaceObservation(index, box.union(before), 0, True)
                track.last_detection = track.trusted = index
                track.scores.append(det.score)
                return
            # Grow at once, shrink slowly: a detector that sees only part of a face must not
            # uncover the rest.
            w = max(box.w, before.w * self.params.shrink_limit)
            h = max(box.h, before.h * self.params.shrink_limit)
            box = Box(box.cx - w / 2, box.cy - h / 2, w, h)
        track.observations[index] = FaceObservation(index, box, 0, True)
        track.last_detection = track.trusted = index
        track.look = face_look(self._gray, box)
        track.unlike_since = None
        track.scores.append(det.score)
        self._keep_crop(track, det, index, frame)

    def _keep_crop(self, track: FaceTrack, det: Detection, index: int, frame: RgbSource) -> None:
        limit = self.params.sample_crops
        if len(track.crops) >= limit and det.score <= min(c[0] for c in track.crops):
            return
        # Spread samples over the track: skip frames too close to one already kept.
        if any(abs(index - f) < self.fps / 2 for _, f, _ in track.crops) and len(track.crops) >= 2:
            return
        b = det.face_box().grown(det.box.w * 0.1, det.box.h * 0.1).pixel_bounds(self.width, self.height)
        if b is None or (b[2] - b[0]) < 16 or (b[3] - b[1]) < 16:
            return
        track.crops.append((det.score, index, frame.to_rgb(b)))
        if len(track.crops) > limit:
            track.crops.remove(min(track.crops, key=lambda c: c[0]))

    def _carry_back(self, track: FaceTrack, index: int, reach: int) -> None:
        """Follow a newly found face back from frame ``index`` until it leaves the picture.

        It may have been visible before the sweep looked at its place: carry it
        back about as long as the sweep of the level that found it takes, no
        further (a face that just appeared would otherwise leave a ghost box).
        Frames where the face is cut by the picture's edge don't count against
        that reach: a face walking in is only found once it is mostly inside.
        This runs a few frames after the face was found, so where its picture
        cannot be followed (half outside, blurred) it moves as it was seen
        moving; after ``back_blind`` such frames in a row inside the picture it
        stops, and those frames are dropped: a guess that long is no cover.
        """
        p = self.params
        history = [past for past in self._history if past.index <= index]
        box = track.box(index)
        if box is None or not history or history[-1].index != index:
            return
        # Compare with the face as it looked where the carry starts, not at its latest sighting.
        look = face_look(history[-1].gray, box)
        unlike: list[int] = []
        blind: list[int] = []
        for k in range(len(history) - 1, 0, -1):
            cur, prev = history[k], history[k - 1]
            if prev.index in track.observations:
                break  # back where the track was already followed (a face found again)
            if any(
                t is not track and t.box(prev.index) is not None and t.box(prev.index).iou(box) > 0.5
                for t in self.tracks
            ):
                break  # another track already covers the face there
            by_camera = cur.camera.inverse().apply_box(box)
            guess = Box(by_camera.x - track.drift[0], by_camera.y - track.drift[1], by_camera.w, by_camera.h)
            own = _follow(cur.pyramid, prev.pyramid, box, guess)
            box = own if own is not None else guess
            if self._outside(box):
                # It came in from the edge: the blurred or changing frames on its way in
                # are that entry, not a guess gone astray; they stay covered.
                unlike.clear()
                blind.clear()
                break
            if self._inside_share(box) >= 0.9:
                reach -= 1
                if reach < 0:
                    break
                if own is None:
                    blind.append(prev.index)
                    if len(blind) >= p.back_blind:
                        break
                else:
                    blind.clear()
            # Checked at the edge too (``likeness`` cannot tell when the middle of the face is
            # cut off, and then says alike): a large face near the bottom edge was otherwise
            # held there, where it never was, for the whole reach.
            if _looks_checkable(box) and likeness(look, prev.gray, box) < p.gone_below:
                unlike.append(prev.index)
                if len(unlike) >= p.gone_frames:
                    break  # the face was not there yet (it appeared, or stepped out from behind)
            else:
                unlike.clear()
            track.observations[prev.index] = FaceObservation(
                prev.index, box, index - prev.index, own is not None
            )
        for f in unlike + blind:
            track.observations.pop(f, None)

    def _outside(self, box: Box | None) -> bool:
        return box is None or box.clipped(self.width, self.height) is None or box.w < 4 or box.h < 4

    def settle(self) -> None:
        """Do the carry-backs still waiting (at the end of the video)."""
        for track in self.tracks:
            if track.carry is not None:
                self._carry_back(track, *track.carry)
                track.carry = None

    def finish(self) -> list[FaceTrack]:
        self.settle()
        return [t for t in self.tracks if t.observations]


def _follow(prev: GrayPyramid, cur: GrayPyramid, box: Box, guess: Box) -> Box | None:
    """The face's own motion from ``prev`` to ``cur``, or None if it cannot be measured."""
    if max(box.w, box.h) < SMALL_FACE:
        return follow_small(prev.full, cur.full, box, guess)[0]
    return follow_box(prev, cur, box)[0]


def _looks_checkable(box: Box) -> bool:
    # A small face's patch changes with every half-pixel step and tilt: correlation says nothing.
    return min(box.w, box.h) >= SMALL_FACE
