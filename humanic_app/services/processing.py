"""Turn stored events into contacts (and, with campaigns, into enrolments), after the webhook answered.

Works from the database only, so a restart resumes whatever was accepted but not processed. On
PostgreSQL several workers claim disjoint batches with FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import Event, EventOutcome, Source, SourceStatus, WorkspaceStatus
from humanic_app.services import contacts, mapping, workspace

logger = logging.getLogger(__name__)

NO_EMAIL_REASON = "no email — add email to your $identify call"


def _map(event: Event, source: Source | None) -> tuple[mapping.MappedEvent, contacts.Identity]:
    mapped = mapping.apply_mapping(event.payload or {}, source.mapping if source else None)
    event.mapped = mapped.as_dict()
    event.timestamp = event.timestamp or mapped.timestamp or event.received_at
    identity = contacts.identity_from_event(
        event_name=mapped.event_name, distinct_id=mapped.user_id, person_id=mapped.person_id, email=mapped.email,
        name=mapped.name, event_properties=mapped.event_properties, person_properties=mapped.person_properties,
        at=event.timestamp)
    return mapped, identity


def _conclude(event: Event, contact, source: Source | None, workspace_paused: bool) -> None:
    event.processed_at = clock.now()
    if contact is None:
        event.outcome, event.reason = EventOutcome.skipped, NO_EMAIL_REASON
        return
    event.contact_id = contact.id
    event.outcome = EventOutcome.processed
    if workspace_paused:
        event.reason = "workspace paused: stored, nothing fired"
    elif source is not None and source.status == SourceStatus.paused:
        event.reason = "source paused: stored, nothing fired"
    elif contact.email is None:
        event.reason = NO_EMAIL_REASON
    else:
        event.reason = ""


def _claim(session: Session, limit: int) -> list[Event]:
    stmt = select(Event).where(Event.outcome == EventOutcome.pending).order_by(col(Event.id)).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    events = list(session.exec(stmt))
    return sorted(events, key=lambda e: (e.timestamp or e.received_at, e.id))


def _sources_for(session: Session, events: list[Event]) -> dict[int | None, Source | None]:
    ids = {e.source_id for e in events if e.source_id is not None}
    found: dict[int | None, Source | None] = {s.id: s for s in session.exec(select(Source).where(col(Source.id).in_(ids)))}
    found[None] = None
    return found


def _process_batch(session: Session, events: list[Event], workspace_paused: bool) -> None:
    """Fast path: one ContactBook for the whole batch."""
    sources = _sources_for(session, events)
    prepared = [(event, *_map(event, sources.get(event.source_id))) for event in events]
    book = contacts.ContactBook(session, [identity for _, _, identity in prepared])
    matched = [(event, book.match_or_create(identity)) for event, _mapped, identity in prepared]
    book.flush()
    for event, contact in matched:
        _conclude(event, contact, sources.get(event.source_id), workspace_paused)
        session.add(event)
    session.flush()


def _process_one_by_one(session: Session, events: list[Event], workspace_paused: bool) -> None:
    """Slow path after a conflict: each event in its own savepoint, so one bad event cannot block the rest."""
    sources = _sources_for(session, events)
    for event in events:
        source = sources.get(event.source_id)
        savepoint = session.begin_nested()
        try:
            _, identity = _map(event, source)
            _conclude(event, contacts.match_or_create(session=session, identity=identity), source, workspace_paused)
            session.add(event)
            savepoint.commit()
        except IntegrityError:
            savepoint.rollback()  # another worker linked the same identity; retried on the next pass
            logger.info("event %s hit an identity race; will retry", event.id)
        except Exception as exc:  # a bug must not stall the queue behind one event
            savepoint.rollback()
            logger.exception("processing event %s failed", event.id)
            event.outcome, event.reason = EventOutcome.skipped, f"processing error: {type(exc).__name__}"
            event.processed_at = clock.now()
            session.add(event)


def process_pending(*, session: Session, limit: int = 200) -> int:
    """Processes up to `limit` pending events in event-time order, in one transaction. Returns how many."""
    events = _claim(session, limit)
    if not events:
        return 0
    workspace_paused = workspace.get_workspace(session=session).status == WorkspaceStatus.paused
    try:
        with session.begin_nested():
            _process_batch(session, events, workspace_paused)
    except Exception:
        logger.info("batch of %d events fell back to one-by-one processing", len(events))
        session.expire_all()
        events = _claim(session, limit)
        _process_one_by_one(session, events, workspace_paused)
    session.commit()
    return len(events)


def pending_count(*, session: Session) -> int:
    from sqlalchemy import func

    return session.exec(select(func.count()).select_from(Event).where(Event.outcome == EventOutcome.pending)).one()
