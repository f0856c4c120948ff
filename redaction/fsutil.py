"""Atomic writes: a file at its final path is always complete.

Every output of the product (plans, manifests, releases, checksums) is written
to a temporary sibling, flushed to disk and renamed over the final name, so a
crash, a cancel or a full disk never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import RedactionError


def fsync_dir(directory: Path) -> None:
    """Flush a folder's entries: without it a rename can be lost on power failure."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def default_file_mode() -> int:
    """What ``open()`` would give a new file: 0666 less the umask."""
    mask = os.umask(0)  # the only portable way to read it; restored at once
    os.umask(mask)
    return 0o666 & ~mask


def describe_os_error(error: OSError, path: Path | str) -> str:
    """One sentence for a user about why writing ``path`` failed."""
    if error.errno == errno.ENOSPC:
        return f"The disk is full; could not write {path}."
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"Permission denied; could not write {path}."
    if error.errno == errno.ENOENT:
        return f"The folder for {path} does not exist."
    return f"Could not write {path}: {error.strerror or error}."


@contextlib.contextmanager
def atomic_path(final: Path | str, suffix: str | None = None, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``final``; rename it into place on success.

    On any exception the temporary file is removed and ``final`` is untouched.
    The file is private (0600) unless ``mode`` is given.
    The temporary name keeps the final suffix (or ``suffix``) so tools that
    pick a format from the extension (ffmpeg) still do.
    """
    final = Path(final)
    directory = final.parent if str(final.parent) else Path(".")
    if not directory.is_dir():
        raise RedactionError(f"The folder {directory} does not exist.")
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{final.name}.",
        suffix=".partial" + (suffix if suffix is not None else final.suffix),
        dir=directory,
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if mode is not None:
            os.chmod(tmp, mode)
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, final)
        fsync_dir(directory)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write_bytes(final: Path | str, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``final`` atomically, raising a user-facing error on failure.

    The file gets the usual permissions (as the umask allows) unless ``mode`` says otherwise.
    """
    try:
        with (
            atomic_path(final, mode=default_file_mode() if mode is None else mode) as tmp,
            open(tmp, "wb") as handle,
        ):
            handle.write(data)
    except OSError as error:
        raise RedactionError(describe_os_error(error, final)) from error


def atomic_write_text(final: Path | str, text: str, mode: int | None = None) -> None:
    atomic_write_bytes(final, text.encode("utf-8"), mode)
