"""/api/v1/events: the Event Log, newest first, with cursor pagination."""

from typing import Any

from fastapi import APIRouter, Query

from humanic_app.api.deps import SessionDep, TransactionRoute
from humanic_app.api.errors import responses
from humanic_app.api.fields import Cursor, OptionalRowId, RowId, TextFilter
from humanic_app.models import EventOutcome
from humanic_app.services import event_log

router = APIRouter(route_class=TransactionRoute, prefix="/events", tags=["events"])


@router.get(
    "",
    summary="List events (newest first); pass next_cursor back as cursor for the next page",
    responses=responses(422),
)
def list_events(
    session: SessionDep,
    source_id: OptionalRowId = None,
    event: TextFilter = None,
    outcome: EventOutcome | None = None,
    contact_id: OptionalRowId = None,
    limit: int = Query(50, ge=1, le=500),
    cursor: Cursor = None,
) -> dict[str, Any]:
    rows = event_log.list_events(
        session=session,
        source_id=source_id,
        event_name=event,
        outcome=outcome.value if outcome else None,
        contact_id=contact_id,
        limit=limit,
        before_id=cursor,
    )
    return {
        "items": [event_log.event_as_dict(e) for e in rows],
        "next_cursor": rows[-1].id if len(rows) == limit else None,
    }


@router.get(
    "/{event_id}",
    summary="One event with its raw payload, masked headers and mapped result",
    responses=responses(404, 422),
)
def get_event(event_id: RowId, session: SessionDep) -> dict[str, Any]:
    return event_log.event_as_dict(event_log.get_event(session=session, event_id=event_id), full=True)
