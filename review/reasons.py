"""The versioned table of reason codes (``resources/reason_codes.json``).

A redaction always carries a code (``use: withhold``); releasing a track may
carry one (``use: release``) and must when the track is flagged as a possible
minor. Plans and the ledger store only the code string; the table supplies the
label and citation. Codes are never deleted or reused; a retired code still
resolves so older plans keep their meaning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from .errors import CaseError

TABLE_NAME = "reason_codes.json"  # in the ``resources`` package
TABLE_FORMAT = "bwc-redact-reason-codes"

Use = Literal["withhold", "release"]


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    use: Use
    group: str
    label: str
    citation: str
    grama: str
    retired: bool = False


@dataclass(frozen=True)
class ReasonTable:
    version: int
    reasons: tuple[Reason, ...]

    def get(self, code: str) -> Reason:
        for reason in self.reasons:
            if reason.code == code:
                return reason
        raise CaseError(f"Unknown reason code {code!r}; see `bwc-redact reasons` for the list.")

    def offered(self, use: Use | None = None) -> list[Reason]:
        """Codes a user may pick now (not retired), optionally only one use."""
        return [r for r in self.reasons if not r.retired and (use is None or r.use == use)]

    def check(self, code: str, use: Use) -> Reason:
        reason = self.get(code)
        if reason.retired:
            raise CaseError(f"Reason code {code} is retired; pick a current one.")
        if reason.use != use:
            wanted = "a redaction" if use == "withhold" else "a release"
            raise CaseError(f"Reason code {code} ({reason.label}) is not a reason for {wanted}.")
        return reason


def parse_table(data: object) -> ReasonTable:
    if not isinstance(data, dict) or data.get("format") != TABLE_FORMAT:
        raise CaseError("The reason-code table is not a bwc-redact reason-code table.")
    try:
        version = int(data["version"])
        reasons = tuple(
            Reason(
                code=str(item["code"]),
                use=item["use"],
                group=str(item["group"]),
                label=str(item["label"]),
                citation=str(item.get("citation", "")),
                grama=str(item.get("grama", "")),
                retired=bool(item.get("retired", False)),
            )
            for item in data["codes"]
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CaseError(f"The reason-code table is malformed: {error}.") from error
    codes = [r.code for r in reasons]
    if len(set(codes)) != len(codes):
        raise CaseError("The reason-code table lists a code twice.")
    if any(r.use not in ("withhold", "release") for r in reasons):
        raise CaseError("The reason-code table has a code whose use is neither 'withhold' nor 'release'.")
    return ReasonTable(version, reasons)


@lru_cache(maxsize=1)
def load_reasons(path: Path | None = None) -> ReasonTable:
    """The packaged table (cached)."""
    target = path or resources.files("resources").joinpath(TABLE_NAME)
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise CaseError(f"Cannot read the reason-code table {target}: {error}.") from error
    return parse_table(data)
