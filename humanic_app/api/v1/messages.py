"""/api/v1/messages: the outbox — scheduled, sent, failed, suppressed and cancelled emails."""

from typing import Any

from fastapi import APIRouter, Query

from humanic_app.api.deps import SessionDep, TransactionRoute
from humanic_app.api.errors import responses
from humanic_app.api.fields import Cursor, OptionalRowId, RowId, TextFilter
from humanic_app.models import MessageStatus
from humanic_app.services import outbox
from humanic_app.services.delivery import messages

router = APIRouter(route_class=TransactionRoute, prefix="/messages", tags=["messages"])


@router.get("", summary="List messages, newest first; pass next_cursor back as cursor", responses=responses(422))
def list_messages(
    session: SessionDep,
    to: TextFilter = None,
    status: MessageStatus | None = None,
    campaign_id: OptionalRowId = None,
    contact_id: OptionalRowId = None,
    limit: int = Query(50, ge=1, le=500),
    cursor: Cursor = None,
) -> dict[str, Any]:
    rows = messages.list_messages(
        session=session,
        to=to,
        status=status.value if status else None,
        campaign_id=campaign_id,
        contact_id=contact_id,
        limit=limit,
        before_id=cursor,
    )
    return {
        "items": [messages.message_as_dict(m) for m in rows],
        "next_cursor": rows[-1].id if len(rows) == limit else None,
    }


@router.get(
    "/{message_id}",
    summary="One message with its rendered email and its delivery events",
    responses=responses(404, 422),
)
def get_message(message_id: RowId, session: SessionDep) -> dict[str, Any]:
    data = messages.message_as_dict(messages.get_message(session=session, message_id=message_id), full=True)
    return {**data, "delivery_events": messages.delivery_events(session=session, message_id=message_id)}


@router.post("/{message_id}/cancel", summary="Cancel a scheduled message", responses=responses(404, 422))
def cancel(message_id: RowId, session: SessionDep) -> dict[str, Any]:
    return messages.message_as_dict(outbox.cancel(session=session, message_id=message_id))


@router.post(
    "/{message_id}/retry",
    summary="Retry a failed message now (confirm=true: one that may have been sent)",
    responses=responses(404, 422),
)
def retry(message_id: RowId, session: SessionDep, confirm: bool = False) -> dict[str, Any]:
    return messages.message_as_dict(outbox.retry(session=session, message_id=message_id, confirm=confirm))
