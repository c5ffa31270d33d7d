"""Dry run: what would this campaign have sent over the last N days of stored events? Nothing is
written or sent. It replays the stored events of the few names the campaign cares about one at a time,
in the order they were received — as live processing takes them when it keeps up — and decides each
through the same rules as the engine (`rules.py`), so it takes seconds even over hundreds of thousands
of stored events. Journeys are walked the same way: before each event, the timeouts and branches that
came due by the time it was received move on (live, the worker looks every second), then the event
resumes the waits it matches — an event without a contact (a server-side checkout carrying only a
cart_id) resumes `match` waits only; `paths` counts how many contacts took each way out of each node.

What it cannot know is stated in the result's `note` (`DIFFERENCES`).
"""

from __future__ import annotations

import dataclasses
import heapq
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import Contact, EnrolmentStatus, Event, Source
from humanic_app.models.rows import id_of
from humanic_app.services import topics, workspace
from humanic_app.services.campaigns import journeys, rules
from humanic_app.services.campaigns.schema import (
    Branch,
    CampaignDocument,
    Engagement,
    Step,
    WaitFor,
    cohorts_named,
    event_names,
    node_label,
    parse_duration,
    validate_document,
)

MAX_LISTED = 200
UNBOUNDED_LOOKBACK = timedelta(days=3650)

DIFFERENCES = (
    "person_property conditions and recipients use each contact's properties and email as of now; "
    "workspace and source pauses are not replayed; event properties are read through each source's current "
    "field mapping; an email counts as sent when it fell due before the event that ended its enrolment was "
    "received; events that live processing took in one batch (a backlog) were judged there in event-time "
    "order, so where such events arrived out of order the live result can differ. Journeys: timeouts and "
    "branches are taken as moving on when they come due (live, within about a second)."
)
NO_ENGAGEMENT = (
    "a dry run cannot know opens, clicks or deliveries: engagement conditions are counted as not met, the "
    "path a contact takes when engagement is unknown"
)


@dataclasses.dataclass
class _Row:
    id: int
    name: str
    contact_id: int | None  # None: no contact; it only resumes `match` waits
    time: datetime
    received_at: datetime
    properties: dict[str, Any]
    variables: dict[str, Any]  # its template variables, read for trigger events only (a time window's timezone)


@dataclasses.dataclass
class _Email:
    step: int
    due_at: datetime
    written_at: datetime  # when live processing would write its outbox row
    sends_at: datetime  # when the dispatcher would send it: due, written, then quiet hours (rules.quiet_send_at)
    status: str = "scheduled"  # scheduled | sent | cancelled


@dataclasses.dataclass
class _Enrolment:
    event_id: int
    contact_id: int
    enrolled_at: datetime
    received_at: datetime
    trigger_properties: dict[str, Any]
    emails: list[_Email]
    variables: dict[str, Any]
    status: EnrolmentStatus = EnrolmentStatus.active
    stop: rules.Stop | None = None  # where it waits
    trail: list[dict[str, Any]] = dataclasses.field(default_factory=list)


def _load(session: Session, names: set[str], since: datetime, trigger: str) -> list[_Row]:
    """The stored events of these names that journeys take (`journeys.TAKEN`: a contact's, or one without a
    contact) since `since`, in the order they were received."""
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
            journeys.TAKEN,
            col(Event.timestamp) >= since,
        )
        .order_by(col(Event.id))
    )
    return [
        _Row(
            event_id,
            name,
            contact_id,
            timestamp,
            received_at,
            rules.event_properties(payload, mappings.get(source_id)),
            rules.event_variables(payload, mappings.get(source_id)) if name == trigger and contact_id else {},
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

    def __init__(
        self,
        doc: CampaignDocument,
        since: datetime,
        contacts: dict[int, Contact],
        timezone: str = "UTC",
        quiet_default: dict[str, Any] | None = None,
        cohorts: dict[int, list[tuple[int, str]]] | None = None,
    ):
        self.doc, self.since, self.contacts, self.timezone = doc, since, contacts, timezone
        self.cohorts = cohorts or {}  # each contact's PostHog cohorts now: memberships have no history
        self.quiet = rules.quiet_window(own=doc.quiet_hours, workspace_default=quiet_default)
        self.ending_names = set(doc.exit_on) | ({doc.unless.event} if doc.unless else set())
        self.waited = {node.event for node in doc.steps if isinstance(node, WaitFor)}
        self.history: dict[tuple[int, str], list[rules.Past]] = defaultdict(list)
        self.by_name: dict[str, list[rules.Seen]] = defaultdict(list)
        self.enrolments: dict[int, list[_Enrolment]] = defaultdict(list)
        self.in_order: list[_Enrolment] = []
        self.wakes: list[tuple[datetime, int, _Enrolment, rules.Stop]] = []
        self.skipped: Counter[str] = Counter()

    def see(self, row: _Row) -> None:
        self.advance(row.received_at)
        self.by_name[row.name].append(rules.Seen(row.time, row.id, row.contact_id, row.properties))
        if row.contact_id is None:  # no one to end, count or enrol: it only resumes `match` waits
            if row.name in self.waited:
                self._resume(row)
            return
        self.history[(row.contact_id, row.name)].append(rules.Past(row.time, row.id, row.properties))
        if row.name in self.ending_names:
            for enrolment in self.enrolments[row.contact_id]:
                if enrolment.status == EnrolmentStatus.active:
                    self._maybe_end(enrolment, row)
        if row.name in self.waited:
            self._resume(row)
        if row.name == self.doc.trigger.event and row.time >= self.since:
            self._judge(row)

    # --- journeys ---

    def advance(self, until: datetime) -> None:
        """Moves on, earliest first, the waits that timed out and the branches reached by `until`."""
        while self.wakes and self.wakes[0][0] <= until:
            wake_at, _, enrolment, stop = heapq.heappop(self.wakes)
            if enrolment.stop is not stop or enrolment.status != EnrolmentStatus.active:
                continue  # resumed or ended meanwhile
            node = self.doc.steps[stop.index]
            if isinstance(node, WaitFor):
                enrolment.trail.append({"label": node_label(self.doc, stop.index), "took": "timed out"})
                start, at = rules.resume_target(self.doc, stop.index, happened=False), wake_at
            else:
                start, at = stop.index, stop.reached_at
            self._walk(enrolment, start=start, at=at, now=wake_at, caused_by=None)

    def _person(self, contact_id: int) -> dict[str, Any]:
        contact = self.contacts.get(contact_id)
        return contact.properties if contact else {}

    def _walker(self, enrolment: _Enrolment, *, now: datetime, caused_by: int | None) -> rules.Walker:
        person = self._person(enrolment.contact_id)

        def seen(name: str, since: datetime, until: datetime, contact_id: int | None) -> list[rules.Seen]:
            return [
                s
                for s in self.by_name[name]
                if since <= s.time <= until and (contact_id is None or s.contact_id == contact_id)
            ]

        return rules.Walker(
            enrolled_at=enrolment.enrolled_at,
            trigger_properties=enrolment.trigger_properties,
            person_properties=person,
            tz=rules.contact_zone(
                variables=enrolment.variables,
                person_properties=person,
                trigger_properties=enrolment.trigger_properties,
                workspace_timezone=self.timezone,
            ),
            now=now,
            caused_by=caused_by,
            did=lambda name, since, until: seen(name, since, until, enrolment.contact_id),
            engagement=lambda step_index: rules.Engaged(False, "", NO_ENGAGEMENT),
            already=lambda node, reached_at: seen(
                node.event,
                reached_at,
                reached_at + parse_duration(node.timeout),
                None if node.match else enrolment.contact_id,
            ),
            cohorts=lambda: self.cohorts.get(enrolment.contact_id, []),
        )

    def _walk(
        self, enrolment: _Enrolment, *, start: int | None, at: datetime, now: datetime, caused_by: int | None
    ) -> None:
        walker = self._walker(enrolment, now=now, caused_by=caused_by)
        walk = rules.walk(self.doc, start=start, at=at, walker=walker)
        enrolment.emails += [
            _Email(step, due, now, rules.quiet_send_at(self.quiet, due=max(due, now), tz=walker.tz))
            for step, due in walk.emails
        ]
        enrolment.trail += walk.trail
        enrolment.stop = walk.stop
        if walk.stop is not None:
            heapq.heappush(
                self.wakes, (walk.stop.wake_at, len(self.wakes) + id(enrolment) % 1000003, enrolment, walk.stop)
            )

    def _resume(self, row: _Row) -> None:
        """The event resumes every waiting enrolment it matches, oldest first: its contact's, or with
        `match` anyone's."""
        for enrolment in self.in_order:
            stop = enrolment.stop
            if enrolment.status != EnrolmentStatus.active or stop is None:
                continue
            node = self.doc.steps[stop.index]
            if not isinstance(node, WaitFor) or node.event != row.name:
                continue
            if not node.match and enrolment.contact_id != row.contact_id:
                continue
            if rules.wait_for_catches(
                node,
                reached_at=stop.reached_at,
                trigger_properties=enrolment.trigger_properties,
                person_properties=self._person(enrolment.contact_id),
                time=row.time,
                properties=row.properties,
            ):
                enrolment.trail.append({"label": node_label(self.doc, stop.index), "took": "happened"})
                start = rules.resume_target(self.doc, stop.index, happened=True)
                self._walk(enrolment, start=start, at=row.time, now=row.received_at, caused_by=row.id)

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
        enrolment.status, enrolment.stop = verdict[0], None
        cancelled = 0
        for email in enrolment.emails:
            if email.status == "scheduled":
                # live, the dispatcher sends an email once it is due and its row exists; only what is
                # still waiting when the ending event is received gets cancelled
                sent = email.sends_at < row.received_at
                email.status = "sent" if sent else "cancelled"
                cancelled += not sent
        if enrolment.status == EnrolmentStatus.cancelled:
            self.skipped[f"cancelled by unless ({row.name})"] += 1
        elif cancelled:
            self.skipped["step after exit goal"] += cancelled

    def _judge(self, row: _Row) -> None:
        contact_id = row.contact_id
        assert contact_id is not None  # `see` judges only an event with a contact
        doc, contact = self.doc, self.contacts.get(contact_id)
        mine = self.enrolments[contact_id]
        refused = rules.refusal(
            doc,
            properties=row.properties,
            person_properties=contact.properties if contact else {},
            has_email=bool(contact and contact.email),
            time=row.time,
            count=lambda: rules.occurrence(
                self.history[(contact_id, doc.trigger.event)],
                time=row.time,
                event_id=row.id,
                within=doc.trigger.within,
            ),
            statuses=lambda: [e.status for e in mine],
            unless_history=lambda: self.history[(contact_id, doc.unless.event if doc.unless else "")],
            cohorts=lambda: self.cohorts.get(contact_id, []),
        )
        if refused is None:
            enrolment = _Enrolment(row.id, contact_id, row.time, row.received_at, row.properties, [], row.variables)
            mine.append(enrolment)
            self.in_order.append(enrolment)
            self._walk(enrolment, start=0, at=row.time, now=row.received_at, caused_by=row.id)
        elif refused.kind in ("occurrence", "cohort"):
            self.skipped[refused.reason] += 1
        elif refused.kind == "unless":
            assert doc.unless is not None  # only a campaign with `unless` is refused by it
            self.skipped[f"cancelled by unless ({doc.unless.event})"] += 1
        else:
            self.skipped[_SKIP_LABELS[refused.kind]] += 1


def _asks_engagement(doc: CampaignDocument) -> bool:
    return any(
        isinstance(c, Engagement) for node in doc.steps if isinstance(node, Branch) for p in node.paths for c in p.when
    )


def dry_run(*, session: Session, document: dict[str, Any], days: int = 30) -> dict[str, Any]:
    doc: CampaignDocument = validate_document(document)
    now = clock.now()
    since = now - timedelta(days=days)
    counting = doc.trigger.occurrence > 1 or doc.trigger.within
    lookback = (
        (parse_duration(doc.trigger.within) if doc.trigger.within else UNBOUNDED_LOOKBACK) if counting else timedelta(0)
    )
    rows = _load(session, event_names(doc), since - lookback, doc.trigger.event)
    ws = workspace.get_workspace(session=session)
    judged = {r.contact_id for r in rows if r.name == doc.trigger.event and r.contact_id is not None}
    replay = _Replay(
        doc,
        since,
        _contacts(session, judged),
        ws.timezone,
        ws.quiet_hours,
        journeys.cohorts_of(session, judged) if cohorts_named(doc) else None,
    )
    for row in rows:
        replay.see(row)
    replay.advance(now)
    refused = topics.refusals(session=session, topic=doc.topic, contacts=replay.contacts)
    return _summary(replay, days=days, now=now, events_considered=len(rows), refused=refused)


def _paths(replay: _Replay) -> dict[str, dict[str, int]]:
    """How many contacts took each way out of each wait_for and branch: {'Step 1 (wait for x)': {'happened':
    3, 'timed out': 9}}."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for mine in replay.enrolments.values():
        for enrolment in mine:
            for step in enrolment.trail:
                if step["took"] not in ("waited", "exit"):
                    counts[step["label"]][step["took"]] += 1
    return {label: dict(took) for label, took in counts.items()}


def _summary(
    replay: _Replay, *, days: int, now: datetime, events_considered: int, refused: dict[int, str]
) -> dict[str, Any]:
    enrolments = sorted((e for mine in replay.enrolments.values() for e in mine), key=lambda e: e.event_id)
    emails: list[dict[str, Any]] = []
    not_sent = Counter(replay.skipped)
    for enrolment in enrolments:
        if (reason := refused.get(enrolment.contact_id)) is not None:
            not_sent[reason] += sum(email.status != "cancelled" for email in enrolment.emails)
            continue
        to = replay.contacts[enrolment.contact_id].email
        emails += [
            {
                "contact_id": enrolment.contact_id,
                "to": to,
                "step": email.step,
                "due_at": email.due_at.isoformat(),
                # quiet hours move an email to the window's next opening in the contact's timezone
                "sends_at": email.sends_at.isoformat(),
                "already_due": email.sends_at <= now,
            }
            for email in enrolment.emails
            if email.status != "cancelled"
        ]
    emails.sort(key=lambda e: e["sends_at"])
    per_step = Counter(e["step"] for e in emails)
    return {
        "days": days,
        "events_considered": events_considered,
        "contacts": len({e["contact_id"] for e in emails}),
        "emails": len(emails),
        "emails_per_step": [per_step.get(i, 0) for i in range(len(replay.doc.steps))],
        # the same counts for the email nodes only, by the label the builder shows (waits and branches send none)
        "emails_per_email": {
            node_label(replay.doc, i): per_step.get(i, 0)
            for i, node in enumerate(replay.doc.steps)
            if isinstance(node, Step)
        },
        "first_email_at": emails[0]["sends_at"] if emails else None,
        "last_email_at": max(e["sends_at"] for e in emails) if emails else None,
        "held_by_quiet_hours": sum(e["sends_at"] != e["due_at"] for e in emails),
        "not_sent": {reason: n for reason, n in not_sent.most_common() if n},
        "sample": emails[:MAX_LISTED],
        "paths": _paths(replay),
        "waiting": dict(
            Counter(
                node_label(replay.doc, e.stop.index)
                for e in enrolments
                if e.stop and e.status == EnrolmentStatus.active
            )
        ),
        "engagement": NO_ENGAGEMENT if _asks_engagement(replay.doc) else "",
        "enrolments": len(enrolments),
        "enrolment_sample": [
            {"event_id": e.event_id, "contact_id": e.contact_id, "status": e.status.value}
            for e in enrolments[:MAX_LISTED]
        ],
        "note": DIFFERENCES,
    }
