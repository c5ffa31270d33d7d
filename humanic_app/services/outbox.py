"""The outbox: every change to `Message` rows that is not the dispatcher's own send bookkeeping.

Scheduling (campaign steps in bulk, test sends), cancelling what is still pending (by hand, when an
enrolment ends, when a campaign is archived, when a merge leaves a duplicate enrolment), handing a merged
contact's emails to the contact it merged into, releasing what a provider quota held back, retrying a
failed email, and recording how far a sent one got (delivered, opened…). The idempotency key of each row is
decided here: `enrolment-{id}-{enrolled_at µs}-step-{i}` for a campaign step (one email per step of an
enrolment, whatever replays; the time keeps the key unique when SQLite hands an erased enrolment's id to a
new one), `test-{random}` for a test send. A stored key is never rewritten: replays send the stored one.

The dispatcher (dispatcher.py) owns the other transitions — scheduled → sending → sent/failed, and back
to scheduled when the gate or the provider holds a row — because they are one exactly-once protocol
with its claim, its lease and its commit order, on rows it holds locked in its own transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, insert, update
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import Message, MessageStatus
from humanic_app.services.auth import validate_email
from humanic_app.services.errors import ValidationFailed, require

# Resend keeps an idempotency key for 24 h; replays stop an hour short of that, for clocks and calls in flight
REPLAY_WINDOW = timedelta(hours=23)

# Resend's delivery events only move a message forward: a late "delivered" never hides an "opened".
DELIVERY_RANK = {"": 0, "sent": 1, "delivered": 2, "opened": 3, "clicked": 4, "bounced": 5, "complained": 6}


def campaign_key(*, enrolment_id: int, enrolled_at: datetime, step_index: int) -> str:
    """The provider deduplicates on this for 24 h: one email per step of an enrolment, however often it is
    replayed. SQLite reuses the highest ids once erasure deleted their rows, so the id alone could name two
    enrolments within a day and the provider would answer the second one's email without sending it; the
    enrolment's time, in microseconds, tells them apart."""
    aware = enrolled_at if enrolled_at.tzinfo else enrolled_at.replace(tzinfo=UTC)
    micros = round(aware.timestamp() * 1_000_000)
    return f"enrolment-{enrolment_id}-{micros}-step-{step_index}"


def schedule_campaign_emails(*, session: Session, rows: list[dict[str, Any]]) -> None:
    """Bulk-inserts campaign steps: each row has campaign_id, enrolment_id, enrolled_at (for the key; not a
    message column), contact_id, to_email, step_index, due_at, variables, and its status (scheduled, or
    cancelled when the enrolment ended in the same batch) with last_error."""
    if not rows:
        return
    now = clock.now()
    values = []
    for row in rows:
        columns = {k: v for k, v in row.items() if k != "enrolled_at"}
        key = campaign_key(
            enrolment_id=row["enrolment_id"], enrolled_at=row["enrolled_at"], step_index=row["step_index"]
        )
        values.append(
            {
                **columns,
                "created_at": now,
                "attempts": 0,
                "is_test": False,
                "last_error": row["last_error"][:1000],
                "idempotency_key": key,
            }
        )
    session.execute(insert(Message), values)


def create_test_send(
    *,
    session: Session,
    step: dict[str, Any],
    step_index: int,
    to: str,
    variables: dict[str, Any],
    campaign_id: int | None = None,
) -> Message:
    """A test send goes through the outbox and the sender like any email, marked as a test; it renders
    the step it was given, whatever the campaign becomes."""
    to = validate_email(to)
    message = Message(
        campaign_id=campaign_id,
        to_email=to,
        step_index=step_index,
        due_at=clock.now(),
        idempotency_key=f"test-{uuid.uuid4().hex}",
        variables=variables,
        is_test=True,
        test_step=step,
    )
    session.add(message)
    session.flush()
    return message


def cancel(*, session: Session, message_id: int) -> Message:
    """Cancel one scheduled email by hand."""
    message = require(session.get(Message, message_id), noun="message", row_id=message_id)
    if message.status != MessageStatus.scheduled:
        raise ValidationFailed(
            {"status": f"Only scheduled messages can be cancelled; this one is {message.status.value}."}
        )
    message.status, message.last_error = MessageStatus.cancelled, "cancelled by hand"
    session.add(message)
    return message


def cancel_pending(*, session: Session, enrolment_ids: Iterable[int] | Select, reason: str) -> None:
    """Cancel the still-scheduled emails of these enrolments (a list of ids or a SELECT of them): the
    enrolment ended, or its campaign was archived. Emails already `sending` may have reached the provider."""
    session.execute(
        update(Message)
        .where(col(Message.enrolment_id).in_(enrolment_ids), col(Message.status) == MessageStatus.scheduled)
        .values(status=MessageStatus.cancelled, last_error=reason[:1000])
    )


def cancel_scheduled(*, session: Session, message_ids: Iterable[int] | Select, reason: str) -> int:
    """Cancel these emails where they are still scheduled (the contact is being erased); returns how many."""
    result = session.execute(
        update(Message)
        .where(col(Message.id).in_(message_ids), col(Message.status) == MessageStatus.scheduled)
        .values(status=MessageStatus.cancelled, last_error=reason[:1000])
    )
    return int(getattr(result, "rowcount", 0) or 0)


def move_to_contact(*, session: Session, from_contact_id: int, to_contact_id: int) -> None:
    """Two contacts were merged: every email of the one that goes away now belongs to the one that stays,
    whatever its status — the pending ones so that exit goals, `unless` and unsubscribes on the surviving
    contact reach them, the sent ones so that its history, engagement and frequency cap count them. Each
    keeps the address it was scheduled for (that address's suppressions still apply at send time)."""
    session.execute(update(Message).where(col(Message.contact_id) == from_contact_id).values(contact_id=to_contact_id))


def retry(*, session: Session, message_id: int, confirm: bool = False) -> Message:
    """Send a failed email again. One the provider may already have (`maybe_sent_since`) is replayed under
    its original key with the rest of its batch, so the provider deduplicates it; once that key has
    expired a replay could deliver it twice, so it is sent anew only when the person confirms. Any other
    is gated, rendered and batched afresh."""
    message = require(session.get(Message, message_id), noun="message", row_id=message_id)
    if message.erased:
        raise ValidationFailed({"status": "Its contact was erased: this email can never be sent again."})
    if message.status != MessageStatus.failed:
        raise ValidationFailed({"status": f"Only failed messages can be retried; this one is {message.status.value}."})
    now = clock.now()
    if message.maybe_sent_since is not None and message.maybe_sent_since + REPLAY_WINDOW > now:
        for row in _same_call(session, message):
            # an expired lease: the dispatcher's next pass replays the call exactly as recorded
            row.status, row.lease_until, row.attempts = MessageStatus.sending, now - timedelta(seconds=1), 0
            session.add(row)
        return message
    if message.maybe_sent_since is not None and not confirm:
        raise ValidationFailed(
            {
                "confirm": "This email may already have been delivered, and Resend no longer "
                "recognises its key. Check Resend's Emails log for this recipient; "
                "retry with confirmation to send it again."
            }
        )
    message.status, message.due_at, message.attempts = MessageStatus.scheduled, now, 0
    message.batch_key, message.maybe_sent_since = None, None
    session.add(message)
    return message


def _same_call(session: Session, message: Message) -> list[Message]:
    """The rows recorded in the same provider call, which a replay must carry again all together."""
    if message.batch_key is None:
        return [message]
    return list(
        session.exec(
            select(Message).where(
                Message.batch_key == message.batch_key,
                Message.status == MessageStatus.failed,
                col(Message.maybe_sent_since).is_not(None),
            )
        )
    )


def release_held(*, session: Session, held_until: datetime) -> None:
    """A provider quota block was lifted: what it postponed to `held_until` is due now. The dispatcher
    holds such rows with exactly that time — scheduled ones by their due time, `sending` ones (a replay
    waiting) by their lease."""
    now = clock.now()
    session.execute(
        update(Message)
        .where(col(Message.status) == MessageStatus.scheduled, col(Message.due_at) == held_until)
        .values(due_at=now)
    )
    session.execute(
        update(Message)
        .where(col(Message.status) == MessageStatus.sending, col(Message.lease_until) == held_until)
        .values(lease_until=now)
    )


def note_delivery(*, session: Session, message: Message, status: str) -> None:
    """Record what the provider reported about a sent email, unless it already got further."""
    if DELIVERY_RANK[status] > DELIVERY_RANK.get(message.delivery_status, 0):
        message.delivery_status = status
        session.add(message)
