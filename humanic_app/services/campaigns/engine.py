"""For each processed event: end what it ends (unless / exit goals), then enrol the contact in every
active campaign it triggers, scheduling each step's message at event time + delay.

A `CampaignRun` covers one processing batch: it loads the enrolments the batch's contacts already have
in one query, decides in memory, and writes new enrolments and messages in bulk at the end — inside
processing's transaction, so they commit with the events' outcomes or not at all. The unique
(campaign, trigger event) key makes a replayed event unable to enrol twice. Every decision — fired or
not, and why — is returned for the Event Log's trace. The rules themselves live in `rules.py`, which the
dry run replays stored events through as well.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import (
    Campaign,
    CampaignStatus,
    Contact,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventOutcome,
    MessageStatus,
    Source,
)
from humanic_app.models.rows import id_of
from humanic_app.services import outbox, stats
from humanic_app.services.campaigns import rules
from humanic_app.services.campaigns.schema import CampaignDocument, parse_duration

logger = logging.getLogger(__name__)


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

    @property
    def contact_id(self) -> int:
        """The stored contact's id, asked for only once the caller knows the event has a contact."""
        if self.contact is None:
            raise ValueError(f"event {self.event_id} has no contact")
        return id_of(self.contact)


@dataclasses.dataclass
class ActiveCampaign:
    campaign: Campaign
    document: CampaignDocument


@dataclasses.dataclass
class _EnrolmentView:
    """An enrolment as the run sees it: existing (id set) or created in this batch (id None)."""

    id: int | None
    campaign_id: int
    contact_id: int
    status: EnrolmentStatus
    enrolled_at: datetime
    trigger_event_id: int
    trigger_properties: dict[str, Any]
    definition: dict[str, Any]
    ended_reason: str = ""
    messages: list[dict[str, Any]] = dataclasses.field(default_factory=list)


def load_active(session: Session) -> list[ActiveCampaign]:
    rows = session.exec(select(Campaign).where(Campaign.status == CampaignStatus.active).order_by(col(Campaign.id)))
    return [ActiveCampaign(c, CampaignDocument.model_validate(c.definition)) for c in rows]


def _decision(campaign: Campaign, fired: bool, reason: str) -> dict[str, Any]:
    return {"campaign_id": campaign.id, "campaign": campaign.name, "fired": fired, "reason": reason}


class CampaignRun:
    def __init__(
        self, session: Session, campaigns: list[ActiveCampaign], contact_ids: set[int], earliest: datetime | None = None
    ):
        self.session = session
        self.campaigns = campaigns
        self.ending = {name for c in campaigns for name in c.document.exit_on} | {
            c.document.unless.event for c in campaigns if c.document.unless
        }
        self._documents: dict[str, CampaignDocument] = {}
        self._by_contact: dict[int, list[_EnrolmentView]] = {}
        self._ended: list[_EnrolmentView] = []
        self._new: list[_EnrolmentView] = []
        self._memo: dict[tuple, Any] = {}
        self._history: dict[tuple[int, str], list[rules.Past]] = {}
        ids = sorted(contact_ids)
        columns = (
            Enrolment.id,
            Enrolment.campaign_id,
            Enrolment.contact_id,
            Enrolment.status,
            Enrolment.enrolled_at,
            Enrolment.trigger_event_id,
            Enrolment.trigger_properties,
        )
        for start in range(0, len(ids), 500):
            rows = session.execute(select(*columns).where(col(Enrolment.contact_id).in_(ids[start : start + 500])))  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns
            for row in rows:
                view = _EnrolmentView(*row, definition={})  # type: ignore[misc]  # an untyped row's length is unknown; its 7 columns fill the fields before `definition`
                self._by_contact.setdefault(view.contact_id, []).append(view)
        self._load_history(ids, earliest)

    def _load_history(self, contact_ids: list[int], earliest: datetime | None) -> None:
        """The batch's contacts' past events of the names that occurrence counting and `unless` look at, in
        one query, so those checks run in memory."""
        names, lookback = set(), parse_duration(0)
        unbounded = False
        for c in self.campaigns:
            trigger = c.document.trigger
            if trigger.occurrence > 1 or trigger.within:
                names.add(trigger.event)
                if trigger.within:
                    lookback = max(lookback, parse_duration(trigger.within))
                else:
                    unbounded = True
            if c.document.unless:
                names.add(c.document.unless.event)
        if not names or not contact_ids:
            return
        mappings = dict(self.session.execute(select(Source.id, Source.mapping)).all())
        stmt = select(
            Event.contact_id,
            Event.event_name,
            Event.timestamp,
            Event.id,
            Event.source_id,  # type: ignore[call-overload, misc]  # sqlmodel types select() for at most 4 columns
            Event.payload,
        ).where(col(Event.event_name).in_(names), Event.outcome == EventOutcome.processed)
        if earliest is not None and not unbounded:
            stmt = stmt.where(col(Event.timestamp) >= earliest - lookback)
        for start in range(0, len(contact_ids), 500):
            for contact_id, name, timestamp, event_id, source_id, payload in self.session.execute(
                stmt.where(col(Event.contact_id).in_(contact_ids[start : start + 500]))
            ):
                props = rules.event_properties(payload, mappings.get(source_id))
                self._history.setdefault((contact_id, name), []).append(rules.Past(timestamp, event_id, props))

    def _document(self, definition: dict[str, Any]) -> CampaignDocument:
        key = json.dumps(definition, sort_keys=True, default=str)
        if key not in self._documents:
            self._documents[key] = CampaignDocument.model_validate(definition)
        return self._documents[key]

    def _end(self, enrolment: _EnrolmentView, status: EnrolmentStatus, reason: str) -> None:
        enrolment.status, enrolment.ended_reason = status, reason
        if enrolment.id is not None:
            self._ended.append(enrolment)
        for message in enrolment.messages:
            if message["status"] == MessageStatus.scheduled:
                message["status"], message["last_error"] = MessageStatus.cancelled, reason

    def _end_enrolments(self, facts: EventFacts) -> list[dict[str, Any]]:
        notes = []
        for enrolment in self._by_contact.get(facts.contact_id, []):
            if enrolment.status != EnrolmentStatus.active:
                continue
            if not enrolment.definition:
                enrolment.definition = self.session.exec(
                    select(col(Enrolment.definition)).where(Enrolment.id == enrolment.id)
                ).one()
            document = self._document(enrolment.definition)
            verdict = rules.ending(
                document,
                enrolled_at=enrolment.enrolled_at,
                trigger_properties=enrolment.trigger_properties,
                name=facts.name,
                time=facts.time,
                properties=facts.properties,
            )
            if verdict is None:
                continue
            self._end(enrolment, *verdict)
            notes.append(
                {
                    "campaign_id": enrolment.campaign_id,
                    "campaign": document.name,
                    "fired": False,
                    "reason": enrolment.ended_reason,
                }
            )
        return notes

    def _occurrence(self, document: CampaignDocument, facts: EventFacts) -> int:
        """How many times this contact has done the trigger event up to and including this one."""
        key = ("occurrence", facts.event_id, document.trigger.event, str(document.trigger.within))
        if key not in self._memo:
            self._memo[key] = rules.occurrence(
                self._history.get((facts.contact_id, document.trigger.event), []),
                time=facts.time,
                event_id=facts.event_id,
                within=document.trigger.within,
            )
        return self._memo[key]

    def _statuses(self, campaign: ActiveCampaign, contact_id: int) -> list[EnrolmentStatus]:
        return [e.status for e in self._by_contact.get(contact_id, []) if e.campaign_id == campaign.campaign.id]

    def _enrol(self, campaign: ActiveCampaign, facts: EventFacts) -> str:
        assert facts.contact is not None  # _judge enrols only an event that has a contact
        for existing in self._by_contact.get(facts.contact_id, []):
            if existing.campaign_id == campaign.campaign.id and existing.trigger_event_id == facts.event_id:
                return "matched: already enrolled by this event"
        enrolment = _EnrolmentView(
            id=None,
            campaign_id=id_of(campaign.campaign),
            contact_id=facts.contact_id,
            status=EnrolmentStatus.active,
            enrolled_at=facts.time,
            trigger_event_id=facts.event_id,
            trigger_properties=facts.properties,
            definition=campaign.campaign.definition,
        )
        for index, due_at in rules.schedule(campaign.document, time=facts.time):
            enrolment.messages.append(
                {
                    "campaign_id": campaign.campaign.id,
                    "contact_id": facts.contact_id,
                    "to_email": facts.contact.email,
                    "step_index": index,
                    "due_at": due_at,
                    "status": MessageStatus.scheduled,
                    "variables": facts.variables,
                    "last_error": "",
                }
            )
        self._by_contact.setdefault(facts.contact_id, []).append(enrolment)
        self._new.append(enrolment)
        first = min(m["due_at"] for m in enrolment.messages).strftime("%Y-%m-%d %H:%M UTC")
        count = len(enrolment.messages)
        return f"matched: enrolled, {count} email{'s' if count != 1 else ''} scheduled (first {first})"

    def _judge(self, campaign: ActiveCampaign, facts: EventFacts) -> dict[str, Any]:
        c, doc = campaign.campaign, campaign.document
        if facts.name != doc.trigger.event:
            return _decision(c, False, f"event name differs ({facts.name} ≠ {doc.trigger.event})")
        if facts.workspace_paused:
            return _decision(c, False, "workspace paused")
        if not facts.source_active:
            return _decision(c, False, facts.source_reason)
        if facts.contact is None:
            return _decision(c, False, "no contact: the event has no email and matches no known contact")
        refused = rules.refusal(
            doc,
            properties=facts.properties,
            person_properties=facts.contact.properties,
            has_email=bool(facts.contact.email),
            time=facts.time,
            count=lambda: self._occurrence(doc, facts),
            statuses=lambda: self._statuses(campaign, facts.contact_id),
            unless_history=lambda: self._history.get((facts.contact_id, doc.unless.event if doc.unless else ""), []),
        )
        if refused:
            return _decision(c, False, refused.reason)
        return _decision(c, True, self._enrol(campaign, facts))

    def evaluate(self, facts: EventFacts) -> list[dict[str, Any]]:
        """The decision trace for one event; what it causes is written by `flush`."""
        with self.session.no_autoflush:
            decisions: list[dict[str, Any]] = []
            if facts.contact is not None and facts.contact.id is not None and facts.name in self.ending:
                decisions.extend(self._end_enrolments(facts))
            others = [c for c in self.campaigns if c.document.trigger.event != facts.name]
            decisions.extend(self._judge(c, facts) for c in self.campaigns if c.document.trigger.event == facts.name)
        if len(others) == 1:
            decisions.append(self._judge(others[0], facts))
        elif others:
            decisions.append(_others_summary(others))
        return decisions

    def flush(self) -> bool:
        """Bulk-writes what the batch decided: ended enrolments, then new enrolments and their messages.
        True when one of the messages is due now (the caller may wake the dispatcher instead of awaiting
        its tick)."""
        hour = stats.hour_of(clock.now())
        counts: Counter = Counter()
        for enrolment in self._ended:
            if enrolment.status == EnrolmentStatus.exited:
                counts[(hour, "goal", str(enrolment.campaign_id))] += 1
            self.session.execute(
                update(Enrolment)
                .where(col(Enrolment.id) == enrolment.id)
                .values(status=enrolment.status, ended_reason=enrolment.ended_reason[:300])
            )
            outbox.cancel_pending(session=self.session, enrolment_ids=[id_of(enrolment)], reason=enrolment.ended_reason)
        for enrolment in self._new:
            counts[(hour, "enrolled", str(enrolment.campaign_id))] += 1
            counts[(hour, "scheduled", str(enrolment.campaign_id))] += sum(
                1 for m in enrolment.messages if m["status"] == MessageStatus.scheduled
            )
        stats.bump(self.session, counts)
        if not self._new:
            return False
        now = clock.now()
        rows = [
            {
                "campaign_id": e.campaign_id,
                "contact_id": e.contact_id,
                "trigger_event_id": e.trigger_event_id,
                "status": e.status,
                "enrolled_at": e.enrolled_at,
                "trigger_properties": e.trigger_properties,
                "definition": e.definition,
                "ended_reason": e.ended_reason[:300],
                "created_at": now,
            }
            for e in self._new
        ]
        ids = (
            self.session.execute(insert(Enrolment).returning(col(Enrolment.id), sort_by_parameter_order=True), rows)
            .scalars()
            .all()
        )
        messages = []
        for enrolment, enrolment_id in zip(self._new, ids, strict=True):
            scheduled = sum(1 for m in enrolment.messages if m["status"] == MessageStatus.scheduled)
            logger.info(
                "evt-%s enrolled contact %s in campaign %s: enrolment %s, %d emails scheduled",
                enrolment.trigger_event_id,
                enrolment.contact_id,
                enrolment.campaign_id,
                enrolment_id,
                scheduled,
                extra={
                    "correlation_id": f"evt-{enrolment.trigger_event_id}",
                    "enrolment_id": enrolment_id,
                    "campaign_id": enrolment.campaign_id,
                    "contact_id": enrolment.contact_id,
                },
            )
            messages += [{**message, "enrolment_id": enrolment_id} for message in enrolment.messages]
        outbox.schedule_campaign_emails(session=self.session, rows=messages)
        self._new, self._ended = [], []
        return any(m["status"] == MessageStatus.scheduled and m["due_at"] <= now for m in messages)


def merge_enrolments(*, session: Session, survivor_id: int, other_id: int) -> None:
    """Contact `other_id` is being merged into `survivor_id`: its enrolments and emails move over, so the
    survivor's exit goals, `unless` events and unsubscribe reach them.

    Where both contacts are enrolled in the same campaign, the merged contact keeps what one contact would
    have been allowed: in the order the enrolments began (trigger time, then id), an active enrolment that
    an earlier one of the *other* contact keeps out under the campaign's re-entry rule (`once`: any earlier
    enrolment; `after_exit`: an earlier one still active; `every_time`: none) is cancelled, and its emails
    still scheduled are cancelled through the outbox with the reason. So a `once` campaign goes on from
    the earlier enrolment and never sends a step twice; an `every_time` campaign keeps both, as it would
    for one contact triggering it twice."""
    columns = (Enrolment.id, Enrolment.campaign_id, Enrolment.contact_id, Enrolment.status, Enrolment.enrolled_at)
    rows = session.execute(
        select(*columns)  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns
        .where(col(Enrolment.contact_id).in_([survivor_id, other_id]))
        .order_by(col(Enrolment.campaign_id), col(Enrolment.enrolled_at), col(Enrolment.id))
    ).all()
    session.execute(update(Enrolment).where(col(Enrolment.contact_id) == other_id).values(contact_id=survivor_id))
    outbox.move_to_contact(session=session, from_contact_id=other_id, to_contact_id=survivor_id)
    by_campaign: dict[int, list[Any]] = {}
    for row in rows:
        by_campaign.setdefault(row.campaign_id, []).append(row)
    shared = [cid for cid, found in by_campaign.items() if len({r.contact_id for r in found}) == 2]
    if not shared:
        return
    definitions = dict(
        session.execute(select(Campaign.id, Campaign.definition).where(col(Campaign.id).in_(shared))).all()
    )
    for campaign_id in shared:
        rule = CampaignDocument.model_validate(definitions[campaign_id]).reentry
        kept: dict[int, list[tuple[int, EnrolmentStatus]]] = {survivor_id: [], other_id: []}
        for row in by_campaign[campaign_id]:
            rival = other_id if row.contact_id == survivor_id else survivor_id
            earlier = kept[rival]
            blocked = rules.reentry_blocked(rule, [status for _, status in earlier])
            if row.status != EnrolmentStatus.active or blocked is None:
                kept[row.contact_id].append((row.id, row.status))
                continue
            keeper = next((eid for eid, status in earlier if status == EnrolmentStatus.active), earlier[0][0])
            reason = (
                f"contacts merged (#{other_id} into #{survivor_id}): already enrolled in this campaign as "
                f"enrolment #{keeper} (reentry: {rule})"
            )
            session.execute(
                update(Enrolment)
                .where(col(Enrolment.id) == row.id)
                .values(status=EnrolmentStatus.cancelled, ended_reason=reason[:300])
            )
            outbox.cancel_pending(session=session, enrolment_ids=[row.id], reason=reason)
            logger.info(
                "cancelled enrolment %s of campaign %s: %s",
                row.id,
                campaign_id,
                reason,
                extra={"enrolment_id": row.id, "campaign_id": campaign_id, "contact_id": survivor_id},
            )


def _others_summary(others: list[ActiveCampaign]) -> dict[str, Any]:
    """One trace line for the many campaigns an event has nothing to do with, instead of one each."""
    triggers = sorted({c.document.trigger.event for c in others})
    listed = ", ".join(triggers[:5]) + ("…" if len(triggers) > 5 else "")
    return {
        "campaign_id": None,
        "campaign": f"{len(others)} other active campaigns",
        "fired": False,
        "reason": f"event name differs: they trigger on {listed}",
    }
