"""The one clock. Tests move time by patching `now`."""

from datetime import UTC, datetime


def now() -> datetime:
    """The current time, timezone-aware UTC (SQLModel's UTCDateTime columns require aware values)."""
    return datetime.now(UTC)
