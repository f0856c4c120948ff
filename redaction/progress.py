"""Progress reporting and cancellation shared by every long job.

A job takes an optional ``progress`` callable and an optional ``CancelToken``.
The callable receives ``(done, total)`` in frames; ``total`` may be 0 when it is
unknown. Jobs call ``token.raise_if_cancelled()`` at least once per frame so a
cancel takes effect within one frame's work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .errors import Cancelled

ProgressCallback = Callable[[int, int], None]


def no_progress(done: int, total: int) -> None:
    """Default callback: report nothing."""


class CancelToken:
    """Thread-safe flag a window or signal handler sets to stop a job."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()
