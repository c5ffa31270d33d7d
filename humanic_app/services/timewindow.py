"""Time windows in a person's timezone: "until 09:00", "between 09:00 and 17:00 on weekdays".

One module for every rule of the form "not before the window opens": journeys' `wait … until` uses it,
and quiet hours will. Pure: an instant and a zone in, an instant out (all instants timezone-aware UTC).
Local times are wall-clock times: a window at 09:00 opens at 09:00 on both sides of a DST change; a time
that does not exist that day (inside the spring-forward gap) is read with the offset before the gap, i.e.
it opens an hour later by the clock; a time that exists twice opens at the first.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOCK_RE = r"^([01]\d|2[0-3]):[0-5]\d$"
ClockTime = Annotated[str, Field(pattern=CLOCK_RE, description="a time of day, HH:MM (24 h)")]  # documents' form


@dataclasses.dataclass(frozen=True)
class Window:
    """Open from `start` to `end` (local wall-clock times) on `days` (0 = Monday; empty: every day). An
    `end` before `start` crosses midnight (22:00–06:00 belongs to the day it opens). Without `end`, the
    window is the instant `start`: waiting for it means until the next time the clock shows `start`."""

    start: time
    end: time | None = None
    days: frozenset[int] = frozenset()

    @classmethod
    def of(cls, *, at: str | None = None, between: list[str] | None = None, days: list[str] | None = None) -> Window:
        """From the document's form: `at` 'HH:MM', or `between` ['HH:MM', 'HH:MM'], and weekday names; days
        alone is the whole of those days."""
        day_numbers = frozenset(WEEKDAYS.index(day) for day in days or [])
        if at:
            return cls(start=time.fromisoformat(at), days=day_numbers)
        if between:
            return cls(start=time.fromisoformat(between[0]), end=time.fromisoformat(between[1]), days=day_numbers)
        return cls(start=time(0), end=time(0), days=day_numbers)


def zone(name: str | None) -> ZoneInfo | None:
    """The zone an IANA name ('Europe/Paris') names, or None for a missing or unknown one."""
    if not name or not isinstance(name, str) or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _local(day: date, moment: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=tz).astimezone(UTC)


def _openings(window: Window, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The window's interval that opens on `day` (an instant window is an empty interval at its start)."""
    opens = _local(day, window.start, tz)
    if window.end is None:
        return opens, opens
    closes_on = day if window.end > window.start else day + timedelta(days=1)
    return opens, _local(closes_on, window.end, tz)


def next_open(window: Window, *, at: datetime, tz: ZoneInfo) -> datetime:
    """The first instant at or after `at` inside the window: `at` itself when the window is open then."""
    today = at.astimezone(tz).date()
    best: datetime | None = None
    for offset in range(-1, 9):  # yesterday's window may still be open; a weekday comes round within 8 days
        day = today + timedelta(days=offset)
        if window.days and day.weekday() not in window.days:
            continue
        opens, closes = _openings(window, day, tz)
        if opens <= at < closes or opens == at:
            return at
        if opens > at and (best is None or opens < best):
            best = opens
    assert best is not None  # some allowed weekday falls within the next eight days
    return best
