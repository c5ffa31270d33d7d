"""Dry run: what would this campaign have sent over the last N days of stored events? Nothing is
written or sent. It replays the stored events of the few names the campaign cares about one at a time,
in the order they were received — as live processing takes them when it keeps up — and decides each
through the same rules as the engine (`rules.py`), so it takes seconds even over hundreds of thousands
of stored events.

What it cannot know is stated in the result's `note` (`DIFFERENCES`).
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import Contact, EnrolmentStatus, Event, EventOutcome, Source
from humanic_app.models.rows import id_of
from humanic_app.services.campaigns import rules
from humanic_app.services.campaigns.schema import CampaignDocument, parse_duration, validate_document

MAX_LISTED = 200
UNBOUNDED_LOOKBACK = timedelta(days=3650)

DIFFERENCES = (
    "person_property conditions and recipients use each contact's properties and email as of now; "
    "workspace and source pauses are not replayed; event properties are read through each source's current "
    "field mapping; an email counts as sent when it fell due before the event that ended its enrolment was "
    "received; events that live processing took in one batch (a backlog) were judged there in event-time "
    "order, so where such events arrived out of order the live result can differ."
)


@dataclasses.dataclass
class _Row:
    id: int
    name: str
    contact_id: int
    time: datetime
    received_at: datetime
    properties: dict[str, Any]


@dataclasses.dataclass
class _Email:
    step: int
    due_at: datetime
    status: str = "scheduled"  # scheduled | sent | cancelled


@dataclasses.dataclass
class _Enrolment:
    event_id: int
    contact_id: int
    enrolled_at: datetime
    received_at: datetime
    trigger_properties: dict[str, Any]
    emails: list[_Email]
    status: EnrolmentStatus = EnrolmentStatus.active


def _load(session: Session, names: set[str], since: datetime) -> list[_Row]:
    """The contacts' processed events of these names since `since`, in the order they were received."""
    mappings = dict(session.execute(select(Source.id, Source.mapping)).all())
    stmt = (
        select(
            Event.id,
            Event.event_name,
            Event.contact_id,
            Event.timestamp,
            Event.received_at,
            Event.source_id,
            Event.payload,
        )  # type: ignore[call-overload, misc]  # sqlmodel types select() for at most 4 columns
        .where(
            col(Event.event_name).in_(names),
            Event.outcome == EventOutcome.processed,
            col(Event.contact_id).is_not(None),
            col(Event.timestamp) >= since,
        )
        .order_by(col(Event.id))
    )
    return [
        _Row(
            event_id, name, contact_id, timestamp, received_at, rules.event_properties(payload, mappings.get(source_id))
        )
        for event_id, name, contact_id, timestamp, received_at, source_id, payload in session.execute(stmt)
    ]


def _contacts(session: Session, ids: set[int]) -> dict[int, Contact]:
    found: dict[int, Contact] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        found.update({id_of(c): c for c in session.exec(select(Contact).where(col(Contact.id).in_(chunk)))})
    return found


_SKIP_LABELS = {
    "where": "where clause failed",
    "past_occurrence": "occurrence past the one that fires",
    "no_email": "contact has no email",
    "reentry": "re-entry blocked",
}


class _Replay:
    """The engine's decisions for one campaign, event by event, kept in memory."""

    def __init__(self, doc: CampaignDocument, since: datetime, contacts: dict[int, Contact]):
        self.doc, self.since, self.contacts = doc, since, contacts
        self.ending_names = set(doc.exit_on) | ({doc.unless.event} if doc.unless else set())
        self.history: dict[tuple[int, str], list[rules.Past]] = defaultdict(list)
        self.enrolments: dict[int, list[_Enrolment]] = defaultdict(list)
        self.skipped: Counter[str] = Counter()

    def see(self, row: _Row) -> None:
        self.history[(row.contact_id, row.name)].append(rules.Past(row.time, row.id, row.properties))
        if row.name in self.ending_names:
            for enrolment in self.enrolments[row.contact_id]:
                if enrolment.status == EnrolmentStatus.active:
                    self._maybe_end(enrolment, row)
        if row.name == self.doc.trigger.event and row.time >= self.since:
            self._judge(row)

    def _maybe_end(self, enrolment: _Enrolment, row: _Row) -> None:
        verdict = rules.ending(
            self.doc,
            enrolled_at=enrolment.enrolled_at,
            name=row.name,
            time=row.time,
            trigger_properties=enrolment.trigger_properties,
            properties=row.properties,
        )
        if verdict is None:
            return
        enrolment.status = verdict[0]
        cancelled = 0
        for email in enrolment.emails:
            if email.status == "scheduled":
                # live, the dispatcher sends an email once it is due and its enrolment exists; only what is
                # still waiting when the ending event is received gets cancelled
                sent = max(email.due_at, enrolment.received_at) < row.received_at
                email.status = "sent" if sent else "cancelled"
                cancelled += not sent
        if enrolment.status == EnrolmentStatus.cancelled:
            self.skipped[f"cancelled by unless ({row.name})"] += 1
        elif cancelled:
            self.skipped["step after exit goal"] += cancelled

    def _judge(self, row: _Row) -> None:
        doc, contact = self.doc, self.contacts.get(row.contact_id)
        mine = self.enrolments[row.contact_id]
        refused = rules.refusal(
            doc,
            properties=row.properties,
            person_properties=contact.properties if contact else {},
            has_email=bool(contact and contact.email),
            time=row.time,
            count=lambda: rules.occurrence(
                self.history[(row.contact_id, doc.trigger.event)],
                time=row.time,
                event_id=row.id,
                within=doc.trigger.within,
            ),
            statuses=lambda: [e.status for e in mine],
            unless_history=lambda: self.history[(row.contact_id, doc.unless.event if doc.unless else "")],
        )
        if refused is None:
            emails = [_Email(step, due) for step, due in rules.schedule(doc, time=row.time)]
            mine.append(_Enrolment(row.id, row.contact_id, row.time, row.received_at, row.properties, emails))
        elif refused.kind == "occurrence":
            self.skipped[refused.reason] += 1
        elif refused.kind == "unless":
            assert doc.unless is not None  # only a campaign with `unless` is refused by it
            self.skipped[f"cancelled by unless ({doc.unless.event})"] += 1
        else:
            self.skipped[_SKIP_LABELS[refused.kind]] += 1


def dry_run(*, session: Session, document: dict[str, Any], days: int = 30) -> dict[str, Any]:
    doc: CampaignDocument = validate_document(document)
    now = clock.now()
    since = now - timedelta(days=days)
    counting = doc.trigger.occurrence > 1 or doc.trigger.within
    lookback = (
        (parse_duration(doc.trigger.within) if doc.trigger.within else UNBOUNDED_LOOKBACK) if counting else timedelta(0)
    )
    names = {doc.trigger.event, *doc.exit_on} | ({doc.unless.event} if doc.unless else set())
    rows = _load(session, names, since - lookback)
    replay = _Replay(doc, since, _contacts(session, {r.contact_id for r in rows if r.name == doc.trigger.event}))
    for row in rows:
        replay.see(row)
    return _summary(replay, days=days, now=now, events_considered=len(rows))


def _summary(replay: _Replay, *, days: int, now: datetime, events_considered: int) -> dict[str, Any]:
    enrolments = sorted((e for mine in replay.enrolments.values() for e in mine), key=lambda e: e.event_id)
    emails: list[dict[str, Any]] = []
    for enrolment in enrolments:
        to = replay.contacts[enrolment.contact_id].email
        emails += [
            {
                "contact_id": enrolment.contact_id,
                "to": to,
                "step": email.step,
                "due_at": email.due_at.isoformat(),
                "already_due": email.due_at <= now,
            }
            for email in enrolment.emails
            if email.status != "cancelled"
        ]
    emails.sort(key=lambda e: e["due_at"])
    per_step = Counter(e["step"] for e in emails)
    return {
        "days": days,
        "events_considered": events_considered,
        "contacts": len({e["contact_id"] for e in emails}),
        "emails": len(emails),
        "emails_per_step": [per_step.get(i, 0) for i in range(len(replay.doc.steps))],
        "first_email_at": emails[0]["due_at"] if emails else None,
        "last_email_at": emails[-1]["due_at"] if emails else None,
        "not_sent": dict(replay.skipped.most_common()),
        "sample": emails[:MAX_LISTED],
        "enrolments": len(enrolments),
        "enrolment_sample": [
            {"event_id": e.event_id, "contact_id": e.contact_id, "status": e.status.value}
            for e in enrolments[:MAX_LISTED]
        ],
        "note": DIFFERENCES,
    }
