"""Match an event to a contact: PostHog person id, then distinct_id, then email (case-insensitive).

A contact owns every distinct_id PostHog links to it ($identify's $anon_distinct_id, $create_alias,
a shared person id). Person properties merge per key, newest event timestamp wins, so a late,
out-of-order delivery cannot put back an old value.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import Contact, ContactIdentity, Event, IdentityKind
from humanic_app.services.errors import NotFound


@dataclasses.dataclass
class Identity:
    person_id: str | None
    distinct_ids: list[str]
    email: str | None
    name: str | None
    properties: dict[str, Any]
    at: datetime


def identity_from_event(*, event_name: str | None, distinct_id: str | None, person_id: str | None,
                        email: str | None, name: str | None, event_properties: dict[str, Any],
                        person_properties: dict[str, Any], at: datetime) -> Identity:
    linked = [distinct_id] if distinct_id else []
    if event_name == "$identify" and event_properties.get("$anon_distinct_id"):
        linked.append(str(event_properties["$anon_distinct_id"]))
    if event_name == "$create_alias" and event_properties.get("alias"):
        linked.append(str(event_properties["alias"]))
    properties = dict(person_properties)
    for key in ("$set_once", "$set"):
        if isinstance(event_properties.get(key), dict):
            properties.update(event_properties[key])
    return Identity(person_id=person_id, distinct_ids=list(dict.fromkeys(linked)), email=email, name=name,
                    properties=properties, at=at)


def _contacts_by_identity(session: Session, kind: IdentityKind, values: list[str]) -> list[int]:
    if not values:
        return []
    rows = session.exec(select(ContactIdentity.contact_id).where(
        ContactIdentity.kind == kind, col(ContactIdentity.value).in_(values)))
    return list(dict.fromkeys(rows))


def _merge_into(session: Session, survivor: Contact, other: Contact) -> None:
    for identity in session.exec(select(ContactIdentity).where(ContactIdentity.contact_id == other.id)):
        identity.contact_id = survivor.id
        session.add(identity)
    for event in session.exec(select(Event).where(Event.contact_id == other.id)):
        event.contact_id = survivor.id
        session.add(event)
    times = dict(survivor.property_times)
    props = dict(survivor.properties)
    for key, value in other.properties.items():
        if key not in times or other.property_times.get(key, "") > times[key]:
            props[key] = value
            times[key] = other.property_times.get(key, "")
    survivor.properties, survivor.property_times = props, times
    survivor.email = survivor.email or other.email
    survivor.name = survivor.name or other.name
    session.flush()
    session.delete(other)


def _link(session: Session, contact: Contact, kind: IdentityKind, values: list[str]) -> None:
    existing = set(session.exec(select(ContactIdentity.value).where(
        ContactIdentity.kind == kind, col(ContactIdentity.value).in_(values)))) if values else set()
    for value in values:
        if value not in existing:
            session.add(ContactIdentity(contact_id=contact.id, kind=kind, value=value[:200]))


def _apply_properties(contact: Contact, identity: Identity) -> None:
    stamp = identity.at.isoformat()
    props, times = dict(contact.properties), dict(contact.property_times)
    updates = dict(identity.properties)
    if identity.email:
        updates["email"] = identity.email
    if identity.name:
        updates["name"] = identity.name
    for key, value in updates.items():
        if key not in times or stamp >= times[key]:
            props[key] = value
            times[key] = stamp
    contact.properties, contact.property_times = props, times
    if identity.email and times.get("email") == stamp:
        contact.email = identity.email
    if identity.name and times.get("name") == stamp:
        contact.name = identity.name[:300]
    contact.updated_at = clock.now()


def match_or_create(*, session: Session, identity: Identity) -> Contact | None:
    """The contact this identity belongs to, merged and updated; None when nothing matches and there is
    no email to create one with."""
    candidate_ids = _contacts_by_identity(session, IdentityKind.person_id,
                                          [identity.person_id] if identity.person_id else [])
    candidate_ids += _contacts_by_identity(session, IdentityKind.distinct_id, identity.distinct_ids)
    if identity.email:
        candidate_ids += list(session.exec(select(Contact.id).where(
            func.lower(Contact.email) == identity.email.lower()).order_by(Contact.id)))
    candidate_ids = list(dict.fromkeys(candidate_ids))
    if not candidate_ids:
        if not identity.email:
            return None
        contact = Contact(email=identity.email, name=(identity.name or "")[:300], properties={}, property_times={})
        session.add(contact)
        session.flush()
    else:
        contacts = [session.get(Contact, cid) for cid in sorted(candidate_ids)]
        contact = contacts[0]
        for other in contacts[1:]:
            _merge_into(session, contact, other)
    _link(session, contact, IdentityKind.distinct_id, identity.distinct_ids)
    if identity.person_id:
        _link(session, contact, IdentityKind.person_id, [identity.person_id])
    _apply_properties(contact, identity)
    session.add(contact)
    session.flush()
    return contact


def get_contact(*, session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"No contact with id {contact_id}.")
    return contact


def identities_of(*, session: Session, contact_id: int) -> list[ContactIdentity]:
    return list(session.exec(select(ContactIdentity).where(ContactIdentity.contact_id == contact_id)
                             .order_by(ContactIdentity.id)))


def search_contacts(*, session: Session, query: str = "", email: str = "", limit: int = 50,
                    before_id: int | None = None) -> list[Contact]:
    """Newest first; `query` matches email, name or any distinct_id; pages with before_id."""
    stmt = select(Contact)
    if email:
        stmt = stmt.where(func.lower(Contact.email) == email.strip().lower())
    if query:
        like = f"%{query.strip().lower()}%"
        ids_by_identity = select(ContactIdentity.contact_id).where(func.lower(ContactIdentity.value).like(like))
        stmt = stmt.where(or_(func.lower(Contact.email).like(like), func.lower(Contact.name).like(like),
                              col(Contact.id).in_(ids_by_identity)))
    if before_id:
        stmt = stmt.where(Contact.id < before_id)
    return list(session.exec(stmt.order_by(col(Contact.id).desc()).limit(max(1, min(limit, 200)))))


def contact_as_dict(*, session: Session, contact: Contact, with_identities: bool = False) -> dict[str, Any]:
    data = {"id": contact.id, "email": contact.email, "name": contact.name, "properties": contact.properties,
            "created_at": contact.created_at.isoformat(), "updated_at": contact.updated_at.isoformat()}
    if with_identities:
        identities = identities_of(session=session, contact_id=contact.id)
        data["distinct_ids"] = [i.value for i in identities if i.kind == IdentityKind.distinct_id]
        data["person_ids"] = [i.value for i in identities if i.kind == IdentityKind.person_id]
    return data
