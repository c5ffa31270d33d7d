"""Topics and each contact's choices: the per-topic opt-outs the preference page and the API set, and the
one rule the send-time gate applies to them (`refusal`).

A campaign document names its topic by key (`"topic": "product-tips"`), or says `"topic": "transactional"`
for account and billing mail, or names none (general marketing, which only "unsubscribe from all" stops).
Transactional mail ignores marketing opt-outs — a topic's, "unsubscribe from all" and its mirror on the
suppression list — but never a bounce, a complaint, a manual, provider or erasure suppression."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import TRANSACTIONAL, Campaign, Contact, SuppressionReason, Topic, TopicOptOut
from humanic_app.models.rows import id_of
from humanic_app.services import stats, suppression
from humanic_app.services.errors import Conflict, ValidationFailed, require
from humanic_app.services.posthog import capture

MAX_TOPICS = 50


def key_for(name: str) -> str:
    """The key a topic's name gives: lower case, words joined by hyphens ("Product tips" → "product-tips")."""
    return "-".join(re.findall(r"[a-z0-9]+", name.lower()))[:60].strip("-")


def list_topics(*, session: Session) -> list[Topic]:
    return list(session.exec(select(Topic).order_by(col(Topic.name), col(Topic.id))))


def topic_by_key(*, session: Session, key: str) -> Topic | None:
    return session.exec(select(Topic).where(Topic.key == key)).first()


def _checked_name(name: str) -> tuple[str, str]:
    """The name as stored (spaces collapsed) and the key it gives, or the field's error."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed({"name": "Give the topic a name, for example Product tips."})
    if len(name) > 100:
        raise ValidationFailed({"name": "At most 100 characters."})
    key = key_for(name)
    if not key:
        raise ValidationFailed({"name": "Use at least one letter or digit in the name."})
    if key == TRANSACTIONAL:
        raise ValidationFailed({"name": "Transactional is not a topic: a campaign is transactional or has a topic."})
    return name, key


def create_topic(*, session: Session, name: str) -> Topic:
    name, key = _checked_name(name)
    if topic_by_key(session=session, key=key) is not None:
        raise ValidationFailed({"name": f"A topic named like this already exists (key '{key}')."})
    if len(list_topics(session=session)) >= MAX_TOPICS:
        raise ValidationFailed({"name": f"At most {MAX_TOPICS} topics."})
    topic = Topic(key=key, name=name)
    session.add(topic)
    session.flush()
    return topic


def rename_topic(*, session: Session, topic_id: int, name: str) -> Topic:
    """A new name for recipients and the team; the key stays, so campaigns and opt-outs keep their topic."""
    topic = require(session.get(Topic, topic_id), noun="topic", row_id=topic_id)
    name, _ = _checked_name(name)
    if any(t.id != topic.id and t.name.lower() == name.lower() for t in list_topics(session=session)):
        raise ValidationFailed({"name": f"Another topic is named {name}."})
    topic.name = name
    session.add(topic)
    session.flush()
    return topic


def opt_out_counts(*, session: Session) -> dict[int, int]:
    """Topic id → how many contacts opted out of it (what deleting it would forget)."""
    rows = session.exec(select(TopicOptOut.topic_id, func.count()).group_by(col(TopicOptOut.topic_id))).all()
    return {topic_id: count for topic_id, count in rows}


def campaigns_using(*, session: Session, key: str) -> list[str]:
    return [c.name for c in session.exec(select(Campaign)) if (c.definition or {}).get("topic") == key]


def delete_topic(*, session: Session, topic_id: int) -> None:
    """Deletes a topic no campaign names (its opt-outs go with it)."""
    topic = require(session.get(Topic, topic_id), noun="topic", row_id=topic_id)
    if users := campaigns_using(session=session, key=topic.key):
        raise Conflict(f"Campaigns use this topic: {', '.join(users)}. Give them another topic first.")
    session.execute(delete(TopicOptOut).where(col(TopicOptOut.topic_id) == topic_id))
    session.delete(topic)
    session.flush()


def topic_errors(*, session: Session, topic: str | None) -> dict[str, str]:
    """The campaign document's `topic` must name an existing topic (or be transactional, or absent)."""
    if topic is None or topic == TRANSACTIONAL or topic_by_key(session=session, key=topic) is not None:
        return {}
    known = ", ".join(t.key for t in list_topics(session=session)) or "none yet: add them in Settings"
    return {"topic": f"No topic '{topic}'. Topics: {known}; or 'transactional' for account and billing mail."}


def topic_as_dict(topic: Topic) -> dict[str, Any]:
    return {"id": topic.id, "key": topic.key, "name": topic.name}


# --- A contact's choices ------------------------------------------------------------------------------------


def opted_out_keys(*, session: Session, contact_ids: Iterable[int]) -> set[tuple[int, str]]:
    """(contact id, topic key) for every opt-out of these contacts."""
    ids = set(contact_ids)
    if not ids:
        return set()
    rows = session.exec(
        select(TopicOptOut.contact_id, Topic.key)
        .join(Topic, col(Topic.id) == col(TopicOptOut.topic_id))
        .where(col(TopicOptOut.contact_id).in_(ids))
    ).all()
    return {(contact_id, key) for contact_id, key in rows}


def merge_opt_outs(*, session: Session, survivor_id: int, other_id: int) -> None:
    """A merged contact keeps every topic either contact opted out of."""
    kept = {
        t
        for (_, t) in session.exec(
            select(TopicOptOut.contact_id, TopicOptOut.topic_id).where(TopicOptOut.contact_id == survivor_id)
        )
    }
    for row in session.exec(select(TopicOptOut).where(TopicOptOut.contact_id == other_id)):
        if row.topic_id in kept:
            session.delete(row)
        else:
            row.contact_id = survivor_id
            session.add(row)
    session.flush()


def preferences(*, session: Session, contact: Contact) -> dict[str, Any]:
    out = {k for _, k in opted_out_keys(session=session, contact_ids=[contact.id] if contact.id else [])}
    return {
        "contact_id": contact.id,
        "unsubscribed_from_all": contact.unsubscribed_at is not None,
        "topics": [{**topic_as_dict(t), "subscribed": t.key not in out} for t in list_topics(session=session)],
    }


def set_topic(*, session: Session, contact: Contact, key: str, subscribed: bool) -> None:
    topic = topic_by_key(session=session, key=key)
    if topic is None:
        raise ValidationFailed({f"topics.{key}": f"No topic '{key}'."})
    row = session.exec(
        select(TopicOptOut).where(TopicOptOut.contact_id == contact.id, TopicOptOut.topic_id == topic.id)
    ).first()
    if subscribed and row is not None:
        session.delete(row)
        _tell_posthog(session, contact, "resubscribed", {"topic": key})
    elif not subscribed and row is None:
        session.add(TopicOptOut(contact_id=id_of(contact), topic_id=id_of(topic)))
        _tell_posthog(session, contact, "unsubscribed", {"topic": key})
    session.flush()


def _tell_posthog(session: Session, contact: Contact, kind: str, properties: dict[str, Any]) -> None:
    """A change of subscription, written back to PostHog. Each change is its own fact (its time is in it)."""
    now = clock.now()
    fact = f"{kind}:{contact.id}:{properties.get('topic') or '*'}:{now.isoformat()}"
    capture.enqueue(session=session, facts=[capture.Fact(kind, fact, contact.id, now, properties)])


def unsubscribe_from_all(*, session: Session, contact: Contact, note: str, campaign_id: int | None = None) -> None:
    """Stops every marketing email; mirrored on the suppression list (transactional mail still goes)."""
    if contact.unsubscribed_at is None:
        contact.unsubscribed_at = clock.now()
        session.add(contact)
        stats.count(session, name="unsubscribed", key=str(campaign_id or ""), at=clock.now())
        _tell_posthog(session, contact, "unsubscribed", {"campaign_id": campaign_id, "topic": None})
    if contact.email:
        suppression.add(session=session, email=contact.email, reason=SuppressionReason.unsubscribed, note=note)
    session.flush()


def resubscribe(*, session: Session, contact: Contact) -> None:
    """Undoes "unsubscribe from all" and its suppression entry — only an unsubscribe's: an address
    suppressed for a bounce, a complaint or by hand stays suppressed."""
    if contact.unsubscribed_at is not None:
        _tell_posthog(session, contact, "resubscribed", {"topic": None})
    contact.unsubscribed_at = None
    session.add(contact)
    if contact.email:
        row = suppression.is_suppressed(session=session, email=contact.email)
        if row is not None and row.reason == SuppressionReason.unsubscribed:
            session.delete(row)
    session.flush()


def update_preferences(
    *, session: Session, contact: Contact, unsubscribed_from_all: bool | None, topics: dict[str, bool], note: str
) -> None:
    unknown = [k for k in topics if topic_by_key(session=session, key=k) is None]
    if unknown:
        raise ValidationFailed({f"topics.{k}": f"No topic '{k}'." for k in unknown})
    for key, subscribed in topics.items():
        set_topic(session=session, contact=contact, key=key, subscribed=subscribed)
    if unsubscribed_from_all is True:
        unsubscribe_from_all(session=session, contact=contact, note=note)
    elif unsubscribed_from_all is False and contact.unsubscribed_at is not None:
        resubscribe(session=session, contact=contact)


# --- The send-time rule --------------------------------------------------------------------------------------


def refusal(
    *, topic: str | None, unsubscribed: bool, suppressed_for: str | None, opted_out: bool, topic_name: str = ""
) -> str | None:
    """Why an email on `topic` must not go to this recipient, or None. The one home of the rule."""
    transactional = topic == TRANSACTIONAL
    if unsubscribed and not transactional:
        return "recipient unsubscribed"
    if suppressed_for is not None and not (transactional and suppressed_for == SuppressionReason.unsubscribed.value):
        return f"address suppressed ({suppressed_for})"
    if opted_out and not transactional:
        return f"recipient opted out of the topic '{topic_name or topic}'"
    return None


def refusals(*, session: Session, topic: str | None, contacts: dict[int, Contact]) -> dict[int, str]:
    """Contact id → why an email on `topic` would be refused to them today, by `refusal`: what the dry run
    and Preview say of the contacts they look at."""
    suppressed = suppression.reasons_for(session=session, emails=[c.email for c in contacts.values() if c.email])
    opted_out = opted_out_keys(session=session, contact_ids=contacts)
    found: dict[int, str] = {}
    for contact_id, contact in contacts.items():
        reason = refusal(
            topic=topic,
            unsubscribed=contact.unsubscribed_at is not None,
            suppressed_for=suppressed.get((contact.email or "").strip().lower()),
            opted_out=(contact_id, topic or "") in opted_out,
        )
        if reason is not None:
            found[contact_id] = reason
    return found
