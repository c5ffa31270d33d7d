"""For each processed event: end what it ends (unless / exit goals), then enrol the contact in every
active campaign it triggers, scheduling each step's message at event time + delay.

Runs inside processing's transaction, so enrolments and messages commit with the event's outcome or
not at all; the unique (campaign, trigger event) key makes a replayed event unable to enrol twice.
Every decision — fired or not, and why — is returned for the Event Log's trace.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, update
from sqlmodel import Session, col, select

from humanic_app.models import (
    Campaign,
    CampaignStatus,
    Contact,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventOutcome,
    Message,
    MessageStatus,
)
from humanic_app.services.campaigns.conditions import failing_condition
from humanic_app.services.campaigns.schema import CampaignDocument, parse_duration


@dataclasses.dataclass
class EventFacts:
    """What the engine needs to know about one processed event."""

    event_id: int
    name: str | None
    time: datetime
    properties: dict[str, Any]
    variables: dict[str, Any]
    contact: Contact | None
    source_active: bool
    source_reason: str
    workspace_paused: bool


@dataclasses.dataclass
class ActiveCampaign:
    campaign: Campaign
    document: CampaignDocument


def load_active(session: Session) -> list[ActiveCampaign]:
    rows = session.exec(select(Campaign).where(Campaign.status == CampaignStatus.active).order_by(Campaign.id))
    return [ActiveCampaign(c, CampaignDocument.model_validate(c.definition)) for c in rows]


def ending_events(campaigns: list[ActiveCampaign]) -> set[str]:
    names = set()
    for c in campaigns:
        names.update(c.document.exit_on)
        if c.document.unless:
            names.add(c.document.unless.event)
    return names


def _decision(campaign: Campaign, fired: bool, reason: str) -> dict[str, Any]:
    return {"campaign_id": campaign.id, "campaign": campaign.name, "fired": fired, "reason": reason}


def _cancel_messages(session: Session, enrolment_id: int, reason: str) -> None:
    session.execute(update(Message).where(Message.enrolment_id == enrolment_id,
                                          Message.status == MessageStatus.scheduled)
                    .values(status=MessageStatus.cancelled, last_error=reason[:1000]))


def _end_enrolments(session: Session, facts: EventFacts) -> list[str]:
    """Cancels enrolments this event's `unless` clause catches, exits those it is a goal of."""
    notes = []
    active = session.exec(select(Enrolment).where(Enrolment.contact_id == facts.contact.id,
                                                   Enrolment.status == EnrolmentStatus.active))
    for enrolment in active:
        document = CampaignDocument.model_validate(enrolment.definition)
        if facts.name in document.exit_on and facts.time >= enrolment.enrolled_at:
            enrolment.status, enrolment.ended_reason = EnrolmentStatus.exited, f"reached goal {facts.name}"
        elif _unless_catches(document, enrolment.enrolled_at, enrolment.trigger_properties, facts):
            enrolment.status = EnrolmentStatus.cancelled
            enrolment.ended_reason = f"cancelled by unless: {facts.name} happened within {document.unless.within}"
        else:
            continue
        _cancel_messages(session, enrolment.id, enrolment.ended_reason)
        session.add(enrolment)
        notes.append(f"{document.name}: {enrolment.ended_reason}")
    return notes


def _unless_catches(document: CampaignDocument, enrolled_at: datetime, trigger_properties: dict[str, Any],
                    facts: EventFacts) -> bool:
    unless = document.unless
    if unless is None or facts.name != unless.event:
        return False
    if not (enrolled_at <= facts.time <= enrolled_at + parse_duration(unless.within)):
        return False
    return all(trigger_properties.get(key) == facts.properties.get(key) for key in unless.match)


def _unless_already_happened(session: Session, document: CampaignDocument, facts: EventFacts) -> bool:
    """Out-of-order delivery: the cancelling event may have been processed before the trigger."""
    unless = document.unless
    if unless is None:
        return False
    window_end = facts.time + parse_duration(unless.within)
    rows = session.exec(select(Event.payload, Event.timestamp).where(
        Event.contact_id == facts.contact.id, Event.event_name == unless.event,
        Event.outcome == EventOutcome.processed, Event.timestamp >= facts.time, Event.timestamp <= window_end))
    for payload, _ in rows:
        props = ((payload or {}).get("event") or {}).get("properties") or {}
        if all(facts.properties.get(k) == props.get(k) for k in unless.match):
            return True
    return False


def _occurrence(session: Session, document: CampaignDocument, facts: EventFacts) -> int:
    """How many times this contact has done the trigger event up to and including this one."""
    stmt = select(func.count()).select_from(Event).where(
        Event.contact_id == facts.contact.id, Event.event_name == document.trigger.event,
        Event.outcome == EventOutcome.processed,
        or_(Event.timestamp < facts.time, and_(Event.timestamp == facts.time, Event.id <= facts.event_id)))
    if document.trigger.within:
        stmt = stmt.where(Event.timestamp >= facts.time - parse_duration(document.trigger.within))
    return session.exec(stmt).one()


def _reentry_blocked(session: Session, campaign: ActiveCampaign, contact_id: int) -> str | None:
    rule = campaign.document.reentry
    if rule == "every_time":
        return None
    statuses = session.exec(select(Enrolment.status).where(Enrolment.campaign_id == campaign.campaign.id,
                                                          Enrolment.contact_id == contact_id)).all()
    if rule == "once" and statuses:
        return "re-entry blocked: already enrolled once (reentry: once)"
    if rule == "after_exit" and EnrolmentStatus.active in statuses:
        return "re-entry blocked: still in the sequence (reentry: after_exit)"
    return None


def _enrol(session: Session, campaign: ActiveCampaign, facts: EventFacts) -> str:
    existing = session.exec(select(Enrolment.id).where(Enrolment.campaign_id == campaign.campaign.id,
                                                        Enrolment.trigger_event_id == facts.event_id)).first()
    if existing is not None:
        return "matched: already enrolled by this event"
    enrolment = Enrolment(campaign_id=campaign.campaign.id, contact_id=facts.contact.id,
                          trigger_event_id=facts.event_id, enrolled_at=facts.time,
                          trigger_properties=facts.properties, definition=campaign.campaign.definition)
    session.add(enrolment)
    session.flush()
    dues = []
    for index, step in enumerate(campaign.document.steps):
        due = facts.time + parse_duration(step.delay)
        dues.append(due)
        session.add(Message(campaign_id=campaign.campaign.id, enrolment_id=enrolment.id, contact_id=facts.contact.id,
                            to_email=facts.contact.email, step_index=index, due_at=due,
                            idempotency_key=f"enrolment-{enrolment.id}-step-{index}", variables=facts.variables))
    first = min(dues).strftime("%Y-%m-%d %H:%M UTC")
    return f"matched: enrolled, {len(dues)} email{'s' if len(dues) != 1 else ''} scheduled (first {first})"


def _judge(session: Session, campaign: ActiveCampaign, facts: EventFacts) -> dict[str, Any]:
    c, doc = campaign.campaign, campaign.document
    if facts.name != doc.trigger.event:
        return _decision(c, False, f"event name differs ({facts.name} ≠ {doc.trigger.event})")
    if facts.workspace_paused:
        return _decision(c, False, "workspace paused")
    if not facts.source_active:
        return _decision(c, False, facts.source_reason)
    if facts.contact is None:
        return _decision(c, False, "no contact: the event has no email and matches no known contact")
    failing = failing_condition(doc.trigger.where, facts.properties, facts.contact.properties)
    if failing:
        return _decision(c, False, f"where clause failed: {failing}")
    if doc.trigger.occurrence > 1 or doc.trigger.within:
        count = _occurrence(session, doc, facts)
        if count != doc.trigger.occurrence:
            return _decision(c, False, f"occurrence {count} of {doc.trigger.occurrence}")
    if not facts.contact.email:
        return _decision(c, False, "contact has no email")
    if blocked := _reentry_blocked(session, campaign, facts.contact.id):
        return _decision(c, False, blocked)
    if _unless_already_happened(session, doc, facts):
        return _decision(c, False, f"cancelled by unless: {doc.unless.event} already happened")
    return _decision(c, True, _enrol(session, campaign, facts))


def evaluate(*, session: Session, campaigns: list[ActiveCampaign], facts: EventFacts,
             ending: set[str] | None = None) -> list[dict[str, Any]]:
    """The decision trace for one event, after writing whatever it causes."""
    decisions: list[dict[str, Any]] = []
    if facts.contact is not None and facts.contact.id is not None and facts.name in (
            ending if ending is not None else ending_events(campaigns)):
        for note in _end_enrolments(session, facts):
            decisions.append({"campaign_id": None, "campaign": note.split(":", 1)[0], "fired": False,
                              "reason": note.split(": ", 1)[1]})
    decisions.extend(_judge(session, c, facts) for c in campaigns)
    return decisions


def pending_for_contact(session: Session, contact_id: int) -> list[Message]:
    return list(session.exec(select(Message).where(Message.contact_id == contact_id,
                                                   Message.status == MessageStatus.scheduled)
                             .order_by(col(Message.due_at))))
