"""One-click unsubscribe (RFC 8058): signed, unguessable links; POST unsubscribes, GET only asks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections import Counter

from sqlmodel import Session

from humanic_app import clock
from humanic_app.models import Contact, Message, SuppressionReason
from humanic_app.services import stats, suppression, workspace

PATH = "/unsubscribe/"


def _key(session: Session) -> bytes:
    ws = workspace.get_workspace(session=session)
    if not ws.link_signing_key:
        ws.link_signing_key = secrets.token_hex(32)
        session.add(ws)
        session.flush()
    return bytes.fromhex(ws.link_signing_key)


def _signature(key: bytes, message_id: int) -> str:
    digest = hmac.new(key, f"unsubscribe:{message_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def token_for(*, session: Session, message_id: int) -> str:
    return f"{message_id}.{_signature(_key(session), message_id)}"


def url_for(*, session: Session, public_url: str, message_id: int) -> str:
    return public_url.rstrip("/") + PATH + token_for(session=session, message_id=message_id)


def token_is_genuine(*, session: Session, token: str) -> bool:
    """Whether this token carries this workspace's signature (the message it names may not exist)."""
    message_id, _, signature = (token or "").partition(".")
    if not message_id.isdigit() or not signature:
        return False
    return hmac.compare_digest(signature.encode(), _signature(_key(session), int(message_id)).encode())


def message_for_token(*, session: Session, token: str) -> Message | None:
    """The message a genuine token names; None for an erased contact's (anonymized) message, whose link
    must neither act nor show anything."""
    if not token_is_genuine(session=session, token=token):
        return None
    message = session.get(Message, int(token.partition(".")[0]))
    return None if message is None or message.erased else message


def unsubscribe(*, session: Session, token: str) -> Contact | None:
    """Marks the recipient's contact unsubscribed; returns it (None for a bad or unknown token)."""
    message = message_for_token(session=session, token=token)
    if message is None or message.contact_id is None:
        return None
    contact = session.get(Contact, message.contact_id)
    if contact is not None and contact.unsubscribed_at is None:
        contact.unsubscribed_at = clock.now()
        session.add(contact)
        stats.bump(session, Counter({(stats.hour_of(clock.now()), "unsubscribed", str(message.campaign_id or "")): 1}))
    suppression.add(
        session=session, email=message.to_email, reason=SuppressionReason.unsubscribed, note="one-click unsubscribe"
    )
    return contact
