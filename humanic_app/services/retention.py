"""Retention: events' raw payloads and Resend delivery events older than the workspace's retention_days
are pruned, a small batch per transaction, by the background worker (workers.prune_old_data).

What "pruned" means:
- an event row stays, with its name, timestamp, contact, outcome, reason and decisions (the traces the
  Event Log shows), and journeys' "seen"/"has done" lookups and the dry run still count it; its payload,
  headers and mapped properties are cleared and `pruned_at` is set. Conditions on the properties of a
  pruned event see none (as for an event that carried none).
- a delivery event row is deleted; the message keeps its status and timestamps.
Hourly counters (Dashboard, /metrics), contacts, enrolments and messages are never touched."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import datetime, timedelta
from itertools import takewhile

from sqlalchemy import delete, null, update
from sqlmodel import Session, col, select

from humanic_app.models import DeliveryEvent, Event, EventOutcome, RetentionState
from humanic_app.models.retention import RETENTION_STATE_ID
from humanic_app.services import stats, workspace

BATCH = 500  # rows per transaction: each holds SQLite's write turn for a few milliseconds


@dataclasses.dataclass(frozen=True)
class Pruned:
    events: int
    delivery_events: int
    more: bool  # a batch was full of old rows: the next may find more


def cutoff(*, session: Session, now: datetime) -> datetime:
    return now - timedelta(days=workspace.read_workspace(session=session).retention_days)


def state(*, session: Session) -> RetentionState:
    """Where pruning got to (defaults before its first run), without writing."""
    return session.get(RetentionState, RETENTION_STATE_ID) or RetentionState(id=RETENTION_STATE_ID)


def prune_batch(*, session: Session, now: datetime, limit: int = BATCH) -> Pruned:
    """Prunes at most `limit` events and `limit` delivery events received before the cutoff, and counts
    them in the hourly counters ("pruned"). The caller commits, then calls again while `more`."""
    before = cutoff(session=session, now=now)
    progress = _progress(session)
    events = _prune_events(session, progress, before, now, limit)
    delivery_events = _prune_delivery_events(session, before, limit)
    hour = stats.hour_of(now)
    counts = {(hour, "pruned", "events"): events, (hour, "pruned", "delivery_events"): delivery_events}
    stats.bump(session, Counter({key: n for key, n in counts.items() if n}))
    return Pruned(events, delivery_events, more=events == limit or delivery_events == limit)


def record_run(*, session: Session, now: datetime, events: int, delivery_events: int) -> None:
    progress = _progress(session)
    progress.last_run_at, progress.last_run_events, progress.last_run_delivery_events = now, events, delivery_events
    session.add(progress)
    session.flush()


def _progress(session: Session) -> RetentionState:
    found = session.get(RetentionState, RETENTION_STATE_ID)
    if found is None:
        found = RetentionState(id=RETENTION_STATE_ID)
        session.add(found)
        session.flush()
    return found


def _prune_events(session: Session, progress: RetentionState, before: datetime, now: datetime, limit: int) -> int:
    """Walks the event table in id order (the order events arrived in) from where the last batch ended,
    and stops at the first event that is recent or not processed yet: the primary key is the only index
    it needs, and no run walks rows already pruned."""
    rows = session.execute(
        select(Event.id, Event.received_at, Event.outcome)
        .where(col(Event.id) > progress.events_pruned_upto)
        .order_by(col(Event.id))
        .limit(limit)
    ).all()
    old = [event_id for event_id, received_at, outcome in takewhile(lambda r: _prunable(r, before), rows)]
    if not old:
        return 0
    session.execute(
        update(Event)
        .where(col(Event.id).in_(old))
        .values(payload=null(), headers=null(), mapped=null(), pruned_at=now)  # SQL NULL, not JSON null
    )
    progress.events_pruned_upto = old[-1]
    session.add(progress)
    session.flush()
    return len(old)


def _prunable(row, before: datetime) -> bool:
    _, received_at, outcome = row
    return received_at < before and outcome != EventOutcome.pending


def _prune_delivery_events(session: Session, before: datetime, limit: int) -> int:
    """Deleted rows leave no trail, so the oldest rows are always the first by id."""
    rows = session.execute(
        select(DeliveryEvent.id, DeliveryEvent.received_at).order_by(col(DeliveryEvent.id)).limit(limit)
    ).all()
    old = [delivery_id for delivery_id, received_at in takewhile(lambda r: r[1] < before, rows)]
    if old:
        session.execute(delete(DeliveryEvent).where(col(DeliveryEvent.id).in_(old)))
    return len(old)
