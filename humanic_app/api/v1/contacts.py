"""/api/v1/contacts: search and read contacts with all their distinct_ids."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from humanic_app.api.deps import SessionDep, TransactionRoute
from humanic_app.api.errors import responses
from humanic_app.api.fields import NO_NUL, Cursor, RowId
from humanic_app.services import contacts

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
