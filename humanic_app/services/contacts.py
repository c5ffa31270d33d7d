"""Match an event to a contact: PostHog person id, then distinct_id, then email (case-insensitive).

A contact owns every distinct_id PostHog links to it ($identify's $anon_distinct_id, $create_alias,
a shared person id). Person properties merge per key, newest event timestamp wins, so a late,
out-of-order delivery cannot put back an old value. Contacts found to be one person merge into the oldest,
which takes over everything keyed by the others (`_merge_into`).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, update
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import (
    Contact,
    ContactIdentity,
    Event,
    IdentityKind,
    PosthogCohortMember,
    Suppression,
    SuppressionReason,
)
from humanic_app.models.event import NO_EMAIL_REASON
from humanic_app.models.rows import any_of, id_of
from humanic_app.services import topics
from humanic_app.services.campaigns import engine
from humanic_app.services.errors import require
from humanic_app.services.mapping import MappedEvent, storable_id


@dataclasses.dataclass
class Identity:
    person_id: str | None
    distinct_ids: list[str]
    email: str | None
    name: str | None
    properties: dict[str, Any]
    at: datetime


def identity_from_event(mapped: MappedEvent, *, at: datetime) -> Identity:
    """Who a mapped event is about: its ids (with the ones $identify and $create_alias link) and the
    person properties it sets, as of `at`."""
    event_properties = mapped.event_properties
    linked = [mapped.user_id]
    if mapped.event_name == "$identify":
        linked.append(storable_id(event_properties.get("$anon_distinct_id")))
    if mapped.event_name == "$create_alias":
        linked.append(storable_id(event_properties.get("alias")))
    properties = dict(mapped.person_properties)
    for key in ("$set_once", "$set"):
        if isinstance(event_properties.get(key), dict):
            properties.update(event_properties[key])
    return Identity(
        person_id=mapped.person_id,
        distinct_ids=list(dict.fromkeys(i for i in linked if i)),
        email=mapped.email,
        name=mapped.name,
        properties=properties,
        at=at,
    )


# Suppressions that say the person opted out (or a marketer said never to mail them), not that an address
# does not work: on a merge, one on either contact's address opts the merged contact out.
_OPT_OUTS = (SuppressionReason.unsubscribed, SuppressionReason.complained, SuppressionReason.manual)


def _merge_into(session: Session, survivor: Contact, other: Contact) -> None:
    """Everything keyed by `other` moves to `survivor` before `other` is deleted: identities, events, its
    enrolments and emails (engine.merge_enrolments: a duplicate enrolment is settled by the campaign's
    re-entry rule), its topic opt-outs, and its opt-out — the merged contact is unsubscribed when either
    was, or when either address is suppressed as an opt-out (unsubscribed, complained, manual). Bounced and provider
    suppressions stay with their address, which every email to it still meets."""
    survivor_id, other_id = id_of(survivor), id_of(other)
    for identity in session.exec(select(ContactIdentity).where(ContactIdentity.contact_id == other_id)):
        identity.contact_id = survivor_id
        session.add(identity)
    session.execute(update(Event).where(col(Event.contact_id) == other_id).values(contact_id=survivor_id))
    engine.merge_enrolments(session=session, survivor_id=survivor_id, other_id=other_id)
    topics.merge_opt_outs(session=session, survivor_id=survivor_id, other_id=other_id)
    _merge_cohorts(session, survivor_id, other_id)
    if survivor.unsubscribed_at is None:
        emails = sorted({c.email.strip().lower() for c in (survivor, other) if c.email})
        opt_out = (
            session.exec(
                select(Suppression.created_at)
                .where(col(Suppression.email).in_(emails), col(Suppression.reason).in_(_OPT_OUTS))
                .order_by(col(Suppression.created_at))
                .limit(1)
            ).first()
            if emails
            else None
        )
        survivor.unsubscribed_at = other.unsubscribed_at or opt_out
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


def _merge_cohorts(session: Session, survivor_id: int, other_id: int) -> None:
    """The survivor is in every PostHog cohort either was in (services/posthog_cohorts.py)."""
    theirs = select(PosthogCohortMember.cohort_id).where(PosthogCohortMember.contact_id == survivor_id)
    session.execute(
        delete(PosthogCohortMember).where(
            col(PosthogCohortMember.contact_id) == other_id, col(PosthogCohortMember.cohort_id).in_(theirs)
        )
    )
    session.execute(
        update(PosthogCohortMember)
        .where(col(PosthogCohortMember.contact_id) == other_id)
        .values(contact_id=survivor_id)
    )


def _apply_properties(contact: Contact, identity: Identity) -> None:
    stamp = identity.at.isoformat()
    props, times = dict(contact.properties), dict(contact.property_times)
    updates = dict(identity.properties)
    if identity.email:
        updates["email"] = identity.email
    if identity.name:
        updates["name"] = identity.name
    changed = False
    for key, value in updates.items():
        if key not in times or stamp >= times[key]:
            changed = changed or props.get(key) != value or times.get(key) != stamp
            props[key] = value
            times[key] = stamp
    if not changed:
        return
    contact.properties, contact.property_times = props, times
    if identity.email and times.get("email") == stamp:
        contact.email = identity.email
    if identity.name and times.get("name") == stamp:
        contact.name = identity.name[:300]
    contact.updated_at = clock.now()


def _chunks(values: list, size: int = 500):
    for start in range(0, len(values), size):
        yield values[start : start + size]


_IDENTITIES = select(ContactIdentity.value, ContactIdentity.contact_id).where(
    ContactIdentity.kind == bindparam("kind"), any_of(col(ContactIdentity.value), "values")
)
_CONTACTS = select(Contact).where(any_of(col(Contact.id), "ids"))
_BY_EMAIL = (
    select(func.lower(Contact.email), Contact.id)
    .where(any_of(func.lower(Contact.email), "emails"))
    .order_by(col(Contact.id))
)


def _owner_ids(
    session: Session, identities: list[Identity]
) -> tuple[dict[tuple[IdentityKind, str], int], dict[str, int]]:
    """The ids of the contacts owning the identities' ids and emails (lower case), in a few Core queries:
    they run for every batch of events."""
    wanted = {(IdentityKind.person_id, i.person_id) for i in identities if i.person_id}
    wanted |= {(IdentityKind.distinct_id, d) for i in identities for d in i.distinct_ids}
    emails = sorted({i.email.lower() for i in identities if i.email})
    connection = session.connection()
    ids_by_identity: dict[tuple[IdentityKind, str], int] = {}
    for kind in IdentityKind:
        values = sorted(v for k, v in wanted if k == kind)
        for chunk in _chunks(values):
            rows = connection.execute(_IDENTITIES, {"kind": kind, "values": chunk})
            ids_by_identity.update({(kind, value): cid for value, cid in rows})
    ids_by_email: dict[str, int] = {}
    for chunk in _chunks(emails):
        for email, cid in connection.execute(_BY_EMAIL, {"emails": chunk}):
            ids_by_email.setdefault(email, cid)
    return ids_by_identity, ids_by_email


def merges_sql(*, email: str, person_id: str, owner: str) -> str:
    """`owners`'s rule as an SQL condition, for a row's email, person id and owning contact (the caller's
    column names): whether matching it merges another contact into the owner — the lowest contact id with
    that email (as `_BY_EMAIL` picks it), or the contact holding that person id, when not the owner."""
    return (
        f"COALESCE((SELECT c.id FROM contact c WHERE lower(c.email) = {email} ORDER BY c.id LIMIT 1) <> {owner}, false)"
        f" OR EXISTS (SELECT 1 FROM contact_identity p"
        f"  WHERE p.kind = 'person_id' AND p.value = {person_id} AND p.contact_id <> {owner})"
    )


def unowned_sql(*, email: str, person_id: str, owner: str) -> str:
    """`owners`'s rule as an SQL condition: whether a row's distinct_id owner, email and person id (the
    caller's column names) belong to no contact, so that matching it creates one (given an email)."""
    return (
        f"{owner} IS NULL AND NOT EXISTS (SELECT 1 FROM contact c WHERE lower(c.email) = {email})"
        f" AND NOT EXISTS (SELECT 1 FROM contact_identity p WHERE p.kind = 'person_id' AND p.value = {person_id})"
    )


def owners(session: Session, identities: list[Identity]) -> list[set[int]]:
    """Per identity, the ids of the stored contacts it matches (by person id, distinct ids or email):
    matching it would merge them when there are several. Reads no contact row."""
    ids_by_identity, ids_by_email = _owner_ids(session, identities)
    found = []
    for identity in identities:
        keys = [(IdentityKind.distinct_id, d) for d in identity.distinct_ids]
        keys += [(IdentityKind.person_id, identity.person_id)] if identity.person_id else []
        ids = {ids_by_identity[key] for key in keys if key in ids_by_identity}
        if identity.email and identity.email.lower() in ids_by_email:
            ids.add(ids_by_email[identity.email.lower()])
        found.append(ids)
    return found


class ContactBook:
    """What a batch of events needs to know about contacts, loaded in a few queries up front; new
    contacts and identities are written in one flush at the end (`flush`), so processing costs a
    handful of statements per batch rather than several per event."""

    def __init__(self, session: Session, identities: list[Identity]):
        self._session = session
        ids_by_identity, ids_by_email = _owner_ids(session, identities)
        loaded: dict[int, Contact] = {}
        for chunk in _chunks(sorted(set(ids_by_identity.values()) | set(ids_by_email.values()))):
            loaded.update({id_of(c): c for c in session.exec(_CONTACTS, params={"ids": chunk})})
        self._by_identity = {key: loaded[cid] for key, cid in ids_by_identity.items() if cid in loaded}
        self._by_email = {email: loaded[cid] for email, cid in ids_by_email.items() if cid in loaded}
        self._new_links: list[tuple[Contact, IdentityKind, str]] = []
        # id() of a contact merged away → (it, the one it went into); holding it keeps its id() unique
        self._merged_into: dict[int, tuple[Contact, Contact]] = {}
        self.created = 0

    def candidates(self, identity: Identity) -> list[Contact]:
        """The contacts `identity` matches, the one the others would merge into first."""
        found: list[Contact | None] = []
        if identity.person_id:
            found.append(self._by_identity.get((IdentityKind.person_id, identity.person_id)))
        found += [self._by_identity.get((IdentityKind.distinct_id, d)) for d in identity.distinct_ids]
        if identity.email:
            found.append(self._by_email.get(identity.email.lower()))
        unique = list({id(c): c for c in found if c is not None}.values())
        return sorted(unique, key=lambda c: (c.id is None, c.id or 0))

    def changes_only_properties(self, identity: Identity) -> Contact | None:
        """The one stored contact `identity` matches when matching it would change nothing but that contact's
        properties: no contact created or merged, no identity linked, its email unchanged (any case). None
        otherwise: the event changes who is who, which processing does one pass at a time."""
        found = self.candidates(identity)
        if len(found) != 1 or found[0].id is None:
            return None
        keys = [(IdentityKind.distinct_id, d) for d in identity.distinct_ids]
        keys += [(IdentityKind.person_id, identity.person_id)] if identity.person_id else []
        if any(key not in self._by_identity for key in keys):
            return None
        if identity.email and (found[0].email or "").lower() != identity.email.lower():
            return None
        return found[0]

    def _merge(self, survivor: Contact, other: Contact) -> None:
        self.flush()
        _merge_into(self._session, survivor, other)
        self._merged_into[id(other)] = (other, survivor)
        for key, contact in list(self._by_identity.items()):
            if contact is other:
                self._by_identity[key] = survivor
        for email, contact in list(self._by_email.items()):
            if contact is other:
                self._by_email[email] = survivor

    def current(self, contact: Contact) -> Contact:
        """The contact that stands for `contact` now: a later event of the batch may have merged it away."""
        while id(contact) in self._merged_into:
            contact = self._merged_into[id(contact)][1]
        return contact

    def _link(self, contact: Contact, kind: IdentityKind, value: str) -> None:
        if (kind, value) not in self._by_identity:
            self._new_links.append((contact, kind, value))
            self._by_identity[(kind, value)] = contact

    def match_or_create(self, identity: Identity) -> Contact | None:
        """The contact this identity belongs to, merged and updated (its id may only exist after
        `flush`); None when nothing matches and there is no email to create one with."""
        candidates = self.candidates(identity)
        if not candidates:
            if not identity.email:
                return None
            created = clock.now()  # given, not defaulted: pydantic inspects a default factory on every call
            contact = Contact(
                email=identity.email,
                name=(identity.name or "")[:300],
                properties={},
                property_times={},
                created_at=created,
                updated_at=created,
            )
            self._session.add(contact)
            self.created += 1
            self._by_email.setdefault(identity.email.lower(), contact)
        else:
            contact = candidates[0]
            for other in candidates[1:]:
                self._merge(contact, other)
        for distinct_id in identity.distinct_ids:
            self._link(contact, IdentityKind.distinct_id, distinct_id)
        if identity.person_id:
            self._link(contact, IdentityKind.person_id, identity.person_id)
        before = contact.email
        _apply_properties(contact, identity)  # the session tracks the change: the contact is already in it
        if contact.email and contact.email != before:
            self._by_email.setdefault(contact.email.lower(), contact)
        return contact

    def flush(self) -> None:
        """Writes new contacts (getting their ids), then the identities that point at them."""
        self._session.flush()
        if self._new_links:
            rows = [{"contact_id": c.id, "kind": k, "value": v} for c, k, v in self._new_links]
            self._new_links = []
            self._session.execute(insert(ContactIdentity), rows)


def get_contact(*, session: Session, contact_id: int) -> Contact:
    return require(session.get(Contact, contact_id), noun="contact", row_id=contact_id)


def find_contact(*, session: Session, key: str) -> Contact | None:
    """The contact a marketer means by `key`: its id, its email (any case) or one of its distinct_ids."""
    key = key.strip()
    if not key:
        return None
    if key.isdigit() and (by_id := session.get(Contact, int(key))) is not None:
        return by_id
    if "@" in key and (by_email := _by_email(session, key)) is not None:
        return by_email
    return _owner_of(session, key)


def _owner_of(session: Session, identity_value: str) -> Contact | None:
    owner = session.exec(
        select(ContactIdentity.contact_id).where(ContactIdentity.value == identity_value).limit(1)
    ).first()
    return session.get(Contact, owner) if owner is not None else None


def _by_email(session: Session, email: str) -> Contact | None:
    return session.exec(
        select(Contact).where(func.lower(Contact.email) == email.lower()).order_by(col(Contact.id)).limit(1)
    ).first()


def describe_match(*, session: Session, mapped: MappedEvent) -> str:
    """What processing would do with a mapped event's identity — the same matching (ContactBook), without
    changing anything: the mapping preview shows it."""
    identity = identity_from_event(mapped, at=mapped.timestamp or clock.now())
    candidates = ContactBook(session, [identity]).candidates(identity)
    if candidates:
        return f"matches contact #{candidates[0].id} ({candidates[0].email or 'no email yet'})"
    return "creates a new contact" if identity.email else f"skipped: {NO_EMAIL_REASON}"


def identities_of(*, session: Session, contact_id: int) -> list[ContactIdentity]:
    return list(
        session.exec(
            select(ContactIdentity).where(ContactIdentity.contact_id == contact_id).order_by(col(ContactIdentity.id))
        )
    )


def search_contacts(
    *, session: Session, query: str = "", email: str = "", limit: int = 50, before_id: int | None = None
) -> list[Contact]:
    """Newest first; `query` matches email, name or any distinct_id; pages with before_id."""
    stmt = select(Contact)
    if email:
        stmt = stmt.where(func.lower(Contact.email) == email.strip().lower())
    if query:
        like = f"%{query.strip().lower()}%"
        ids_by_identity = select(ContactIdentity.contact_id).where(func.lower(ContactIdentity.value).like(like))
        stmt = stmt.where(
            or_(
                func.lower(Contact.email).like(like),
                func.lower(Contact.name).like(like),
                col(Contact.id).in_(ids_by_identity),
            )
        )
    if before_id:
        stmt = stmt.where(col(Contact.id) < before_id)
    return list(session.exec(stmt.order_by(col(Contact.id).desc()).limit(max(1, min(limit, 200)))))


def contact_as_dict(*, session: Session, contact: Contact, with_identities: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": contact.id,
        "email": contact.email,
        "name": contact.name,
        "properties": contact.properties,
        "unsubscribed_at": contact.unsubscribed_at.isoformat() if contact.unsubscribed_at else None,
        "created_at": contact.created_at.isoformat(),
        "updated_at": contact.updated_at.isoformat(),
    }
    if with_identities:
        identities = identities_of(session=session, contact_id=id_of(contact))
        data["distinct_ids"] = [i.value for i in identities if i.kind == IdentityKind.distinct_id]
        data["person_ids"] = [i.value for i in identities if i.kind == IdentityKind.person_id]
    return data
