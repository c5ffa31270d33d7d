"""/api/v1/contacts: search and read contacts with all their distinct_ids; export or erase one."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from humanic_app.api.deps import PrincipalDep, SessionDep, TransactionRoute
from humanic_app.api.errors import responses
from humanic_app.api.fields import NO_NUL, REQUEST_MODEL_CONFIG, Cursor, RowId
from humanic_app.services import contacts, erasure, topics

router = APIRouter(route_class=TransactionRoute, prefix="/contacts", tags=["contacts"])


@router.get("", summary="Search contacts by email or by email/name/distinct_id (q)", responses=responses(422))
def list_contacts(
    session: SessionDep,
    email: Annotated[str, Query(pattern=NO_NUL)] = "",
    q: Annotated[str, Query(pattern=NO_NUL)] = "",
    limit: int = Query(50, ge=1, le=200),
    cursor: Cursor = None,
) -> dict[str, Any]:
    rows = contacts.search_contacts(session=session, query=q, email=email, limit=limit, before_id=cursor)
    return {
        "items": [contacts.contact_as_dict(session=session, contact=c) for c in rows],
        "next_cursor": rows[-1].id if len(rows) == limit else None,
    }


@router.get("/{contact_id}", summary="One contact with all its distinct_ids", responses=responses(404, 422))
def get_contact(contact_id: RowId, session: SessionDep) -> dict[str, Any]:
    contact = contacts.get_contact(session=session, contact_id=contact_id)
    return contacts.contact_as_dict(session=session, contact=contact, with_identities=True)


class PreferencesIn(BaseModel):
    model_config = REQUEST_MODEL_CONFIG

    unsubscribed_from_all: bool | None = Field(default=None, description="true unsubscribes, false resubscribes")
    topics: dict[str, bool] = Field(
        default_factory=dict, max_length=100, description="topic key → subscribed; topics not named are unchanged"
    )


@router.get(
    "/{contact_id}/preferences",
    summary="The contact's choices: unsubscribed from all, and subscribed or not per topic",
    responses=responses(404, 422),
)
def get_preferences(contact_id: RowId, session: SessionDep) -> dict[str, Any]:
    return topics.preferences(session=session, contact=contacts.get_contact(session=session, contact_id=contact_id))


@router.put(
    "/{contact_id}/preferences",
    summary="Change the contact's choices, as its preference page does (honoured at the next send)",
    responses=responses(400, 404, 422),
)
def put_preferences(contact_id: RowId, body: PreferencesIn, session: SessionDep) -> dict[str, Any]:
    contact = contacts.get_contact(session=session, contact_id=contact_id)
    topics.update_preferences(
        session=session,
        contact=contact,
        unsubscribed_from_all=body.unsubscribed_from_all,
        topics=body.topics,
        note="preferences API",
    )
    return topics.preferences(session=session, contact=contact)


@router.get(
    "/{contact_id}/export",
    summary="Everything held about one contact, as a JSON download",
    responses=responses(404, 422),
)
def export_contact(contact_id: RowId, session: SessionDep) -> JSONResponse:
    data = erasure.export_contact(session=session, contact_id=contact_id)
    return JSONResponse(
        data, headers={"Content-Disposition": f'attachment; filename="{erasure.export_file_name(contact_id)}"'}
    )


@router.delete(
    "/{contact_id}",
    summary="Erase a contact: its events, identities, enrolments, emails and delivery events go; "
    "a salted hash of its address stays suppressed",
    responses=responses(404, 422),
)
def erase_contact(contact_id: RowId, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    actor = erasure.actor(user_id=principal.user_id, api_key_id=principal.api_key_id)
    return erasure.erase_contact(session=session, contact_id=contact_id, actor=actor).as_dict()
