"""Streamed SHA-256 of files of any size, in constant memory."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .errors import RedactionError
from .progress import CancelToken, ProgressCallback

CHUNK = 1 << 20  # 1 MiB: large enough for disk throughput, small enough to be irrelevant in memory


def file_digest(
    path: Path | str, *, progress: ProgressCallback | None = None, cancel: CancelToken | None = None
) -> str:
    """Hex SHA-256 of ``path`` (what ``sha256sum`` prints); progress in bytes; raises ``OSError``."""
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        total = os.fstat(handle.fileno()).st_size
        done = 0
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled()
            n = handle.readinto(buffer)
            if not n:
                break
            digest.update(view[:n])
            done += n
            if progress is not None:
                progress(done, total)
    return digest.hexdigest()


def sha256_file(
    path: Path | str, *, progress: ProgressCallback | None = None, cancel: CancelToken | None = None
) -> str:
    """``file_digest`` with a sentence for the user instead of an ``OSError``."""
    try:
        return file_digest(path, progress=progress, cancel=cancel)
    except FileNotFoundError as error:
        raise RedactionError(f"{path}: no such file.") from error
    except OSError as error:
        raise RedactionError(f"Could not read {path}: {error.strerror or error}.") from error
