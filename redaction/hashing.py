"""Streamed SHA-256 of files of any size, in constant memory."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .errors import RedactionError
from .progress import CancelToken

_CHUNK = 1 << 20


def sha256_file(path: Path | str, *, cancel: CancelToken | None = None) -> str:
    """Hex SHA-256 of ``path``, read in 1 MiB chunks (what ``sha256sum`` prints)."""
    digest = hashlib.sha256()
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    try:
        with open(path, "rb", buffering=0) as handle:
            while True:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                n = handle.readinto(buffer)
                if not n:
                    break
                digest.update(view[:n])
    except FileNotFoundError as error:
        raise RedactionError(f"{path}: no such file.") from error
    except OSError as error:
        raise RedactionError(f"Could not read {path}: {error.strerror or error}.") from error
    return digest.hexdigest()
