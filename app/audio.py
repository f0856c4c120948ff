"""The audio waveform the timeline draws: one peak level per video frame.

Decoded once per recording on a worker thread with PyAV, in constant memory
(a float per video frame: 400 KB for an hour at 30 fps). Qt-free.
"""

from __future__ import annotations

import av
import numpy as np

from redaction.errors import InputError
from redaction.probe import MediaInfo
from redaction.progress import CancelToken, ProgressCallback


def frame_peaks(info: MediaInfo, *, progress: ProgressCallback | None = None,
                cancel: CancelToken | None = None) -> np.ndarray | None:
    """Peak absolute level (0..1) of the main audio track over each video frame, or None without audio."""
    track = info.main_audio
    if track is None:
        return None
    count = info.frame_count
    peaks = np.zeros(count, dtype=np.float32)
    tb = info.timebase
    # Video frame start times from the first frame, to place each audio chunk.
    starts = (tb.pts_array - tb.pts_array[0]).astype(np.float64) * float(tb.time_base)
    video_zero = float(tb.pts_array[0] * tb.time_base)
    duration = max(info.duration, 1e-6)
    try:
        container = av.open(str(info.path))
    except av.FFmpegError as error:
        raise InputError(f"{info.path}: the audio cannot be read ({error}).") from error
    try:
        stream = container.streams[track.index]
        for frame in container.decode(stream):
            if cancel is not None:
                cancel.raise_if_cancelled()
            if frame.pts is None or frame.time_base is None:
                continue
            data = frame.to_ndarray()
            if data.size == 0:
                continue
            if data.dtype.kind == "i":
                level = float(np.abs(data).max()) / float(np.iinfo(data.dtype).max)
            else:
                level = float(np.abs(data).max())
            t0 = float(frame.pts * frame.time_base) - video_zero
            t1 = t0 + frame.samples / max(1, frame.sample_rate)
            i0 = max(0, int(np.searchsorted(starts, t0, side="right")) - 1)
            i1 = max(i0, int(np.searchsorted(starts, t1, side="left")) - 1)
            i1 = min(i1, count - 1)
            if i0 < count:
                peaks[i0:i1 + 1] = np.maximum(peaks[i0:i1 + 1], min(1.0, level))
            if progress is not None:
                progress(int(min(duration, max(0.0, t1)) * 1000), int(duration * 1000))
    except av.FFmpegError as error:
        raise InputError(f"{info.path}: the audio is damaged ({error}).") from error
    finally:
        container.close()
    return peaks
