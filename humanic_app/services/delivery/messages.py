"""Reading the outbox: list and show messages with what the provider reported. Changes go through
outbox.py."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from humanic_app.models import Campaign, DeliveryEvent, Message, MessageStatus
from humanic_app.services.errors import ValidationFailed, require


def list_messages(
    *,
    session: Session,
    to: str | None = None,
    status: str | None = None,
    campaign_id: int | None = None,
    contact_id: int | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> list[Message]:
    stmt = select(Message)
    if to:
        stmt = stmt.where(Message.to_email == to.strip().lower())
    if status:
        try:
            stmt = stmt.where(Message.status == MessageStatus(status))
        except ValueError:
            raise ValidationFailed({"status": f"One of: {', '.join(s.value for s in MessageStatus)}."}) from None
    if campaign_id is not None:
        stmt = stmt.where(Message.campaign_id == campaign_id)
    if contact_id is not None:
        stmt = stmt.where(Message.contact_id == contact_id)
    if before_id is not None:
        stmt = stmt.where(col(Message.id) < before_id)
    return list(session.exec(stmt.order_by(col(Message.id).desc()).limit(max(1, min(limit, 500)))))


def campaign_names(*, session: Session, messages: list[Message]) -> dict[int, str]:
    """The names of the campaigns these messages came from, in one query (a list shows a page of messages)."""
    ids = {m.campaign_id for m in messages if m.campaign_id is not None}
    if not ids:
        return {}
    rows = session.exec(select(Campaign.id, Campaign.name).where(col(Campaign.id).in_(ids)))
    return {campaign_id: name for campaign_id, name in rows if campaign_id is not None}


def get_message(*, session: Session, message_id: int) -> Message:
    return require(session.get(Message, message_id), noun="message", row_id=message_id)


def message_as_dict(message: Message, *, full: bool = False) -> dict[str, Any]:
    data = {
        "id": message.id,
        "to": message.to_email,
        "status": message.status.value,
        "due_at": message.due_at.isoformat(),
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
        "campaign_id": message.campaign_id,
        "step": message.step_index,
        "contact_id": message.contact_id,
        "provider_message_id": message.provider_message_id,
        "last_error": message.last_error,
        "attempts": message.attempts,
        "is_test": message.is_test,
        "subject": message.subject,
        "maybe_sent": message.maybe_sent_since is not None and message.status != MessageStatus.sent,
        "erased": message.erased,
    }
    if full:
        data.update(
            {"from": message.from_address, "html": message.html, "text": message.text, "sent_via": message.sent_via}
        )
    return data


def delivery_events(*, session: Session, message_id: int) -> list[dict[str, Any]]:
    """What Resend reported about this message (delivered, opened, bounced…), in the order it happened."""
    rows = session.exec(
        select(DeliveryEvent)
        .where(DeliveryEvent.message_id == message_id)
        .order_by(col(DeliveryEvent.occurred_at), col(DeliveryEvent.id))
    )
    return [{"type": e.type, "occurred_at": (e.occurred_at or e.received_at).isoformat()} for e in rows]
