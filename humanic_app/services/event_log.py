"""Reading the Event Log: filters and keyset pagination (newest first), fast at millions of rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from humanic_app.models import Event, EventOutcome
from humanic_app.services.errors import ValidationFailed, require

MAX_LIMIT = 500


def _filtered(
    stmt: Any,
    *,
    source_id: int | None = None,
    event_name: str | None = None,
    outcome: str | None = None,
    contact_id: int | None = None,
) -> Any:
    """The Event Log's filters, the same for listing, paging and counting. The event name matches any part
    of the name, in any case ("signed" finds user_signed_up); % and _ are taken literally."""
    if source_id is not None:
        stmt = stmt.where(Event.source_id == source_id)
    if event_name:
        stmt = stmt.where(col(Event.event_name).icontains(event_name, autoescape=True))
    if outcome:
        try:
            stmt = stmt.where(Event.outcome == EventOutcome(outcome))
        except ValueError:
            raise ValidationFailed({"outcome": f"One of: {', '.join(o.value for o in EventOutcome)}."}) from None
    if contact_id is not None:
        stmt = stmt.where(Event.contact_id == contact_id)
    return stmt


def list_events(
    *,
    session: Session,
    limit: int = 50,
    before_id: int | None = None,
    after_id: int | None = None,
    **filters: Any,
) -> list[Event]:
    """Newest first. With `after_id` alone: the newest `limit` events above it (what a live tab appends)."""
    stmt = _filtered(select(Event), **filters)
    if before_id is not None:
        stmt = stmt.where(col(Event.id) < before_id)
    if after_id is not None:
        stmt = stmt.where(col(Event.id) > after_id)
    limit = max(1, min(int(limit), MAX_LIMIT))
    return list(session.exec(stmt.order_by(col(Event.id).desc()).limit(limit)))


def newer_page(*, session: Session, after_id: int, limit: int = 50, **filters: Any) -> list[Event]:
    """The `limit` events just above `after_id` (the page before the one shown), newest first."""
    stmt = _filtered(select(Event), **filters).where(col(Event.id) > after_id)
    limit = max(1, min(int(limit), MAX_LIMIT))
    return list(reversed(session.exec(stmt.order_by(col(Event.id).asc()).limit(limit)).all()))


def count_newer(*, session: Session, after_id: int, cap: int = 10_000, **filters: Any) -> int:
    """How many events above `after_id` the filters select, counted up to `cap` (a live tab's summary of a
    burst; bounded so a flood costs one short index walk, not a count of millions)."""
    ids = _filtered(select(Event.id), **filters).where(col(Event.id) > after_id).limit(cap).subquery()
    return session.exec(select(func.count()).select_from(ids)).one()


def get_event(*, session: Session, event_id: int) -> Event:
    return require(session.get(Event, event_id), noun="event", row_id=event_id)


def outcome_label(event: Event) -> str:
    return f"{event.outcome.value}: {event.reason}" if event.reason else event.outcome.value


def event_as_dict(event: Event, *, full: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": event.id,
        "source_id": event.source_id,
        "received_at": event.received_at.isoformat(),
        "timestamp": event.timestamp.isoformat() if event.timestamp else None,
        "event": event.event_name,
        "event_uuid": event.event_uuid,
        "distinct_id": event.distinct_id,
        "contact_id": event.contact_id,
        "outcome": event.outcome.value,
        "reason": event.reason,
        "decisions": event.decisions or [],
    }
    if full:
        data.update(
            {
                "payload": event.payload,
                "headers": event.headers,
                "mapped": event.mapped,
                "pruned_at": event.pruned_at.isoformat() if event.pruned_at else None,
            }
        )
    return data


def pruned_note(event: Event) -> str:
    """What the detail shows instead of a payload retention cleared ("" when it was not)."""
    if event.pruned_at is None:
        return ""
    return (
        f"Pruned on {event.pruned_at:%Y-%m-%d}: payloads older than the retention period (Settings) are "
        "cleared. The event, its contact and its campaign decisions stay."
    )


def latest_accepted_event(*, session: Session, source_id: int) -> Event | None:
    """The newest event this source delivered that was not rejected: what the mapping check previews."""
    stmt = (
        select(Event)
        .where(Event.source_id == source_id, Event.outcome != EventOutcome.rejected, col(Event.payload).is_not(None))
        .order_by(col(Event.id).desc())
        .limit(1)
    )
    return session.exec(stmt).first()


def recent_event_names(*, session: Session, limit: int = 200) -> list[str]:
    """Event names actually received recently, for the campaign builder's trigger picker."""
    rows = session.exec(
        select(Event.event_name).where(col(Event.event_name).is_not(None)).order_by(col(Event.id).desc()).limit(5000)
    )
    return sorted({name for name in rows if name is not None})[:limit]


def recent_events_named(*, session: Session, name: str, limit: int = 20) -> list[Event]:
    return list(
        session.exec(
            select(Event)
            .where(Event.event_name == name, Event.outcome != EventOutcome.rejected)
            .order_by(col(Event.id).desc())
            .limit(limit)
        )
    )
