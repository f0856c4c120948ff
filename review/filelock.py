"""Mark work in progress so a later program can tell abandoned leftovers from
another program's running job.

A job holds an exclusive advisory lock on its temporary file (or on a ``.lock``
file in its temporary folder) until it finishes. The operating system drops
the lock when the process dies, even by SIGKILL, so "nobody holds the lock"
means "left behind". Where advisory locks do not exist (Windows), an open file
cannot be deleted anyway, so the clean-up simply fails and is retried later.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def hold_lock(path: Path) -> Iterator[None]:
    """Create (if needed) and hold an exclusive lock on ``path`` for the block."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        # A clean-up may have removed the file between open and lock: start over.
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        os.close(fd)
    try:
        yield
    finally:
        os.close(fd)


def holds_no_lock(path: Path) -> bool:
    """True if no running program holds ``path``'s lock (or the file is gone)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        if fcntl is None:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True
    finally:
        os.close(fd)
