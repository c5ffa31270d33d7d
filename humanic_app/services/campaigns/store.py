"""Create, edit and change the status of campaigns. Edits apply to future enrolments: each enrolment
keeps the definition it started with.

Editing a live journey, the rule: a contact already in it finishes the version it entered under — the
nodes, waits, conditions and emails it had when it enrolled — whatever the edit changes or removes; only
contacts enrolling after the save follow the new version. So nobody is stranded at a node that no longer
exists, no wait is restarted or cut short, an email is never sent twice (one outbox row per node of an
enrolment) and emails already written render as they were scheduled. `edit_effects` says before saving
how many contacts wait at each node the edit changes or removes (the builder shows it).
"""

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
    Message,
)
from humanic_app.models.rows import id_of
from humanic_app.services import outbox, reputation, topics
from humanic_app.services.campaigns import guardrails, journeys, rules
from humanic_app.services.campaigns.schema import (
    CampaignDocument,
    WaitFor,
    cohorts_named,
    document_as_dict,
    length_errors,
    node_id,
    node_label,
    validate_document,
)
from humanic_app.services.errors import ValidationFailed, require
from humanic_app.services.posthog import capture


def awaits_of(doc: CampaignDocument, *, before: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """`before` (what earlier versions awaited) with this version's waits added: see `Campaign.awaits`."""
    awaits = list(before or [])
    for node in doc.steps:
        entry = {"event": node.event, "match": list(node.match or [])} if isinstance(node, WaitFor) else None
        if entry is not None and entry not in awaits:
            awaits.append(entry)
    return awaits


def _validate_for_saving(session: Session, document: dict[str, Any]) -> CampaignDocument:
    doc = validate_document(document)
    if (
        errors := length_errors(doc)
        | topics.topic_errors(session=session, topic=doc.topic)
        | _cohort_errors(session, doc)
    ):
        raise ValidationFailed(errors)
    return doc


def _cohort_errors(session: Session, doc: CampaignDocument) -> dict[str, str]:
    """An `in_cohort` naming no imported cohort would never hold: refused, at its branch or the trigger."""
    named = cohorts_named(doc)
    known = journeys.imported_cohorts(session) if named else []
    errors: dict[str, str] = {}
    for index, name in named:
        if not rules.cohort_named(name, known):
            listed = ", ".join(sorted(n for _, n in known)) or "none yet"
            key, asker = (
                ("trigger.in_cohort", "The trigger") if index is None else (f"steps.{index}", node_label(doc, index))
            )
            errors.setdefault(
                key,
                f"{asker} asks about cohort '{name}', which is not imported: import it in "
                f"Settings → PostHog → Cohorts (imported: {listed}).",
            )
    return errors


def create_campaign(*, session: Session, document: dict[str, Any]) -> Campaign:
    doc = _validate_for_saving(session, document)
    campaign = Campaign(
        name=doc.name, trigger_event=doc.trigger.event, definition=document_as_dict(doc), awaits=awaits_of(doc)
    )
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
    doc = _validate_for_saving(session, document)
    campaign.name, campaign.trigger_event = doc.name, doc.trigger.event
    campaign.definition = document_as_dict(doc)
    campaign.awaits = awaits_of(doc, before=campaign.awaits)
    campaign.updated_at = clock.now()
    session.add(campaign)
    session.flush()
    return campaign


def set_status(*, session: Session, campaign_id: int, status: CampaignStatus) -> Campaign:
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    if status == campaign.status:
        return campaign
    if status not in CAMPAIGN_TRANSITIONS[campaign.status]:
        raise ValidationFailed({"status": f"A {campaign.status.value} campaign cannot become {status.value}."})
    if status == CampaignStatus.active:
        guardrails.require_ready(session=session, campaign=campaign)
    if status == CampaignStatus.archived:
        _end_enrolments_of_archived(session, campaign_id=id_of(campaign))
    if campaign.status == CampaignStatus.paused:  # a Resume: the guardrail's window restarts, if it paused it
        reputation.restart_after_resume(session=session, scope=str(campaign.id))
    campaign.status = status
    if status == CampaignStatus.active:
        campaign.paused_reason = ""
    campaign.updated_at = clock.now()
    session.add(campaign)
    session.flush()
    return campaign


_ARCHIVED = "campaign archived"


def _end_enrolments_of_archived(session: Session, *, campaign_id: int) -> None:
    """Every active enrolment ends: its scheduled emails are cancelled and its exit written back to PostHog."""
    active = (Enrolment.campaign_id == campaign_id, Enrolment.status == EnrolmentStatus.active)
    ending = session.execute(select(Enrolment.id, Enrolment.contact_id).where(*active)).all()
    outbox.cancel_pending(session=session, enrolment_ids=[row.id for row in ending], reason=_ARCHIVED)
    session.execute(
        update(Enrolment)
        .where(col(Enrolment.campaign_id) == campaign_id, col(Enrolment.status) == EnrolmentStatus.active)
        .values(
            status=EnrolmentStatus.cancelled,
            ended_reason=_ARCHIVED,
            position="",
            wake_at=None,
            waiting_for=None,
            waiting_key=None,
        )
    )
    now = clock.now()
    facts = [
        capture.campaign_ended(
            enrolment_id=row.id,
            contact_id=row.contact_id,
            campaign_id=campaign_id,
            reason=_ARCHIVED,
            goal=False,
            at=now,
        )
        for row in ending
    ]
    capture.enqueue(session=session, facts=facts)


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


EDIT_RULE = (
    "Contacts already in this journey finish the version they entered under; only contacts who enrol after "
    "saving follow the new version."
)


def _waiting_at(session: Session, campaign_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Enrolment.position, func.count())
        .where(
            Enrolment.campaign_id == campaign_id, Enrolment.status == EnrolmentStatus.active, Enrolment.position != ""
        )
        .group_by(col(Enrolment.position))
    )
    return {position: count for position, count in rows}


def edit_effects(*, session: Session, campaign_id: int, document: dict[str, Any]) -> dict[str, Any]:
    """What saving `document` over this campaign does to the contacts in it, per node they wait at: the
    node unchanged, changed or removed by the edit — in every case they go on under the version they
    entered with (`EDIT_RULE`). Nothing is written."""
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    old, new = CampaignDocument.model_validate(campaign.definition), _validate_for_saving(session, document)
    new_nodes = {node_id(new, i): node.model_dump(mode="json") for i, node in enumerate(new.steps)}
    in_progress = session.exec(
        select(func.count())
        .select_from(Enrolment)
        .where(Enrolment.campaign_id == campaign_id, Enrolment.status == EnrolmentStatus.active)
    ).one()
    nodes = []
    for position, waiting in sorted(_waiting_at(session, campaign_id).items()):
        index = next((i for i in range(len(old.steps)) if node_id(old, i) == position), None)
        label = node_label(old, index) if index is not None else position
        if position not in new_nodes:
            change = "removed"
        elif index is not None and new_nodes[position] == old.steps[index].model_dump(mode="json"):
            change = "unchanged"
        else:
            change = "changed"
        said = {
            "unchanged": "they go on as before",
            "changed": "they keep the settings they entered under and finish that version",
            "removed": "the node stays in the version they entered under: they go on from it and finish that version",
        }[change]
        nodes.append({"node": position, "label": label, "waiting": waiting, "change": change, "what_happens": said})
    return {"in_progress": in_progress, "rule": EDIT_RULE, "nodes": nodes}


def node_counts(*, session: Session, campaign_id: int) -> dict[str, dict[str, Any]]:
    """Live counts per node id of the current version, for the builder: how many contacts wait there now
    and how many passed through it (each way out of a wait_for or branch counted apart). Emails passed are
    the outbox rows written for that node."""
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    doc = CampaignDocument.model_validate(campaign.definition)
    counts: dict[str, dict[str, Any]] = {
        node_id(doc, i): {"label": node_label(doc, i), "waiting": 0, "passed": 0, "took": {}}
        for i in range(len(doc.steps))
    }
    for position, waiting in _waiting_at(session, campaign_id).items():
        if position in counts:
            counts[position]["waiting"] = waiting
    emails = session.execute(
        select(Message.step_index, func.count())
        .where(Message.campaign_id == campaign_id, col(Message.is_test).is_(False))
        .group_by(col(Message.step_index))
    )
    for index, written in emails:
        if 0 <= index < len(doc.steps):
            counts[node_id(doc, index)]["passed"] = written
    for (trail,) in session.execute(select(Enrolment.trail).where(Enrolment.campaign_id == campaign_id)):
        for step in trail or []:
            if (node := counts.get(step.get("node"))) is not None and step.get("took") not in ("waited", "exit"):
                node["passed"] += 1
                node["took"][step["took"]] = node["took"].get(step["took"], 0) + 1
            elif node is not None:
                node["passed"] += 1
    return counts
