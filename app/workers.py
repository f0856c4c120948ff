"""Work off the UI thread: long jobs with progress, ETA and cancel, and the two
frame servers (player frames, thumbnails).

Long jobs (ingest, detection, export, verify, waveform) run on Qt's thread
pool; their ``progress(done, total)`` and results come back as queued signals,
throttled so a fast job cannot flood the event loop. A ``RedactionError``
becomes its one-sentence message; anything unexpected becomes a short message
and a traceback in the error log, never a dialog full of Python.

The frame server decodes on its own thread and keeps only the *latest*
request: while the user scrubs, requests that are already stale are dropped
instead of queued, so the picture follows the mouse and the UI never waits on
a decoder. Thumbnails use a second decoder, work only while the player is idle
and are kept in a bounded LRU cache.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

from redaction.errors import Cancelled, RedactionError
from redaction.plan import Box, Plan
from redaction.progress import CancelToken

from .paths import log_file

log = logging.getLogger("bwc_redact.window")


def log_unexpected(what: str) -> str:
    """Write the current traceback to the error log; return a message for a person."""
    detail = traceback.format_exc()
    try:
        path = log_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {what}\n{detail}\n")
        where = f" Details were written to {path}."
    except OSError:
        where = ""
    log.error("%s\n%s", what, detail)
    return f"{what} failed unexpectedly; nothing already saved was lost.{where}"


class Eta:
    """Remaining time from a smoothed rate (the first seconds of a job are not typical)."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self._last: tuple[float, int] | None = None
        self._rate: float | None = None

    def update(self, done: int, total: int) -> float | None:
        now = time.monotonic()
        if self._last is not None and done > self._last[1] and now > self._last[0]:
            rate = (done - self._last[1]) / (now - self._last[0])
            self._rate = rate if self._rate is None else 0.8 * self._rate + 0.2 * rate
        if self._last is None or now - self._last[0] > 0.25:
            self._last = (now, done)
        if not total or not self._rate or now - self.start < 1.0:
            return None
        return max(0.0, (total - done) / self._rate)


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "estimating…"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"about {max(1, seconds)} s left"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"about {minutes} min {seconds:02d} s left"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes:02d} min left"


class Job(QObject):
    """One background job. ``fn(progress, cancel)`` runs on the thread pool."""

    progress = Signal(int, int)
    update = Signal(object)  # intermediate results (detection's tracks so far)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    ended = Signal()  # after any of the three above

    def __init__(self, title: str, fn: Callable[..., Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.token = CancelToken()
        self._fn = fn
        self._last_emit = 0.0
        self.running = False
        self.eta = Eta()

    def report(self, done: int, total: int) -> None:
        """The progress callback handed to the engine (called on the worker thread)."""
        now = time.monotonic()
        if now - self._last_emit >= 0.05 or (total and done >= total):
            self._last_emit = now
            self.progress.emit(int(done), int(total))

    def cancel(self) -> None:
        self.token.cancel()

    def start(self, pool: QThreadPool | None = None) -> Job:
        self.running = True
        (pool or QThreadPool.globalInstance()).start(_Runner(self))
        return self

    def _run(self) -> None:
        try:
            result = self._fn(self.report, self.token)
        except Cancelled:
            self.cancelled.emit()
        except RedactionError as error:
            self.failed.emit(str(error))
        except MemoryError:
            self.failed.emit(f"{self.title} ran out of memory; nothing already saved was lost.")
        except Exception:  # noqa: BLE001 - a job must never take the window down
            self.failed.emit(log_unexpected(self.title))
        else:
            self.succeeded.emit(result)
        finally:
            self.running = False
            self.ended.emit()


class _Runner(QRunnable):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job
        self.setAutoDelete(True)

    def run(self) -> None:
        self.job._run()


def rgb_image(rgb: np.ndarray) -> QImage:
    """A QImage that owns a copy of an HxWx3 uint8 RGB array."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, rgb.strides[0], QImage.Format_RGB888).copy()


class FrameServer(QObject):
    """Decodes the frame the player asks for, latest request first, on its own thread."""

    ready = Signal(int, QImage, bool)  # frame index, picture, is a release preview
    failed = Signal(str)

    def __init__(self, reader: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reader = reader
        self.idle = threading.Event()
        self.idle.set()
        self._cond = threading.Condition()
        self._pending: tuple[int, Plan | None] | None = None
        self._stop = False
        self.served = 0
        self.dropped = 0
        self._thread = threading.Thread(target=self._loop, name="frame-server", daemon=True)
        self._thread.start()

    def request(self, index: int, preview: Plan | None = None) -> None:
        """Show frame ``index`` (rendered as the release would be if ``preview`` is a plan)."""
        with self._cond:
            if self._pending is not None:
                self.dropped += 1  # a newer request replaces one nobody will look at anymore
            self._pending = (index, preview)
            self.idle.clear()
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        from redaction.render import preview_rgb

        while True:
            with self._cond:
                while self._pending is None and not self._stop:
                    self.idle.set()
                    self._cond.wait()
                if self._stop:
                    return
                index, plan = self._pending
                self._pending = None
            try:
                frame = self.reader.read(index)
                rgb = preview_rgb(frame, plan, index) if plan is not None else frame.to_rgb()
                image = rgb_image(rgb)
            except RedactionError as error:
                self.failed.emit(str(error))
                continue
            except Exception:  # noqa: BLE001
                self.failed.emit(log_unexpected(f"Showing frame {index}"))
                continue
            self.served += 1
            self.ready.emit(index, image, plan is not None)


ThumbKey = tuple[int, tuple[float, float, float, float] | None, int]  # frame, crop box, height


class ThumbnailServer(QObject):
    """Small pictures for the timeline strip and the tracks panel, off the UI thread.

    ``get(key)`` returns the cached image or None after queueing it; ``ready``
    fires when it arrives. Work waits while the player decodes (``player_idle``)
    so thumbnails never slow a seek. The cache holds at most ``limit`` images.
    """

    ready = Signal(object)  # the ThumbKey

    def __init__(self, reader: Any, player_idle: threading.Event | None = None, limit: int = 400,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reader = reader
        self.limit = limit
        self._cache: collections.OrderedDict[ThumbKey, QImage] = collections.OrderedDict()
        self._queue: collections.OrderedDict[ThumbKey, None] = collections.OrderedDict()
        self._cond = threading.Condition()
        self._player_idle = player_idle
        self._stop = False
        self._working = False
        self._thread = threading.Thread(target=self._loop, name="thumbnails", daemon=True)
        self._thread.start()

    def get(self, key: ThumbKey) -> QImage | None:
        with self._cond:
            image = self._cache.get(key)
            if image is not None:
                self._cache.move_to_end(key)
                return image
            self._queue[key] = None
            self._queue.move_to_end(key)  # newest first: what is on screen now
            self._cond.notify()
            return None

    def forget_queue(self) -> None:
        with self._cond:
            self._queue.clear()

    def cached(self) -> int:
        with self._cond:
            return len(self._cache)

    def busy(self) -> bool:
        """True while requests are queued or being made (for tests and screenshots)."""
        with self._cond:
            return bool(self._queue) or self._working

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                key, _ = self._queue.popitem(last=True)
                self._working = True
            if self._player_idle is not None:
                self._player_idle.wait(timeout=2.0)
            try:
                image = self._make(key)
            except Exception:  # noqa: BLE001 - a missing thumbnail is not worth a dialog
                log.warning("thumbnail %s failed", key, exc_info=True)
                with self._cond:
                    self._working = False
                continue
            with self._cond:
                self._cache[key] = image
                self._working = False
                while len(self._cache) > self.limit:
                    self._cache.popitem(last=False)
            self.ready.emit(key)

    def _make(self, key: ThumbKey) -> QImage:
        import cv2

        index, crop, height = key
        frame = self.reader.read(index)
        if crop is not None:
            box = Box(*crop)
            # A little context around a face makes it recognisable in the list.
            grown = box.grown(box.w * 0.15, box.h * 0.15)
            bounds = grown.pixel_bounds(frame.width, frame.height) or (0, 0, frame.width, frame.height)
            rgb = frame.to_rgb(bounds)
        else:
            rgb = frame.to_rgb()
        h, w = rgb.shape[:2]
        width = max(1, int(round(w * height / max(1, h))))
        small = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
        return rgb_image(small)
