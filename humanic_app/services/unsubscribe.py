"""One-click unsubscribe (RFC 8058): signed, unguessable links; POST unsubscribes, GET only asks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlmodel import Session

from humanic_app.models import TRANSACTIONAL, Campaign, Contact, Enrolment, Message
from humanic_app.services import topics, workspace

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


@dataclass(frozen=True)
class Recipient:
    """Whom a genuine link speaks to, and about which email's topic."""

    contact: Contact
    email: str
    topic: str | None  # the email's topic key, TRANSACTIONAL, or None (general marketing)
    topic_name: str  # what the recipient reads for that topic ("" without one)

    @property
    def transactional(self) -> bool:
        return self.topic == TRANSACTIONAL


def _topic_of(session: Session, message: Message) -> str | None:
    enrolment = session.get(Enrolment, message.enrolment_id) if message.enrolment_id else None
    campaign = session.get(Campaign, message.campaign_id) if message.campaign_id else None
    definition = (enrolment.definition if enrolment else None) or (campaign.definition if campaign else None)
    return (definition or {}).get("topic")


def recipient_for(*, session: Session, token: str) -> Recipient | None:
    message = message_for_token(session=session, token=token)
    if message is None or message.contact_id is None:
        return None
    contact = session.get(Contact, message.contact_id)
    if contact is None:
        return None
    key = _topic_of(session, message)
    found = topics.topic_by_key(session=session, key=key) if key and key != TRANSACTIONAL else None
    if key and key != TRANSACTIONAL and found is None:
        key = None  # the topic was deleted since: the email counts as general marketing
    return Recipient(contact, contact.email or message.to_email, key, found.name if found else "")


def unsubscribe(*, session: Session, token: str) -> Recipient | None:
    """RFC 8058 one-click: opts the recipient out of the email's topic. An email without a topic is
    general marketing, so it unsubscribes from all; so does a transactional email's (the strongest
    marketing opt-out: the law wants the click honoured, and account mail keeps going regardless)."""
    recipient = recipient_for(session=session, token=token)
    if recipient is None:
        return None
    if recipient.topic and not recipient.transactional:
        topics.set_topic(session=session, contact=recipient.contact, key=recipient.topic, subscribed=False)
    else:
        topics.unsubscribe_from_all(session=session, contact=recipient.contact, note="one-click unsubscribe")
    return recipient
