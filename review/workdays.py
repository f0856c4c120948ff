"""The department's calendar: its time zone, business days and holidays.

Deadlines counted in days are counted on the department's local calendar
(Salt Lake City: ``America/Denver`` by default), because that is where a
"business day" or "the fifth day" is meant. Deadlines counted in hours (the
24-hour notification, C.1) are exact instants in UTC, so a change to or from
daylight-saving time never stretches or shortens them.

Holidays are the observed United States federal and Utah state holidays from
the ``holidays`` library (Utah adds Pioneer Day, 24 July), adjusted by the
department's own list: lines ``YYYY-MM-DD name`` add a closure, lines
``not YYYY-MM-DD`` remove a default holiday the city works on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_rules

from .errors import CaseError

DEFAULT_TIMEZONE = "America/Denver"
TIMEZONE_ENV = "BWC_REDACT_TIMEZONE"
_LINE = re.compile(r"^(not\s+)?(\d{4}-\d{2}-\d{2})\s*(.*)$")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CaseError(f"Unknown time zone {name!r}; use a name like America/Denver.") from None


def parse_date(text: str, what: str = "The date") -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CaseError(f"{what} {text!r} is not a date like 2026-11-20.") from None


def parse_holiday_lines(lines: Iterable[str], source: str = "the holiday list") -> tuple[dict[str, str], list[str]]:
    """(added closures ``{date: name}``, removed default holidays) from a holiday list."""
    added: dict[str, str] = {}
    removed: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _LINE.match(line)
        if not match:
            raise CaseError(f"Line {number} of {source} is not 'YYYY-MM-DD name' or 'not YYYY-MM-DD': {raw.strip()!r}.")
        day = parse_date(match.group(2), f"Line {number} of {source}:").isoformat()
        if match.group(1):
            removed.append(day)
        else:
            added[day] = match.group(3).strip() or "closure"
    return added, sorted(set(removed))


def read_holiday_file(path: Path | str) -> tuple[dict[str, str], list[str]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CaseError(f"Cannot read the holiday list {path}: {error}.") from None
    return parse_holiday_lines(text.splitlines(), str(path))


@dataclass(frozen=True)
class WorkCalendar:
    timezone: str = DEFAULT_TIMEZONE
    added: dict[str, str] = field(default_factory=dict)  # extra closures
    removed: tuple[str, ...] = ()  # default holidays worked

    @classmethod
    def default(cls) -> WorkCalendar:
        return cls(os.environ.get(TIMEZONE_ENV) or DEFAULT_TIMEZONE)

    @cached_property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    def _defaults(self, year: int) -> dict[date, str]:
        return dict(holiday_rules.US(subdiv="UT", years=year, observed=True).items())

    def holiday(self, day: date) -> str | None:
        """The holiday's name if ``day`` is one (weekends are not holidays, just not business days)."""
        key = day.isoformat()
        if key in self.added:
            return self.added[key]
        if key in self.removed:
            return None
        return self._defaults(day.year).get(day)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and self.holiday(day) is None

    def add_business_days(self, start: date, days: int) -> date:
        """The ``days``-th business day after ``start`` (``start`` itself is not counted,
        as in Utah Code 68-3-7: exclude the first day, include the last)."""
        if days < 1:
            raise ValueError("count at least one business day")
        day, left = start, days
        while left:
            day += timedelta(days=1)
            if self.is_business_day(day):
                left -= 1
        return day

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def end_of_day(self, day: date) -> datetime:
        """The last second of ``day`` in the department's zone, as a UTC instant."""
        local = datetime.combine(day, time(23, 59, 59), tzinfo=self.tz)
        return local.astimezone(UTC)

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.tz)

    def describe(self) -> str:
        parts = [f"time zone {self.timezone}", "US federal and Utah holidays (observed)"]
        if self.added:
            parts.append(f"{len(self.added)} added closures")
        if self.removed:
            parts.append(f"{len(self.removed)} holidays worked")
        return ", ".join(parts)

    def to_json(self) -> dict:
        return {"timezone": self.timezone, "added": dict(sorted(self.added.items())), "removed": list(self.removed)}

    @classmethod
    def from_json(cls, data: dict) -> WorkCalendar:
        return cls(str(data.get("timezone") or DEFAULT_TIMEZONE), dict(data.get("added") or {}),
                   tuple(data.get("removed") or ()))


def utc(text: str) -> datetime:
    """A stored ``...Z`` time as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def add_years(day: date, years: int) -> date:
    """The same calendar date ``years`` later; 29 February becomes 1 March."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)
