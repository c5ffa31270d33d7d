"""Create, edit and change the status of campaigns. Edits apply to future enrolments: each enrolment
keeps the definition it started with."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import (
    CAMPAIGN_TRANSITIONS,
    Campaign,
    CampaignStatus,
    Enrolment,
    EnrolmentStatus,
    Event,
    Message,
)
from humanic_app.services import outbox, templates, workspace
from humanic_app.services.campaigns.schema import CampaignDocument, document_as_dict, length_errors, validate_document
from humanic_app.services.errors import ValidationFailed, require


def _validate_for_saving(document: dict[str, Any]) -> CampaignDocument:
    doc = validate_document(document)
    if errors := length_errors(doc):
        raise ValidationFailed(errors)
    return doc


def create_campaign(*, session: Session, document: dict[str, Any]) -> Campaign:
    doc = _validate_for_saving(document)
    campaign = Campaign(name=doc.name, trigger_event=doc.trigger.event, definition=document_as_dict(doc))
    session.add(campaign)
    session.flush()
    return campaign


def get_campaign(*, session: Session, campaign_id: int) -> Campaign:
    return require(session.get(Campaign, campaign_id), noun="campaign", row_id=campaign_id)


def list_campaigns(*, session: Session, include_archived: bool = True) -> list[Campaign]:
    stmt = select(Campaign).order_by(col(Campaign.id))
    if not include_archived:
        stmt = stmt.where(Campaign.status != CampaignStatus.archived)
    return list(session.exec(stmt))


def update_campaign(*, session: Session, campaign_id: int, document: dict[str, Any]) -> Campaign:
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    if campaign.status == CampaignStatus.archived:
        raise ValidationFailed({"status": "An archived campaign cannot be edited; duplicate it instead."})
    doc = _validate_for_saving(document)
    campaign.name, campaign.trigger_event = doc.name, doc.trigger.event
    campaign.definition = document_as_dict(doc)
    campaign.updated_at = clock.now()
    session.add(campaign)
    session.flush()
    return campaign


def activation_blockers(*, session: Session) -> list[str]:
    """Why campaigns cannot go live yet, each with its fix."""
    from humanic_app.services import domains
    from humanic_app.settings import get_settings

    ws = workspace.get_workspace(session=session)
    blockers = []
    if not ws.from_email:
        blockers.append("No default From address: set it in Settings → Default From address.")
    elif problem := domains.sending_domain_problem(
        session=session, from_email=ws.from_email, resend_configured=bool(get_settings().resend_api_key)
    ):
        blockers.append(problem)
    return blockers


def render_blockers(*, session: Session, campaign: Campaign) -> list[str]:
    """Steps that fail to render on the latest event of the campaign's trigger (or the sample event):
    such a step would fail every email it sends."""
    from humanic_app.services.campaigns.preview import variables_for_event

    event = session.exec(
        select(Event).where(Event.event_name == campaign.trigger_event).order_by(col(Event.id).desc()).limit(1)
    ).first()
    variables = variables_for_event(session=session, event=event)
    on = f"event #{event.id}" if event else "the sample event"
    blockers = []
    for index, step in validate_document(campaign.definition).emails():
        if error := templates.render_error(subject=step.subject, html=step.html, text=step.text, variables=variables):
            blockers.append(f"Step {index + 1} cannot be rendered on {on}: {error}. Fix its template first.")
    return blockers


def set_status(*, session: Session, campaign_id: int, status: CampaignStatus) -> Campaign:
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    if status == campaign.status:
        return campaign
    if status not in CAMPAIGN_TRANSITIONS[campaign.status]:
        raise ValidationFailed({"status": f"A {campaign.status.value} campaign cannot become {status.value}."})
    if status == CampaignStatus.active and (
        blockers := activation_blockers(session=session) + render_blockers(session=session, campaign=campaign)
    ):
        raise ValidationFailed({"status": "Cannot activate yet. " + " ".join(blockers)})
    if status == CampaignStatus.archived:
        enrolment_ids = select(Enrolment.id).where(
            Enrolment.campaign_id == campaign.id, Enrolment.status == EnrolmentStatus.active
        )
        outbox.cancel_pending(session=session, enrolment_ids=enrolment_ids, reason="campaign archived")
        session.execute(
            update(Enrolment)
            .where(col(Enrolment.campaign_id) == campaign.id, col(Enrolment.status) == EnrolmentStatus.active)
            .values(status=EnrolmentStatus.cancelled, ended_reason="campaign archived")
        )
    campaign.status = status
    if status == CampaignStatus.active:
        campaign.paused_reason = ""
    campaign.updated_at = clock.now()
    session.add(campaign)
    session.flush()
    return campaign


def overlapping_triggers(*, session: Session, campaign: Campaign) -> list[str]:
    """Other active campaigns on the same trigger event: a contact would get two emails for one event."""
    rows = session.exec(
        select(Campaign.name).where(
            Campaign.status == CampaignStatus.active,
            Campaign.trigger_event == campaign.trigger_event,
            Campaign.id != campaign.id,
        )
    )
    return list(rows)


def message_counts(*, session: Session, campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {cid: {} for cid in campaign_ids}
    if not campaign_ids:
        return counts
    rows = session.execute(
        select(Message.campaign_id, Message.status, func.count())
        .where(col(Message.campaign_id).in_(campaign_ids), col(Message.is_test).is_(False))
        .group_by(col(Message.campaign_id), Message.status)
    )
    for cid, status, n in rows:
        counts[cid][status.value] = n
    return counts


def campaign_as_dict(
    *, campaign: Campaign, counts: dict[str, int] | None = None, overlapping: list[str] | None = None
) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "status": campaign.status.value,
        "trigger_event": campaign.trigger_event,
        "document": campaign.definition,
        "emails_sent": (counts or {}).get("sent", 0),
        "emails_scheduled": (counts or {}).get("scheduled", 0),
        "overlapping_active_campaigns": overlapping or [],
        "paused_reason": campaign.paused_reason,
        "created_at": campaign.created_at.isoformat(),
        "updated_at": campaign.updated_at.isoformat(),
    }
