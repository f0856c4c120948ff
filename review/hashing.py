"""Canonical JSON and streamed SHA-256: the two primitives custody rests on.

Canonical JSON is what the ledger hashes and what anyone can reproduce with the
standard library: ``json.dumps(value, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` encoded as UTF-8. File hashing reads a fixed-size buffer
at a time, so memory stays constant whatever the size of the file.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from redaction.hashing import CHUNK, file_digest
from redaction.progress import CancelToken, ProgressCallback

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    """The one text form of ``value`` that is hashed and signed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _report(progress: ProgressCallback | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def sha256_file(
    path: Path | str, progress: ProgressCallback | None = None, cancel: CancelToken | None = None
) -> str:
    """SHA-256 of a file of any size in constant memory; progress is in bytes; raises ``OSError``."""
    return file_digest(path, progress=progress, cancel=cancel)


def copy_and_hash(
    source: Path | str,
    target: Path | str,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> tuple[str, int]:
    """Copy ``source`` to the (new or empty) file ``target`` while hashing it, in
    one pass and constant memory; flush the copy to disk. Returns (sha256, size)."""
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    done = 0
    with open(source, "rb") as src, open(target, "wb") as dst:
        total = os.fstat(src.fileno()).st_size
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled()
            n = src.readinto(buffer)
            if not n:
                break
            digest.update(view[:n])
            dst.write(view[:n])
            done += n
            _report(progress, done, total)
        dst.flush()
        os.fsync(dst.fileno())
    return digest.hexdigest(), done
