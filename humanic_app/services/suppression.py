"""Suppressions and Resend's delivery events.

Resend posts delivery events through Svix: the signature (svix-id, svix-timestamp, svix-signature) is
the Standard Webhooks scheme, verified on the raw body with a 5-minute tolerance; svix-id dedupes
retries. A permanent bounce or a complaint suppresses the address; `email.suppressed` mirrors Resend's
own list. A message's delivery status only moves forward, because events arrive out of order.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import DeliveryEvent, Message, Suppression, SuppressionReason
from humanic_app.services import outbox, reputation, signing, stats
from humanic_app.services.auth import validate_email
from humanic_app.services.errors import NotFound, ValidationFailed
from humanic_app.services.mapping import parse_timestamp
from humanic_app.services.posthog import capture
from humanic_app.services.secret_key import operator_secret

EVENT_STATUS = {
    "email.sent": "sent",
    "email.delivered": "delivered",
    "email.opened": "opened",
    "email.clicked": "clicked",
    "email.bounced": "bounced",
    "email.complained": "complained",
}
# Every event record_resend_event acts on: the ones Humanic's own Resend webhook subscribes to.
RESEND_EVENTS = (*EVENT_STATUS, "email.suppressed")

# Only these can raise a rate, so only they are checked: a delivered event (most of them) costs the guardrail
# nothing but its counter, which the check reads.
REPUTATION_EVENTS = {"email.bounced", "email.complained"}

logger = logging.getLogger(__name__)


ERASED_PREFIX = "erased:"


def erased_key(*, email: str, secret: str) -> str:
    """What the suppression list keeps of an erased contact's address: a hash keyed with the operator's
    secret, so the list cannot be turned back into addresses by hashing guesses without that secret."""
    digest = hmac.new(secret.encode(), b"humanic/erased-address\0" + _normal(email).encode(), hashlib.sha256)
    return ERASED_PREFIX + digest.hexdigest()


def _normal(email: str) -> str:
    return (email or "").strip().lower()


def _keys(emails: Iterable[str]) -> dict[str, str]:
    """Every suppression-list entry that would stop mail to these addresses → the address it stands for."""
    plain = {_normal(e) for e in emails if _normal(e)}
    keys = {e: e for e in plain}
    secret = operator_secret(create=False)  # none yet means nothing was ever erased
    if secret:
        keys.update({erased_key(email=e, secret=secret): e for e in plain})
    return keys


def reasons_for(*, session: Session, emails: Iterable[str]) -> dict[str, str]:
    """The one rule every send meets: {address (lower case): reason} for those of `emails` that are
    suppressed, by name or — once their contact was erased — by their salted hash."""
    keys = _keys(emails)
    if not keys:
        return {}
    rows = session.exec(select(Suppression.email, Suppression.reason).where(col(Suppression.email).in_(list(keys))))
    return {keys[key]: SuppressionReason(reason).value for key, reason in rows}


def is_suppressed(*, session: Session, email: str) -> Suppression | None:
    keys = _keys([email])
    if not keys:
        return None
    return session.exec(select(Suppression).where(col(Suppression.email).in_(list(keys)))).first()


def add(*, session: Session, email: str, reason: SuppressionReason, note: str = "") -> Suppression:
    email = validate_email(email)
    existing = is_suppressed(session=session, email=email)
    if existing is not None:
        return existing
    return _insert(session, key=email, reason=reason, note=note)


def add_erased(*, session: Session, email: str, secret: str) -> Suppression:
    """Keeps an erased contact's address suppressed as its salted hash (`erased_key`)."""
    key = erased_key(email=email, secret=secret)
    existing = session.exec(select(Suppression).where(Suppression.email == key)).first()
    return existing or _insert(session, key=key, reason=SuppressionReason.erased, note="contact erased")


def _insert(session: Session, *, key: str, reason: SuppressionReason, note: str) -> Suppression:
    row = Suppression(email=key, reason=reason, note=note[:500])
    session.add(row)
    session.flush()
    return row


def remove(*, session: Session, email: str) -> None:
    row = is_suppressed(session=session, email=email)
    if row is None:
        raise NotFound(f"{email} is not suppressed.")
    session.delete(row)


def list_all(*, session: Session, limit: int = 500) -> list[Suppression]:
    return list(session.exec(select(Suppression).order_by(col(Suppression.id).desc()).limit(limit)))


def as_dict(row: Suppression) -> dict[str, Any]:
    return {"email": row.email, "reason": row.reason.value, "note": row.note, "created_at": row.created_at.isoformat()}


def verify_resend_signature(*, secret: str, headers: dict[str, str], body: bytes) -> str:
    """Svix headers mapped onto the Standard Webhooks check; returns the svix-id."""
    return signing.verify(
        secret=secret,
        body=body,
        headers={
            "webhook-id": headers.get("svix-id", ""),
            "webhook-timestamp": headers.get("svix-timestamp", ""),
            "webhook-signature": headers.get("svix-signature", ""),
        },
    )


def _engagement(svix_id: str, kind: str, data: dict[str, Any], message: Message, at) -> capture.Fact:
    """What PostHog is told of a delivery event: the email's properties, and the link of a click."""
    properties = capture.message_properties(message)
    click = data["click"] if isinstance(data.get("click"), dict) else {}
    if kind == "email.clicked":
        properties["link"] = str(click.get("link") or "")[:2000]
    bounce = data["bounce"] if isinstance(data.get("bounce"), dict) else {}
    if kind == "email.bounced":
        properties["bounce_type"] = str(bounce.get("type") or "")[:50]
    kind_written = capture.RESEND_KINDS[kind]
    return capture.Fact(kind_written, f"resend:{svix_id}", message.contact_id, at or clock.now(), properties)


def record_resend_event(*, session: Session, svix_id: str, payload: dict[str, Any]) -> str:
    """Applies one delivery event; returns 'duplicate', 'recorded' or 'ignored'."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict) or not payload.get("type"):
        raise ValidationFailed({"body": "Expected a Resend event: {type, created_at, data: {email_id, to, …}}."})
    if session.exec(select(DeliveryEvent.id).where(DeliveryEvent.svix_id == svix_id)).first() is not None:
        return "duplicate"
    kind, data = str(payload["type"]), payload["data"]
    provider_id = data.get("email_id")
    message = (
        session.exec(select(Message).where(Message.provider_message_id == provider_id)).first() if provider_id else None
    )
    event = DeliveryEvent(
        svix_id=svix_id,
        type=kind,
        message_id=message.id if message else None,
        provider_message_id=provider_id,
        payload=payload,
        occurred_at=parse_timestamp(payload.get("created_at")),
    )
    savepoint = session.begin_nested()
    try:
        session.add(event)
        session.flush()
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        return "duplicate"
    if kind.startswith("email.") and message is not None:
        stats.count(session, name=kind.removeprefix("email."), key=str(message.campaign_id or ""), at=clock.now())
        if kind in REPUTATION_EVENTS:
            for pause in reputation.check_after_event(session=session, campaign_id=message.campaign_id):
                logger.warning("reputation guardrail: %s", pause)
    status = EVENT_STATUS.get(kind)
    if message is not None and status:
        outbox.note_delivery(session=session, message=message, status=status)
    if message is not None and kind in capture.RESEND_KINDS and kind != "email.sent" and not message.is_test:
        capture.enqueue(session=session, facts=[_engagement(svix_id, kind, data, message, event.occurred_at)])
    recipients = data.get("to") or ([message.to_email] if message else [])
    recipients = recipients if isinstance(recipients, list) else [recipients]
    bounce = data.get("bounce") if isinstance(data.get("bounce"), dict) else {}
    reason = None
    if kind == "email.bounced" and str(bounce.get("type", "Permanent")).lower() in ("permanent", "hard", ""):
        reason = SuppressionReason.bounced
    elif kind == "email.complained":
        reason = SuppressionReason.complained
    elif kind == "email.suppressed":
        reason = SuppressionReason.provider
    if reason is not None:
        for address in recipients:
            add(session=session, email=str(address), reason=reason, note=f"Resend {kind}")
    return "recorded" if (status or reason) else "ignored"
