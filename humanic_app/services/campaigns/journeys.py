"""The database side of journeys, for the engine (engine.py): an enrolment as a processing run sees it,
and the questions a walk asks (`rules.Walker`) answered from stored rows — the contact's events of a name
in a span, what the outbox knows of an earlier email, the stored events a wait_for just reached may take.

Decisions stay in `rules.py`; this module only reads. What is written, and when, is the engine's `flush`.

Which emails exist before a contact reaches them: the emails up to the next `wait_for` or `branch` are
outbox rows (a plain `wait` is passed at once — its end is known — so the emails after it are rows too,
with their later due times); the ones further down are written when the contact moves on (the event, the
timeout or the branch's time). So Messages, the Dashboard's "due in the next 24 h" and Archive's "cancels
N emails" count exactly the rows that exist: emails of a path not yet chosen are in none of them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Row, Text, and_, bindparam, cast, or_
from sqlmodel import Session, col, select

from humanic_app.models import (
    Contact,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventOutcome,
    Message,
    PosthogCohort,
    PosthogCohortMember,
    TimedOutWait,
)
from humanic_app.models.event import NO_EMAIL_REASON
from humanic_app.models.rows import any_of
from humanic_app.services.campaigns import rules
from humanic_app.services.campaigns.schema import WaitFor, parse_duration

# The enrolment columns a run always loads; definition, variables and trail are filled when needed.
COLUMNS = (
    Enrolment.id,
    Enrolment.campaign_id,
    Enrolment.contact_id,
    Enrolment.status,
    Enrolment.enrolled_at,
    Enrolment.trigger_event_id,
    Enrolment.trigger_properties,
    Enrolment.position,
    Enrolment.reached_at,
    Enrolment.wake_at,
    Enrolment.waiting_for,
    Enrolment.waiting_key,
)


@dataclasses.dataclass
class EnrolmentView:
    """An enrolment as a run sees it: existing (id set) or created in this batch (id None)."""

    id: int | None
    campaign_id: int
    contact_id: int
    status: EnrolmentStatus
    enrolled_at: datetime
    trigger_event_id: int
    trigger_properties: dict[str, Any]
    position: str = ""
    reached_at: datetime | None = None
    wake_at: datetime | None = None
    waiting_for: str | None = None
    waiting_key: str | None = None
    definition: dict[str, Any] = dataclasses.field(default_factory=dict)
    variables: dict[str, Any] = dataclasses.field(default_factory=dict)
    trail: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    filled: bool = False
    ended_reason: str = ""
    moved: bool = False  # an existing enrolment whose position changed in this run
    messages: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # emails written in this run

    @property
    def waiting(self) -> bool:
        return self.status == EnrolmentStatus.active and bool(self.position)


# The columns `fill` adds. The definition comes as text, decoded once per distinct text for all the rows
# that share it (every contact waiting in one version of a journey): decoding it per row cost more than
# the rest of resuming a wait.
FILLED = (cast(Enrolment.definition, Text), Enrolment.variables, Enrolment.trail)


class Definitions:
    """Decodes enrolments' definitions, one dict per distinct text, shared by the views that run under
    it (read-only: a run never edits a definition). A run keeps one for all its queries."""

    def __init__(self) -> None:
        self._decoded: dict[str, dict[str, Any]] = {}

    def fill(self, view: EnrolmentView, definition: str, variables: Any, trail: Any) -> EnrolmentView:
        if definition not in self._decoded:
            self._decoded[definition] = json.loads(definition)
        view.definition, view.variables, view.trail = self._decoded[definition], variables or {}, list(trail or [])
        view.filled = True
        return view


def select_filled():
    """The enrolment columns a run loads, and the ones `fill` adds; run it with `filled_views`."""
    return select(*COLUMNS, *FILLED)  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns


def filled_views(
    session: Session, stmt, *, definitions: Definitions, params: dict[str, Any] | None = None
) -> list[EnrolmentView]:
    return [
        definitions.fill(EnrolmentView(*row[: len(COLUMNS)]), *row[len(COLUMNS) :])
        for row in session.connection().execute(stmt, params or {})
    ]


_WAITING_UNDER = (
    select_filled()
    .where(
        Enrolment.waiting_for == bindparam("name"),
        any_of(col(Enrolment.waiting_key), "keys"),
        Enrolment.status == EnrolmentStatus.active,
    )
    .order_by(col(Enrolment.id))
)


def waiting_under(session: Session, *, name: str, keys: set[str], definitions: Definitions) -> list[EnrolmentView]:
    """The active enrolments waiting for `name` under any of `keys` (the (waiting_for, waiting_key) index),
    filled. A statement built once: this runs for every event a journey waits for."""
    if not keys:
        return []
    return filled_views(session, _WAITING_UNDER, definitions=definitions, params={"name": name, "keys": sorted(keys)})


_TIMED_OUT_UNDER = select(
    TimedOutWait.waiting_key, TimedOutWait.enrolment_id, TimedOutWait.since, TimedOutWait.deadline
).where(
    TimedOutWait.waiting_for == bindparam("name"),
    any_of(col(TimedOutWait.waiting_key), "keys"),
)


def timed_out_under(session: Session, *, name: str, keys: set[str]) -> list[tuple[str, int, datetime, datetime]]:
    """The `match` waits for `name` under any of `keys` that timed out (key, enrolment, since, deadline), on
    the (waiting_for, waiting_key) index: the enrolments an event of those values may have arrived late for."""
    if not keys:
        return []
    rows = session.connection().execute(_TIMED_OUT_UNDER, {"name": name, "keys": sorted(keys)})
    return [(key, enrolment_id, since, deadline) for key, enrolment_id, since, deadline in rows]


def select_views():
    return select(*COLUMNS)  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns


def by_ids(session: Session, stmt, ids: set[int], *, name: str = "ids") -> Iterator[Row]:
    """The rows of `stmt`, whose condition is `any_of(…, name)`, for these ids, 500 to a query: SQLite binds
    each id as a parameter of its own, and has a limit on how many one statement may have."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        yield from session.connection().execute(stmt, {name: ordered[start : start + 500]})


_FILLED_BY_ID = select(Enrolment.id, *FILLED).where(any_of(col(Enrolment.id), "ids"))


def fill(session: Session, pending: list[EnrolmentView], *, definitions: Definitions) -> None:
    """Loads definition, variables and trail of existing enrolments that lack them, in one query per 500."""
    todo = {view.id: view for view in pending if not view.filled and view.id is not None}
    for enrolment_id, *filled in by_ids(session, _FILLED_BY_ID, set(todo)):
        definitions.fill(todo[enrolment_id], *filled)
    for view in pending:
        view.filled = True


_EMAIL_AND_PROPERTIES = select(Contact.id, Contact.email, Contact.properties).where(any_of(col(Contact.id), "ids"))


def contacts(session: Session, ids: set[int]) -> dict[int, tuple[str | None, dict[str, Any]]]:
    """Each contact's email and properties."""
    return {cid: (email, properties) for cid, email, properties in by_ids(session, _EMAIL_AND_PROPERTIES, ids)}


_COHORTS_OF = (
    select(PosthogCohortMember.contact_id, PosthogCohort.posthog_id, PosthogCohort.name)
    .join(PosthogCohort, col(PosthogCohort.id) == col(PosthogCohortMember.cohort_id))
    .where(any_of(col(PosthogCohortMember.contact_id), "ids"))
)


def cohorts_of(session: Session, ids: set[int]) -> dict[int, list[tuple[int, str]]]:
    """Each contact's imported PostHog cohorts as (PostHog id, name): what `in_cohort` asks."""
    found: dict[int, list[tuple[int, str]]] = {cid: [] for cid in ids}
    for contact_id, posthog_id, name in by_ids(session, _COHORTS_OF, ids):
        found[contact_id].append((posthog_id, name))
    return found


def imported_cohorts(session: Session) -> list[tuple[int, str]]:
    """Every imported cohort as (PostHog id, name)."""
    return [(pid, name) for pid, name in session.execute(select(PosthogCohort.posthog_id, PosthogCohort.name))]


# The stored events journeys (and the dry run) take: those processing processed, and those it judged
# without a contact — skipped for want of one, say a server-side checkout_completed carrying only a
# cart_id — which `match` waits take. Not duplicates, legacy notifications or processing errors.
TAKEN = or_(
    col(Event.outcome) == EventOutcome.processed,
    and_(
        col(Event.outcome) == EventOutcome.skipped,
        col(Event.contact_id).is_(None),
        col(Event.reason).startswith(NO_EMAIL_REASON, autoescape=True),
    ),
)


def taken(outcome: EventOutcome, contact_id: int | None, reason: str) -> bool:
    """`TAKEN` for an event in memory (`Unwritten`); the two are one rule and must say the same."""
    if outcome == EventOutcome.processed:
        return True
    return outcome == EventOutcome.skipped and contact_id is None and reason.startswith(NO_EMAIL_REASON)


class Unwritten(NamedTuple):
    """An event of the batch being processed, as its row will read once processing writes it: processing
    writes each event's row once, after campaigns judged the batch, so what campaigns read of stored events
    (a contact's history, `seen`) reads the batch's events from here."""

    name: str | None
    outcome: EventOutcome
    reason: str
    seen: rules.Seen

    @property
    def taken(self) -> bool:
        return taken(self.outcome, self.seen.contact_id, self.reason)


def seen(
    session: Session,
    mappings: dict[int | None, Any],
    *,
    name: str,
    since: datetime,
    until: datetime,
    contact_id: int | None,
    unwritten: Sequence[Unwritten] = (),
) -> list[rules.Seen]:
    """Stored events of `name` (`TAKEN`) stamped in [since, until] — of one contact, or of anyone (those
    without a contact included) — and those of the batch being processed (`unwritten`)."""
    stmt = select(Event.timestamp, Event.id, Event.contact_id, Event.source_id, Event.payload).where(  # type: ignore[call-overload, misc]  # sqlmodel types select() for at most 4 columns
        Event.event_name == name,
        TAKEN,
        col(Event.timestamp) >= since,
        col(Event.timestamp) <= until,
    )
    if contact_id is not None:
        stmt = stmt.where(Event.contact_id == contact_id)
    stored = [
        rules.Seen(timestamp, event_id, cid, rules.event_properties(payload, mappings.get(source_id)))
        for timestamp, event_id, cid, source_id, payload in session.execute(stmt)
    ]
    return stored + [
        event.seen
        for event in unwritten
        if event.name == name
        and event.taken
        and since <= event.seen.time <= until
        and (contact_id is None or event.seen.contact_id == contact_id)
    ]


def already(
    session: Session,
    mappings: dict[int | None, Any],
    view: EnrolmentView,
    node: WaitFor,
    reached_at: datetime,
    unwritten: Sequence[Unwritten] = (),
) -> list[rules.Seen]:
    """The stored events a wait_for reached at `reached_at` may take at once (they arrived before the wait
    started, stamped inside it): the contact's own, or with `match` anyone's and those of no contact."""
    return seen(
        session,
        mappings,
        name=node.event,
        since=reached_at,
        until=reached_at + parse_duration(node.timeout),
        contact_id=None if node.match else view.contact_id,
        unwritten=unwritten,
    )


def engagement(session: Session, view: EnrolmentView, step_index: int) -> rules.Engaged:
    """What the outbox knows of the enrolment's email at `step_index`."""
    if view.id is None:
        return rules.engagement_of(status=None, delivery_status="", sent_via="")
    row = session.execute(
        select(Message.status, Message.delivery_status, Message.sent_via).where(
            Message.enrolment_id == view.id, Message.step_index == step_index, col(Message.is_test).is_(False)
        )
    ).first()
    if row is None:
        return rules.engagement_of(status=None, delivery_status="", sent_via="")
    status, delivery_status, sent_via = row
    return rules.engagement_of(status=status.value, delivery_status=delivery_status, sent_via=sent_via)
