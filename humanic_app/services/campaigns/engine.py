"""For each processed event: end what it ends (unless / exit goals), resume the journeys waiting for it,
then enrol the contact in every active campaign it triggers, walking each journey as far as it goes now
and scheduling the emails on the way. `advance_due` moves on the journeys whose wait timed out or whose
branch came due, in the same processing pass (processing.run_pass), so every move happens exactly once,
under the serial processing turn (no partition pass runs meanwhile).

A `CampaignRun` covers one processing batch: it loads the enrolments the batch's contacts already have
in one query, decides in memory, and writes new enrolments and messages in bulk at the end — inside
processing's transaction, so they commit with the events' outcomes or not at all. The unique
(campaign, trigger event) key makes a replayed event unable to enrol twice. Every decision — fired or
not, and why — is returned for the Event Log's trace. The rules themselves live in `rules.py`, which the
dry run replays stored events through as well.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, update
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
    TimedOutWait,
)
from humanic_app.models.rows import any_of, id_of
from humanic_app.services import outbox, stats, workspace
from humanic_app.services.campaigns import journeys, rules
from humanic_app.services.campaigns.journeys import EnrolmentView
from humanic_app.services.campaigns.schema import (
    Branch,
    CampaignDocument,
    WaitFor,
    event_names,
    node_id,
    node_index,
    node_label,
    parse_duration,
)
from humanic_app.services.posthog import capture

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

    @property
    def known_contact(self) -> int | None:
        """The stored contact's id, or None for an event without one (only `match` waits take it)."""
        return self.contact.id if self.contact is not None else None


@dataclasses.dataclass
class ActiveCampaign:
    campaign: Campaign
    document: CampaignDocument


def load_active(session: Session) -> list[ActiveCampaign]:
    rows = session.exec(select(Campaign).where(Campaign.status == CampaignStatus.active).order_by(col(Campaign.id)))
    return [ActiveCampaign(c, CampaignDocument.model_validate(c.definition)) for c in rows]


def used_event_names(session: Session) -> list[str]:
    """Every event name the active campaigns read (schema.event_names), sorted."""
    return sorted({name for c in load_active(session) for name in event_names(c.document)})


def _decision(campaign: Campaign, fired: bool, reason: str) -> dict[str, Any]:
    return {"campaign_id": campaign.id, "campaign": campaign.name, "fired": fired, "reason": reason}


_ENROLMENTS_OF = journeys.select_views().where(any_of(col(Enrolment.contact_id), "ids"))
_ENROLMENTS_BY_ID = journeys.select_views().where(any_of(col(Enrolment.id), "ids"))


class CampaignRun:
    def __init__(
        self,
        session: Session,
        campaigns: list[ActiveCampaign],
        contact_ids: set[int],
        earliest: datetime | None = None,
        unwritten: Sequence[journeys.Unwritten] = (),
    ):
        """`unwritten`: the batch's events, which processing writes after the run (journeys.Unwritten)."""
        self.session = session
        self.unwritten = unwritten
        self.campaigns = campaigns
        self.ending = {name for c in campaigns for name in c.document.exit_on} | {
            c.document.unless.event for c in campaigns if c.document.unless
        }
        self._documents: dict[int, tuple[dict[str, Any], CampaignDocument]] = {}
        self._definitions = journeys.Definitions()  # every query of the run shares its decoded definitions
        self._event_keys: dict[int, set[str]] = {}
        self._by_contact: dict[int, list[EnrolmentView]] = {}
        self._by_id: dict[int, EnrolmentView] = {}
        self._by_key: dict[tuple[str | None, str | None], list[EnrolmentView]] = {}  # waiting enrolments loaded
        self._fetched: dict[str, set[str]] = {}  # the keys already looked up, per event name
        self._timed_out: dict[tuple[str, str], list[tuple[int, datetime, datetime]]] = {}  # match waits, by key
        self._timed_out_fetched: dict[str, set[str]] = {}
        self._timeouts: list[dict[str, Any]] = []  # match waits this run timed out, written at flush
        self._ended: list[EnrolmentView] = []
        self._new: list[EnrolmentView] = []
        self._memo: dict[tuple, Any] = {}
        self._history: dict[tuple[int, str], list[rules.Past]] = {}
        self._people: dict[int, tuple[str | None, dict[str, Any]]] = {}
        self._mappings: dict[int | None, Any] | None = None
        ws = workspace.get_workspace(session=session)
        self._timezone, self._quiet_default = ws.timezone, ws.quiet_hours
        self._match_lists, self.waited = _waits(session)
        self._contact_ids = set(contact_ids)
        self._memberships: dict[int, list[tuple[int, str]]] = {}
        for row in journeys.by_ids(session, _ENROLMENTS_OF, self._contact_ids):
            self._register(EnrolmentView(*row))
        self._load_history(self._contact_ids, earliest)

    def _register(self, view: EnrolmentView) -> None:
        self._by_contact.setdefault(view.contact_id, []).append(view)
        if view.id is not None:
            self._by_id[view.id] = view

    def _load_history(self, contact_ids: set[int], earliest: datetime | None) -> None:
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
        mappings = self.mappings()
        stmt = select(
            Event.contact_id,
            Event.event_name,
            Event.timestamp,
            Event.id,
            Event.source_id,  # type: ignore[call-overload, misc]  # sqlmodel types select() for at most 4 columns
            Event.payload,
        ).where(
            col(Event.event_name).in_(names),
            Event.outcome == EventOutcome.processed,
            any_of(col(Event.contact_id), "contact_ids"),
        )
        if earliest is not None and not unbounded:
            stmt = stmt.where(col(Event.timestamp) >= earliest - lookback)
        rows = journeys.by_ids(self.session, stmt, contact_ids, name="contact_ids")
        for contact_id, name, timestamp, event_id, source_id, payload in rows:
            props = rules.event_properties(payload, mappings.get(source_id))
            self._history.setdefault((contact_id, name), []).append(rules.Past(timestamp, event_id, props))
        since = earliest - lookback if earliest is not None and not unbounded else None
        wanted = contact_ids
        for event in self.unwritten:
            seen = event.seen
            if (
                event.outcome == EventOutcome.processed
                and event.name in names
                and seen.contact_id in wanted
                and (since is None or seen.time >= since)
            ):
                self._history.setdefault((seen.contact_id, event.name), []).append(
                    rules.Past(seen.time, seen.event_id, seen.properties)
                )

    def mappings(self) -> dict[int | None, Any]:
        if self._mappings is None:
            self._mappings = dict(self.session.execute(select(Source.id, Source.mapping)).all())
        return self._mappings

    def _document(self, definition: dict[str, Any]) -> CampaignDocument:
        """The validated document of a definition; the run's enrolments of one journey version share one
        decoded definition (`self._definitions`), so it is validated once per dict, which the memo holds
        alive so its id() stays its own."""
        if id(definition) not in self._documents:
            self._documents[id(definition)] = (definition, CampaignDocument.model_validate(definition))
        return self._documents[id(definition)][1]

    def _end(self, enrolment: EnrolmentView, status: EnrolmentStatus, reason: str) -> None:
        enrolment.status, enrolment.ended_reason = status, reason
        _place(enrolment, position="", reached_at=None, wake_at=None, waiting_for=None, waiting_key=None)
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
            journeys.fill(self.session, [enrolment], definitions=self._definitions)
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
        enrolment = EnrolmentView(
            id=None,
            campaign_id=id_of(campaign.campaign),
            contact_id=facts.contact_id,
            status=EnrolmentStatus.active,
            enrolled_at=facts.time,
            trigger_event_id=facts.event_id,
            trigger_properties=facts.properties,
            definition=campaign.campaign.definition,
            variables=facts.variables,
            filled=True,
        )
        self._people[facts.contact_id] = (facts.contact.email, facts.contact.properties)
        walker = self._walker(enrolment, caused_by=facts.event_id)
        walk = rules.walk(campaign.document, start=0, at=facts.time, walker=walker)
        self._apply(enrolment, campaign.document, walk, walker.tz)
        self._register(enrolment)
        self._new.append(enrolment)
        count = len(enrolment.messages)
        said = f"matched: enrolled, {count} email{'s' if count != 1 else ''} scheduled"
        if enrolment.messages:
            said += f" (first {min(m['due_at'] for m in enrolment.messages).strftime('%Y-%m-%d %H:%M UTC')})"
        if story := walk.describe(campaign.document):
            said += f"; {story}"
        return said

    # --- journeys -------------------------------------------------------------------------------------------

    def _person(self, contact_id: int) -> tuple[str | None, dict[str, Any]]:
        if contact_id not in self._people:
            self._people.update(journeys.contacts(self.session, {contact_id}))
        return self._people.get(contact_id, (None, {}))

    def _walker(self, view: EnrolmentView, *, caused_by: int | None) -> rules.Walker:
        _, properties = self._person(view.contact_id)
        return rules.Walker(
            enrolled_at=view.enrolled_at,
            trigger_properties=view.trigger_properties,
            person_properties=properties,
            tz=rules.contact_zone(
                variables=view.variables,
                person_properties=properties,
                trigger_properties=view.trigger_properties,
                workspace_timezone=self._timezone,
            ),
            now=clock.now(),
            caused_by=caused_by,
            did=lambda name, since, until: journeys.seen(
                self.session,
                self.mappings(),
                name=name,
                since=since,
                until=until,
                contact_id=view.contact_id,
                unwritten=self.unwritten,
            ),
            engagement=lambda step_index: journeys.engagement(self.session, view, step_index),
            already=lambda node, reached_at: journeys.already(
                self.session, self.mappings(), view, node, reached_at, unwritten=self.unwritten
            ),
            cohorts=lambda: self._cohorts(view.contact_id),
        )

    def _cohorts(self, contact_id: int) -> list[tuple[int, str]]:
        """The contact's imported PostHog cohorts, looked up for every contact of the batch at the first ask:
        a batch judges its contacts on memberships as they stood then."""
        if contact_id not in self._memberships:
            wanted = ({contact_id} | self._contact_ids) - set(self._memberships)
            self._memberships.update(journeys.cohorts_of(self.session, wanted))
        return self._memberships[contact_id]

    def _apply(self, view: EnrolmentView, document: CampaignDocument, walk: rules.Walk, tz: ZoneInfo) -> None:
        """Writes what a walk decided onto the enrolment: its emails (outbox rows at flush, each saying from
        the start when quiet hours will hold it), its trail, and where it now waits."""
        email, _ = self._person(view.contact_id)
        quiet = rules.quiet_window(own=document.quiet_hours, workspace_default=self._quiet_default)
        for index, due_at in walk.emails:
            view.messages.append(
                {
                    "campaign_id": view.campaign_id,
                    "contact_id": view.contact_id,
                    "to_email": email,
                    "step_index": index,
                    "due_at": due_at,
                    "status": MessageStatus.scheduled,
                    "variables": view.variables,
                    "last_error": rules.quiet_hold_note(quiet, due=due_at, tz=tz),
                }
            )
        view.trail = view.trail + walk.trail
        stop = walk.stop
        node = document.steps[stop.index] if stop else None
        _place(
            view,
            position=node_id(document, stop.index) if stop else "",
            reached_at=stop.reached_at if stop else None,
            wake_at=stop.wake_at if stop else None,
            waiting_for=stop.waiting_for if stop else None,
            waiting_key=rules.waiting_key(node, contact_id=view.contact_id, trigger_properties=view.trigger_properties)
            if isinstance(node, WaitFor)
            else None,
        )
        if view.waiting_key is not None:  # later events of this batch find it where it now waits
            self._by_key.setdefault((view.waiting_for, view.waiting_key), []).append(view)

    def _keys(self, facts: EventFacts) -> set[str]:
        """The correlation keys under which enrolments waiting for this event are stored (without a contact:
        only its `match` values)."""
        if facts.event_id not in self._event_keys:
            self._event_keys[facts.event_id] = rules.event_keys(
                self._match_lists.get(facts.name or "", []), contact_id=facts.known_contact, properties=facts.properties
            )
        return self._event_keys[facts.event_id]

    def prefetch_waiting(self, batch: list[EventFacts]) -> None:
        """Loads, in one indexed query per awaited event name (per 500 keys), every enrolment the batch's
        events may resume, and the `match` waits under their values that already timed out — instead of
        queries per event."""
        keys: dict[str, set[str]] = {}
        for facts in batch:
            if facts.name in self.waited:
                keys.setdefault(facts.name or "", set()).update(self._keys(facts))
        for name, wanted in keys.items():
            for view in journeys.waiting_under(self.session, name=name, keys=wanted, definitions=self._definitions):
                self._know(view)
            self._fetched.setdefault(name, set()).update(wanted)
            self._fetch_timed_out(name, wanted)

    def _fetch_timed_out(self, name: str, keys: set[str]) -> None:
        wanted = {key for key in keys if key.startswith("m:")} - self._timed_out_fetched.get(name, set())
        for key, enrolment_id, since, deadline in journeys.timed_out_under(self.session, name=name, keys=wanted):
            self._timed_out.setdefault((name, key), []).append((enrolment_id, since, deadline))
        self._timed_out_fetched.setdefault(name, set()).update(wanted)

    def _know(self, view: EnrolmentView) -> EnrolmentView:
        """Registers a loaded waiting enrolment (filling one the run knew without its definition)."""
        known = self._by_id.get(id_of(view))
        if known is None:
            self._register(view)
            self._by_key.setdefault((view.waiting_for, view.waiting_key), []).append(view)
            return view
        if not known.filled and known.position == view.position:
            known.definition, known.variables, known.trail, known.filled = (
                view.definition,
                view.variables,
                view.trail,
                True,
            )
        self._by_key.setdefault((known.waiting_for, known.waiting_key), []).append(known)
        return known

    def _waiting_for(self, facts: EventFacts) -> list[EnrolmentView]:
        """The enrolments this event may resume: its contact's waiting for this name (key `c:<contact>`;
        none for an event without a contact) and — for waits with `match` — anyone's waiting under the
        event's values; from what
        `prefetch_waiting` loaded (or one indexed query for keys it did not), and the run's own changes."""
        name, keys, contact_id = facts.name or "", self._keys(facts), facts.known_contact
        if missing := keys - self._fetched.get(name, set()):
            for view in journeys.waiting_under(self.session, name=name, keys=missing, definitions=self._definitions):
                self._know(view)
            self._fetched.setdefault(name, set()).update(missing)
        found = [v for v in self._by_contact.get(contact_id or 0, []) if v.waiting and v.waiting_for == name]
        found += [v for v in self._new if v.waiting and v.waiting_for == name and v.waiting_key in keys]
        for key in keys:
            found += self._by_key.get((name, key), [])
        unique = {id(v): v for v in found if v.waiting and v.waiting_for == name and v.waiting_key in keys | {None}}
        mine = {id(v): v for v in found if v.contact_id == contact_id and v.waiting and v.waiting_for == name}
        return sorted({**unique, **mine}.values(), key=lambda v: (v.id is None, v.id or 0))

    def _resume(self, facts: EventFacts) -> list[dict[str, Any]]:
        """Every waiting enrolment this event resumes (by event time, correlated by contact or `match`; an
        event without a contact by `match` only), each walked on down its 'happened' path; and, for the
        waits on this event that already timed out, that it arrived late (`_late`)."""
        notes = []
        waiting = self._waiting_for(facts)
        journeys.fill(self.session, waiting, definitions=self._definitions)
        # a `where` on person properties and the walk read each waiting contact's: one query for all of them
        self._people.update(journeys.contacts(self.session, {v.contact_id for v in waiting} - set(self._people)))
        for view in waiting:
            document = self._document(view.definition)
            index = node_index(document)[view.position]
            node = document.steps[index]
            if not isinstance(node, WaitFor) or view.reached_at is None:
                continue
            if not rules.wait_for_catches(
                node,
                reached_at=view.reached_at,
                trigger_properties=view.trigger_properties,
                person_properties=self._person(view.contact_id)[1],
                time=facts.time,
                properties=facts.properties,
            ):
                continue
            view.trail = view.trail + [
                _step(document, index, "happened", f"{facts.name} #{facts.event_id} at {_hm(facts.time)}", facts.time)
            ]
            walker = self._walker(view, caused_by=facts.event_id)
            walk = rules.walk(
                document, start=rules.resume_target(document, index, happened=True), at=facts.time, walker=walker
            )
            self._apply(view, document, walk, walker.tz)
            notes.append(_resumed(view, document, index, walk))
        return notes + self._late(facts)

    def _late(self, facts: EventFacts) -> list[dict[str, Any]]:
        """The enrolments whose wait for this event timed out before it was processed, though it is stamped
        inside the wait: the contact's own, and — for waits with `match` — anyone's under the event's values
        (found on the timed_out_wait index). The timeout path ran; nothing rewinds."""
        name, keys, contact_id = facts.name or "", self._keys(facts), facts.known_contact
        candidates = {
            id_of(v): v for v in self._by_contact.get(contact_id or 0, []) if v.id is not None and not v.waiting
        }
        self._fetch_timed_out(name, keys)
        matched = {
            enrolment_id
            for key in keys
            for enrolment_id, since, deadline in self._timed_out.get((name, key), [])
            if since <= facts.time <= deadline
        }
        candidates.update({id_of(v): v for v in self._load_enrolments(matched - set(candidates))})
        journeys.fill(self.session, list(candidates.values()), definitions=self._definitions)
        notes = []
        for enrolment_id in sorted(candidates):
            view = candidates[enrolment_id]
            for step in view.trail:
                if rules.arrived_late(step, name=facts.name, time=facts.time, keys=keys):
                    notes.append(
                        {
                            "campaign_id": view.campaign_id,
                            "campaign": self._document(view.definition).name,
                            "fired": False,
                            "reason": f"arrived late for enrolment {view.id} of contact {view.contact_id}: "
                            f"{step['label']} timed out at {_hm(datetime.fromisoformat(step['at']))} and its "
                            "timed-out path ran; this event does not rewind it",
                        }
                    )
        return notes

    def _load_enrolments(self, ids: set[int]) -> list[EnrolmentView]:
        """Enrolments by id: the run's own view where it has one, else loaded (and registered)."""
        found = [self._by_id[i] for i in ids if i in self._by_id]
        for row in journeys.by_ids(self.session, _ENROLMENTS_BY_ID, ids - set(self._by_id)):
            view = EnrolmentView(*row)
            self._register(view)
            found.append(view)
        return found

    def _may_resume(self, facts: EventFacts) -> bool:
        """A resumption fires like an enrolment: not from a paused source or workspace. An event without a
        contact resumes only `match` waits."""
        if facts.known_contact is None:
            awaited = facts.name in self._match_lists
        else:
            awaited = facts.name in self.waited or any(
                v.waiting_for == facts.name for v in self._by_contact.get(facts.known_contact, [])
            )
        return awaited and facts.source_active and not facts.workspace_paused

    def advance_due(self, *, now: datetime, limit: int) -> int:
        """Moves on up to `limit` enrolments whose wait_for timed out or whose branch is reached by `now`,
        earliest first; `flush` writes them. Returns how many moved."""
        stmt = (
            journeys.select_filled()
            .where(col(Enrolment.wake_at) <= now, Enrolment.status == EnrolmentStatus.active)
            .order_by(col(Enrolment.wake_at), col(Enrolment.id))
            .limit(limit)
        )
        filled = journeys.filled_views(self.session, stmt, definitions=self._definitions)
        due = [view for view in filled if view.id not in self._by_id]
        for view in due:
            self._register(view)
        self._people.update(journeys.contacts(self.session, {v.contact_id for v in due} - set(self._people)))
        for view in due:
            self._advance(view)
        return len(due)

    def _advance(self, view: EnrolmentView) -> None:
        document = self._document(view.definition)
        index = node_index(document).get(view.position)
        assert view.reached_at is not None and view.wake_at is not None  # set together with the position
        if index is None:  # the definition it runs under has no such node: nothing more to do
            _place(view, position="", reached_at=None, wake_at=None, waiting_for=None, waiting_key=None)
            return
        node = document.steps[index]
        if isinstance(node, WaitFor):
            timed_out = _step(document, index, "timed out", f"no {node.event} by {_hm(view.wake_at)}", view.wake_at)
            # the key of a `match` wait: a late event must carry its values (one without is the contact's own)
            since, key = view.reached_at.isoformat(), view.waiting_key if node.match else None
            view.trail = view.trail + [{**timed_out, "event": node.event, "since": since, "key": key}]
            if node.match and key is not None:
                self._timeouts.append(
                    {
                        "enrolment_id": view.id,
                        "waiting_for": node.event,
                        "waiting_key": key,
                        "since": view.reached_at,
                        "deadline": view.wake_at,
                    }
                )
            start, at = rules.resume_target(document, index, happened=False), view.wake_at
        else:
            assert isinstance(node, Branch)
            start, at = index, view.reached_at
        walker = self._walker(view, caused_by=None)
        walk = rules.walk(document, start=start, at=at, walker=walker)
        self._apply(view, document, walk, walker.tz)
        logger.info(
            "enrolment %s moved on from %s: %s",
            view.id,
            node_label(document, index),
            walk.describe(document) or "to the end",
            extra={"enrolment_id": view.id, "campaign_id": view.campaign_id, "contact_id": view.contact_id},
        )

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
            cohorts=lambda: self._cohorts(facts.contact_id),
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
            if facts.contact is not None and facts.contact.id is not None:
                self._people[facts.contact_id] = (facts.contact.email, facts.contact.properties)
            if self._may_resume(facts):
                decisions.extend(self._resume(facts))
            others = [c for c in self.campaigns if c.document.trigger.event != facts.name]
            decisions.extend(self._judge(c, facts) for c in self.campaigns if c.document.trigger.event == facts.name)
        if len(others) == 1:
            decisions.append(self._judge(others[0], facts))
        elif others:
            decisions.append(_others_summary(others))
        return decisions

    def flush(self) -> bool:
        """Bulk-writes what the batch decided: ended and moved enrolments, then new enrolments, then every
        email written on the way. True when one of the emails is due now (the caller may wake the dispatcher
        instead of awaiting its tick)."""
        hour = stats.hour_of(clock.now())
        counts: Counter = Counter()
        moved = [v for v in self._by_id.values() if v.moved]
        for enrolment in self._ended:
            if enrolment.status == EnrolmentStatus.exited:
                counts[(hour, "goal", str(enrolment.campaign_id))] += 1
        _update_enrolments(self.session, moved)
        for enrolment in self._ended:
            outbox.cancel_pending(session=self.session, enrolment_ids=[id_of(enrolment)], reason=enrolment.ended_reason)
        for enrolment in self._new:
            counts[(hour, "enrolled", str(enrolment.campaign_id))] += 1
        for enrolment in self._new + moved:
            counts[(hour, "scheduled", str(enrolment.campaign_id))] += sum(
                1 for m in enrolment.messages if m["status"] == MessageStatus.scheduled
            )
        stats.bump(self.session, counts)
        if self._timeouts:
            self.session.execute(insert(TimedOutWait), self._timeouts)
            self._timeouts = []
        messages = [{**m, "enrolment_id": v.id, "enrolled_at": v.enrolled_at} for v in moved for m in v.messages]
        messages += self._insert_new()
        capture.enqueue(session=self.session, facts=self._engagement())
        outbox.schedule_campaign_emails(session=self.session, rows=messages)
        for view in moved:
            view.messages, view.moved = [], False
        self._new, self._ended = [], []
        now = clock.now()
        return any(m["status"] == MessageStatus.scheduled and m["due_at"] <= now for m in messages)

    def _engagement(self) -> list[capture.Fact]:
        """The batch's enrolments and endings, written back to PostHog (services/posthog/capture.py)."""
        now = clock.now()
        facts = [
            capture.Fact(
                "campaign_enrolled", f"enrolled:{e.id}", e.contact_id, e.enrolled_at, {"campaign_id": e.campaign_id}
            )
            for e in self._new
        ]
        facts += [
            capture.campaign_ended(
                enrolment_id=e.id,
                contact_id=e.contact_id,
                campaign_id=e.campaign_id,
                reason=e.ended_reason,
                goal=e.status == EnrolmentStatus.exited,
                at=now,
            )
            for e in self._ended
        ]
        return facts

    def _insert_new(self) -> list[dict[str, Any]]:
        """Inserts the batch's new enrolments; returns their emails with the enrolment ids."""
        if not self._new:
            return []
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
                **_journey_columns(e),
                "variables": e.variables,
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
            enrolment.id = enrolment_id
            self._by_id[enrolment_id] = enrolment
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
            messages += [
                {**message, "enrolment_id": enrolment_id, "enrolled_at": enrolment.enrolled_at}
                for message in enrolment.messages
            ]
            enrolment.messages, enrolment.moved = [], False
        return messages


def _journey_columns(view: EnrolmentView) -> dict[str, Any]:
    return {
        "position": view.position,
        "reached_at": view.reached_at,
        "wake_at": view.wake_at,
        "waiting_for": view.waiting_for,
        "waiting_key": view.waiting_key,
        "trail": view.trail,
    }


_MOVED_COLUMNS = ("status", "ended_reason", "position", "reached_at", "wake_at", "waiting_for", "waiting_key", "trail")


def _update_enrolments(session: Session, moved: list[EnrolmentView]) -> None:
    """One executemany UPDATE for the enrolments this run ended or moved (measured on PostgreSQL against
    one `UPDATE … FROM unnest(…)` of 1,000 rows: 45–53 ms against 58–69 ms — the rows' index upkeep is
    the cost, not the statements)."""
    if not moved:
        return
    table = Enrolment.__table__  # type: ignore[attr-defined]  # SQLModel tables carry their Core table
    stmt = (
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values({name: bindparam(f"_{name}") for name in _MOVED_COLUMNS})
    )
    rows = [
        {"_id": v.id, "_status": v.status, "_ended_reason": v.ended_reason[:300]}
        | {f"_{k}": val for k, val in _journey_columns(v).items()}
        for v in moved
    ]
    session.connection().execute(stmt, rows)


def _place(view: EnrolmentView, **where: Any) -> None:
    """Sets where an enrolment waits (or that it waits nowhere), marking an existing one for its UPDATE."""
    for name, value in where.items():
        setattr(view, name, value)
    view.moved = view.id is not None


def _hm(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _step(document: CampaignDocument, index: int, took: str, why: str, at: datetime) -> dict[str, Any]:
    return {
        "node": node_id(document, index),
        "label": node_label(document, index),
        "took": took,
        "why": why,
        "at": at.isoformat(),
    }


def _resumed(view: EnrolmentView, document: CampaignDocument, index: int, walk: rules.Walk) -> dict[str, Any]:
    """The trace line of a resumed enrolment: where it waited, the path taken, and what came of it."""
    emails = len(view.messages)
    then = walk.describe(document)
    return {
        "campaign_id": view.campaign_id,
        "campaign": document.name,
        "fired": True,
        "resumed": {"enrolment_id": view.id, "contact_id": view.contact_id, "node": node_id(document, index)},
        "reason": f"resumed enrolment {view.id if view.id is not None else '(new)'} of contact {view.contact_id} "
        f"at {node_label(document, index)}: happened, {emails} email{'s' if emails != 1 else ''} scheduled"
        + (f"; {then}" if then else ""),
    }


def _waits(session: Session) -> tuple[dict[str, list[list[str]]], set[str]]:
    """From live and paused campaigns, over every version saved (`Campaign.awaits`: a contact may still
    wait under an earlier one): the `match` lists each awaited event name is correlated by, and every
    awaited event name."""
    match_lists: dict[str, list[list[str]]] = {}
    names: set[str] = set()
    rows = session.exec(
        select(col(Campaign.awaits)).where(col(Campaign.status).in_([CampaignStatus.active, CampaignStatus.paused]))
    )
    for awaits in rows:
        for wait in awaits or []:
            names.add(wait["event"])
            if wait["match"] and wait["match"] not in match_lists.setdefault(wait["event"], []):
                match_lists[wait["event"]].append(wait["match"])
    return match_lists, names


def matched_event_names(session: Session) -> set[str]:
    """The event names some journey waits for with `match`: such an event may resume any contact's journey,
    not only its own contact's."""
    return set(_waits(session)[0])


def advance_due(session: Session, *, now: datetime, limit: int) -> tuple[int, bool]:
    """Moves on up to `limit` journeys whose wait timed out or whose branch came due by `now`, inside the
    caller's (processing's) transaction. Returns how many moved, and whether an email they wrote is due now."""
    run = CampaignRun(session, load_active(session), contact_ids=set())
    with session.no_autoflush:
        moved = run.advance_due(now=now, limit=limit)
    return moved, run.flush() if moved else False


def anything_due(session: Session, *, now: datetime) -> bool:
    """Whether a journey's timeout or branch has come due (a cheap look on the wake_at index)."""
    stmt = select(Enrolment.id).where(col(Enrolment.wake_at) <= now, Enrolment.status == EnrolmentStatus.active)
    return session.exec(stmt.limit(1)).first() is not None


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
            ended = capture.campaign_ended(
                enrolment_id=row.id,
                contact_id=survivor_id,
                campaign_id=campaign_id,
                reason=reason,
                goal=False,
                at=clock.now(),
            )
            capture.enqueue(session=session, facts=[ended])
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
