"""Where everything lives inside a case folder.

::

    CASE/
      README.txt              what this folder is and how to check it
      case.db                 SQLite (WAL): recordings, plan, users, approvals, exports, ledger
      ledger.jsonl            the ledger as plain JSON lines, rewritten atomically after each change
      SHA256SUMS              every original, release file and stored plan, for ``sha256sum -c``
      case-public-key.pem     Ed25519 public key that checks the ledger's signed checkpoints
      keys/case-signing-key.pem   the private half (mode 0600; see README "Protecting the signing key")
      evidence/               read-only copies of the ingested originals, named by hash
      exports/<id>/           release packages (video, manifest, SHA256SUMS, redaction log)
      plans/<sha256>.json     every plan that was detected or approved, content-addressed
      .incoming/ .building-*  work in progress; never a final path
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _umask() -> int:
    # Read, not set-and-restore: os.umask() would race with other threads.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def file_mode() -> int:
    """Mode for the case's readable copies (ledger.jsonl, SHA256SUMS): as the umask
    allows; temporary files would otherwise keep mkstemp's owner-only 0600."""
    return 0o666 & ~_umask()


def folder_mode() -> int:
    return 0o777 & ~_umask()


def safe_name(name: str, limit: int = 80) -> str:
    """A file name that needs no quoting in SHA256SUMS or a shell."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = _UNSAFE.sub("_", stem).strip("._") or "file"
    ext = _UNSAFE.sub("", ext)[:10]
    stem = stem[: max(1, limit - len(ext) - 1)]
    return f"{stem}.{ext}" if ext else stem


@dataclass(frozen=True)
class CaseLayout:
    root: Path

    @property
    def db(self) -> Path:
        return self.root / "case.db"

    @property
    def ledger_jsonl(self) -> Path:
        return self.root / "ledger.jsonl"

    @property
    def sums(self) -> Path:
        return self.root / "SHA256SUMS"

    @property
    def readme(self) -> Path:
        return self.root / "README.txt"

    @property
    def public_key(self) -> Path:
        return self.root / "case-public-key.pem"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def private_key(self) -> Path:
        return self.keys / "case-signing-key.pem"

    @property
    def evidence(self) -> Path:
        return self.root / "evidence"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def plans(self) -> Path:
        return self.root / "plans"

    @property
    def incoming(self) -> Path:
        return self.root / ".incoming"

    def plan_blob(self, plan_hash: str) -> Path:
        return self.plans / f"{plan_hash}.json"

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def is_case(self) -> bool:
        return self.db.is_file()
