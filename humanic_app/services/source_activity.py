"""What one source has been receiving: the Integrations page's summary of a connected source (events today,
the last event, the deliveries refused today). Counts come from the hourly counters (services/stats.py) and
the rows from indexed look-ups, so it stays cheap while the page re-reads it on every new event."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import Event, EventOutcome
from humanic_app.services import event_log, stats


@dataclasses.dataclass(frozen=True)
class SourceActivity:
    received_today: int  # accepted events since 00:00 UTC (duplicates and refusals not counted)
    last_event_name: str  # "" before the first event
    last_event_at: datetime | None
    rejected_today: int  # deliveries to this source's URL refused since 00:00 UTC
    last_rejection: str  # the latest refusal's reason, e.g. "401 bad signature"; "" when none today


def start_of_today(now: datetime) -> datetime:
    """Midnight UTC: "today" is the UTC day, as every stored time is UTC."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def source_activity(*, session: Session, source_id: int) -> SourceActivity:
    today = start_of_today(clock.now())
    received = stats.totals(session=session, name="received", since=today).get(str(source_id), 0)
    rejected = stats.totals(session=session, name="rejected_source", since=today).get(str(source_id), 0)
    latest = event_log.latest_accepted_event(session=session, source_id=source_id)
    return SourceActivity(
        received_today=received,
        last_event_name=(latest.event_name or "(legacy notification)") if latest else "",
        last_event_at=latest.received_at if latest else None,
        rejected_today=rejected,
        last_rejection=_latest_rejection(session, source_id, since=today) if rejected else "",
    )


def _latest_rejection(session: Session, source_id: int, *, since: datetime) -> str:
    """Looked up only when the counter says there is one today, so the scan stops within today's rows."""
    reason = session.exec(
        select(Event.reason)
        .where(Event.source_id == source_id, Event.outcome == EventOutcome.rejected, Event.received_at >= since)
        .order_by(col(Event.id).desc())
        .limit(1)
    ).first()
    return reason or ""
