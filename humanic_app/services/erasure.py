"""Erase a contact, or export everything held about one.

Erasing deletes the contact, its identities (distinct_ids, person ids), its events with their payloads
(and the unmatched events of its distinct_ids), its enrolments, and the delivery events of every email to
it or to its address. Those emails are anonymized, not deleted — still-scheduled ones are cancelled
through the outbox first: the row keeps its id, status, times, campaign and sending domain, and nothing
personal (Message.erased). SQLite reuses the highest ids of deleted rows, and an old unsubscribe link names
its message by id, so a deleted row's id could come back as someone else's email. What stays: a salted
hash of the address on the suppression list (suppression.erased_key), which the send-time gate meets like
any suppression, and the hourly counters, which hold no personal data.

Afterwards the person is a stranger: a later event for the address (from PostHog, or one still waiting in
the SQLite inbox at the moment of erasure) is stored and processed as usual and creates a new contact
without history, and every email to that address is refused as suppressed (erased), visibly in Messages.

An email a dispatcher is sending at that moment may still reach the provider; its row is anonymized and
failed, and the dispatcher records on it only whether it was sent (dispatcher._record_erased).

Contact ids are not protected the same way: on SQLite a contact created after the erasure of the newest
one gets its id, so a DELETE retried with that id erases the newer contact.

Events go in batches of ERASE_BATCH, each one DELETE on the (contact_id, id) index, all in the caller's
one transaction: 10,000 events take well under a second (README, "Erase and export a contact").
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from sqlalchemy import String, cast, delete, func, literal, or_, update
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import (
    Contact,
    ContactIdentity,
    DeliveryEvent,
    Enrolment,
    Event,
    IdentityKind,
    Message,
    MessageStatus,
    PosthogCapture,
    PosthogCohortMember,
    Suppression,
    TimedOutWait,
    TopicOptOut,
)
from humanic_app.models.message import ERASED_KEY_PREFIX
from humanic_app.services import contacts, outbox, suppression
from humanic_app.services.errors import ValidationFailed
from humanic_app.services.secret_key import operator_secret
from humanic_app.services.sending import credentials

logger = logging.getLogger(__name__)

ERASE_BATCH = 2000
ERASED_REASON = "contact erased"


@dataclasses.dataclass(frozen=True)
class Erasure:
    """What an erasure removed (`messages`: anonymized): counts only, never the person's data."""

    contact_id: int
    events: int
    identities: int
    enrolments: int
    messages: int
    cancelled: int
    delivery_events: int
    address_suppressed: bool

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _chunks(values: list[Any], size: int = 500):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _deleted(session: Session, statement) -> int:
    return int(getattr(session.execute(statement), "rowcount", 0) or 0)


def _message_ids(session: Session, contact: Contact) -> list[int]:
    """Every email to this contact or to its address (test sends included)."""
    address = (contact.email or "").strip().lower()
    matches = [col(Message.contact_id) == contact.id]
    if address:
        matches.append(func.lower(Message.to_email) == address)
    return list(session.exec(select(Message.id).where(or_(*matches))).all())  # type: ignore[arg-type]


def _anonymize(session: Session, message_ids: list[int]) -> int:
    """Empties these rows of everything personal and frees their keys; the rows stay, so SQLite never hands
    their ids to new emails (an old unsubscribe link names one), and what the sending counts read — status,
    sent_at, from_domain, campaign, delivery_status — stays. One being sent right now is failed: it is never
    replayed, and if the provider took it the dispatcher records only that (dispatcher._record_erased)."""
    rows = col(Message.id).in_(message_ids)
    session.execute(
        update(Message)
        .where(rows, col(Message.status) == MessageStatus.sending)
        .values(status=MessageStatus.failed, lease_until=None)
    )
    anonymous: dict[str, Any] = {
        "to_email": "",
        "contact_id": None,
        "enrolment_id": None,
        "idempotency_key": literal(ERASED_KEY_PREFIX, String) + cast(Message.id, String),
        "variables": {},
        "test_step": None,
        "subject": "",
        "html": "",
        "text": "",
        "from_address": "",
        "last_error": ERASED_REASON,
        "provider_message_id": None,
        "batch_key": None,
        "maybe_sent_since": None,
    }
    return _deleted(session, update(Message).where(rows).values(anonymous))


def _erase_events(session: Session, contact_id: int, distinct_ids: list[str]) -> int:
    count = 0
    while True:
        batch = list(session.exec(select(Event.id).where(Event.contact_id == contact_id).limit(ERASE_BATCH)).all())
        if not batch:
            break
        count += _deleted(session, delete(Event).where(col(Event.id).in_(batch)))
    for chunk in _chunks(distinct_ids):  # its events that matched no contact (no email yet)
        count += _deleted(
            session, delete(Event).where(col(Event.contact_id).is_(None), col(Event.distinct_id).in_(chunk))
        )
    return count


def _secret() -> str:
    secret = operator_secret(create=True)
    if not secret:
        problem = credentials.storage_problem() or ""
        raise ValidationFailed({"contact": f"Cannot keep the erased address suppressed. {problem}".strip()})
    return secret


def erase_contact(*, session: Session, contact_id: int, actor: str) -> Erasure:
    """Erases the contact (see the module's docstring); `actor` names who asked, for the log line."""
    contact = contacts.get_contact(session=session, contact_id=contact_id)
    secret = _secret() if contact.email else ""
    identities = contacts.identities_of(session=session, contact_id=contact_id)
    distinct_ids = [i.value for i in identities if i.kind == IdentityKind.distinct_id]
    message_ids = _message_ids(session, contact)
    enrolment_ids = list(session.exec(select(Enrolment.id).where(Enrolment.contact_id == contact_id)).all())
    cancelled = sum(
        outbox.cancel_scheduled(session=session, message_ids=chunk, reason=ERASED_REASON)
        for chunk in _chunks(message_ids)
    )
    delivery_events = messages = enrolments = 0
    for chunk in _chunks(message_ids):
        delivery_events += _deleted(session, delete(DeliveryEvent).where(col(DeliveryEvent.message_id).in_(chunk)))
        messages += _anonymize(session, chunk)
    for chunk in _chunks(enrolment_ids):
        session.execute(delete(TimedOutWait).where(col(TimedOutWait.enrolment_id).in_(chunk)))
        enrolments += _deleted(session, delete(Enrolment).where(col(Enrolment.id).in_(chunk)))
    events = _erase_events(session, contact_id, distinct_ids)
    session.execute(delete(ContactIdentity).where(col(ContactIdentity.contact_id) == contact_id))
    session.execute(delete(TopicOptOut).where(col(TopicOptOut.contact_id) == contact_id))
    session.execute(delete(PosthogCohortMember).where(col(PosthogCohortMember.contact_id) == contact_id))
    # what was (or would be) written to PostHog holds subjects and links; PostHog's own copy is PostHog's to erase
    session.execute(delete(PosthogCapture).where(col(PosthogCapture.contact_id) == contact_id))
    if contact.email:
        suppression.add_erased(session=session, email=contact.email, secret=secret)
    session.delete(contact)
    session.flush()
    erasure = Erasure(
        contact_id=contact_id,
        events=events,
        identities=len(identities),
        enrolments=enrolments,
        messages=messages,
        cancelled=cancelled,
        delivery_events=delivery_events,
        address_suppressed=bool(contact.email),
    )
    logger.info(
        "contact %s erased by %s at %s: %s",
        contact_id,
        actor,
        clock.now().isoformat(),
        ", ".join(f"{k}={v}" for k, v in erasure.as_dict().items() if k != "contact_id"),
    )
    return erasure


def actor(*, user_id: int | None, api_key_id: int | None) -> str:
    """Who asked for an erasure, for its log line, without naming anyone."""
    return f"user #{user_id}" if user_id is not None else f"API key #{api_key_id}"


def export_file_name(contact_id: int) -> str:
    return f"humanic-contact-{contact_id}.json"


def _row(row: Any, *, without: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: v for k, v in row.model_dump(mode="json").items() if k not in without}


def export_contact(*, session: Session, contact_id: int) -> dict[str, Any]:
    """Everything Humanic holds about the contact, as JSON-ready data."""
    contact = contacts.get_contact(session=session, contact_id=contact_id)
    message_ids = _message_ids(session, contact)
    messages = [
        m for chunk in _chunks(message_ids) for m in session.exec(select(Message).where(col(Message.id).in_(chunk)))
    ]
    deliveries = [
        d
        for chunk in _chunks(message_ids)
        for d in session.exec(select(DeliveryEvent).where(col(DeliveryEvent.message_id).in_(chunk)))
    ]
    suppressions = suppression.is_suppressed(session=session, email=contact.email or "")
    return {
        "exported_at": clock.now().isoformat(),
        "contact": _row(contact),
        "identities": [
            _row(i, without=("contact_id",)) for i in contacts.identities_of(session=session, contact_id=contact_id)
        ],
        "events": [
            _row(e) for e in session.exec(select(Event).where(Event.contact_id == contact_id).order_by(col(Event.id)))
        ],
        "enrolments": [
            _row(e)
            for e in session.exec(
                select(Enrolment).where(Enrolment.contact_id == contact_id).order_by(col(Enrolment.id))
            )
        ],
        "messages": [_row(m) for m in sorted(messages, key=lambda m: m.id or 0)],
        "delivery_events": [_row(d) for d in sorted(deliveries, key=lambda d: d.id or 0)],
        "suppression": _suppression(suppressions),
        "unsubscribed_at": contact.unsubscribed_at.isoformat() if contact.unsubscribed_at else None,
    }


def _suppression(row: Suppression | None) -> dict[str, Any] | None:
    return suppression.as_dict(row) if row is not None else None
