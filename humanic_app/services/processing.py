"""Turn stored events into contacts (and, with campaigns, into enrolments), after the webhook answered.

Works from the database only, so a restart resumes whatever was accepted but not processed.

On SQLite the write lock lets one pass run at a time. On PostgreSQL passes run in parallel, so more
workers process more. A partition pass takes two kinds of events:
- those whose distinct_id already belongs to a contact of its partitions (PARTITIONS, by contact id, each
  held by one pass at a time), while matching them changes nothing but that contact's properties;
- those of people no contact has yet (`Route.unowned`: nothing they name belongs to a contact), in groups
  of the events sharing a distinct_id, email or person id (`_units`), each group held by one pass: the
  group's first event with an email creates the contact, the later ones link to it or update it.
Anything else that changes who is who — merging contacts, linking an id or email to a known contact —
`match` waits (they resume anyone's journey) and due timeouts take the serial turn: a pass over all
partitions' events, as on SQLite, while no partition pass runs (`_take_processing_turn`). A partition pass
stops at the first event that needs the serial turn — its own, or one it did not claim stored before it,
which may merge one of its contacts into another's — and at a contact's events while another pass holds
one of them (`_held_back`), so each contact's events are processed in order: a
contact's events are in one partition or group (in event-time order per batch, as on SQLite) until a
serial pass merges it into another.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import Event, EventOutcome, Source, SourceStatus, WorkspaceStatus
from humanic_app.models.rows import any_of, table_of
from humanic_app.services import contacts, mapping, stats, workspace
from humanic_app.services.campaigns import engine, journeys, rules

logger = logging.getLogger(__name__)

NO_EMAIL_REASON = contacts.NO_EMAIL_REASON

# Events backfilled from PostHog's query API (services/posthog_backfill.py) belong to no webhook source
# (source_id NULL) and say so in this header; "quiet" ones update contacts and end enrolments at their
# goals, as any event does, but enrol, resume and so send nothing.
BACKFILL_HEADER = "x-humanic-backfill"
QUIET, FIRING = "quiet", "fires"
QUIET_REASON = "backfilled from PostHog without firing: updates contacts and goals, sends nothing"


@dataclasses.dataclass
class WorkItem:
    """A pending event as processing needs it; results are written back in one bulk UPDATE."""

    id: int
    source_id: int | None
    payload: dict[str, Any] | None
    timestamp: datetime | None
    received_at: datetime
    event_name: str | None  # as intake stored it: what reads of stored events compare
    outcome: EventOutcome = EventOutcome.pending
    reason: str = ""
    mapped: dict[str, Any] | None = None
    contact: Any = None
    event: mapping.MappedEvent | None = None
    decisions: list[dict[str, Any]] | None = None

    def result_row(self, processed_at: datetime) -> dict[str, Any]:
        return {
            "id": self.id,
            "outcome": self.outcome,
            "reason": self.reason[:500],
            "mapped": self.mapped,
            "timestamp": self.timestamp,
            "contact_id": self.contact.id if self.contact is not None else None,
            "decisions": self.decisions,
            "processed_at": processed_at,
        }

    def unwritten(self) -> journeys.Unwritten:
        """The event as campaigns read it before its row is written (each row is written once, after them)."""
        assert self.event is not None and self.timestamp is not None  # mapped (`_map`)
        return journeys.Unwritten(
            name=self.event_name,
            outcome=self.outcome,
            reason=self.reason,
            seen=rules.Seen(
                self.timestamp,
                self.id,
                self.contact.id if self.contact is not None else None,
                self.event.event_properties,
            ),
        )


def _map(item: WorkItem, source: Source | None) -> contacts.Identity:
    mapped = mapping.apply_mapping(item.payload or {}, source.mapping if source else None)
    item.event = mapped
    item.mapped = mapped.as_dict()
    item.timestamp = item.timestamp or mapped.timestamp or item.received_at
    return contacts.identity_from_event(mapped, at=item.timestamp)


def _conclude(item: WorkItem, contact, source: Source | None, workspace_paused: bool) -> None:
    item.contact = contact
    paused = (
        "workspace paused: stored, nothing fired"
        if workspace_paused
        else "source paused: stored, nothing fired"
        if source is not None and source.status == SourceStatus.paused
        else ""
    )
    if contact is None:  # the pause is said too: the fix alone would not make it fire
        item.outcome, item.reason = EventOutcome.skipped, f"{NO_EMAIL_REASON}; {paused}" if paused else NO_EMAIL_REASON
        return
    item.outcome = EventOutcome.processed
    item.reason = paused or (NO_EMAIL_REASON if contact.email is None else "")


# A pending event's columns as WorkItem takes them, oldest first
_PENDING_ROWS = (
    select(Event.id, Event.source_id, Event.payload, Event.timestamp, Event.received_at, Event.event_name)  # type: ignore[call-overload, misc]  # sqlmodel types select() for at most 4 columns
    .where(Event.outcome == EventOutcome.pending)
    .order_by(col(Event.id))
)
_PENDING = _PENDING_ROWS.limit(bindparam("limit"))
_PENDING_LOCKED = _PENDING.with_for_update(skip_locked=True)  # PostgreSQL: workers claim disjoint events


def _claim(session: Session, limit: int) -> list[WorkItem]:
    connection = session.connection()
    stmt = _PENDING_LOCKED if connection.dialect.name == "postgresql" else _PENDING
    return _in_event_time([WorkItem(*row) for row in connection.execute(stmt, {"limit": limit})])


def _in_event_time(items: list[WorkItem]) -> list[WorkItem]:
    """The order a batch is processed in (the order PostHog says things happened, ties by storing)."""
    return sorted(items, key=lambda i: (i.timestamp or i.received_at, i.id))


def _sources_for(session: Session, items: list[WorkItem]) -> dict[int | None, Source | None]:
    ids = {i.source_id for i in items if i.source_id is not None}
    found: dict[int | None, Source | None] = {
        s.id: s for s in session.exec(select(Source).where(col(Source.id).in_(ids)))
    }
    found[None] = None
    return found


def _update_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """One executemany UPDATE by id through Core: the ORM's bulk-update-by-primary-key path costs
    several times more per row, and this runs for every event."""
    table = table_of(Event)
    columns = [name for name in rows[0] if name != "id"]
    stmt = update(table).where(table.c.id == bindparam("_id")).values({name: bindparam(f"_{name}") for name in columns})
    session.connection().execute(stmt, [{f"_{k}": v for k, v in row.items()} for row in rows])


def _write_results(session: Session, items: list[WorkItem], contacts_created: int = 0) -> None:
    done = [i for i in items if i.outcome != EventOutcome.pending]
    if done:
        now = clock.now()
        _update_events(session, [i.result_row(now) for i in done])
        hour = stats.hour_of(now)
        counts: Counter = Counter()
        for item in done:
            if item.reason == NO_EMAIL_REASON:
                counts[(hour, "no_email", str(item.source_id))] += 1
            elif item.outcome == EventOutcome.processed:
                counts[(hour, "processed", (item.event.event_name if item.event else None) or "")] += 1
        if contacts_created:
            counts[(hour, "contact_created", "")] += contacts_created
        stats.bump(session, counts)


@dataclasses.dataclass
class _Batch:
    """A claimed batch, mapped, with what it needs to know about contacts loaded (one ContactBook)."""

    items: list[WorkItem]
    sources: dict[int | None, Source | None]
    identities: list[contacts.Identity]
    book: contacts.ContactBook


def _mapped(session: Session, items: list[WorkItem]) -> tuple[dict[int | None, Source | None], list[contacts.Identity]]:
    sources = _sources_for(session, items)
    return sources, [_map(item, sources.get(item.source_id)) for item in items]


def _prepare(session: Session, items: list[WorkItem]) -> _Batch:
    sources, identities = _mapped(session, items)
    return _Batch(items, sources, identities, contacts.ContactBook(session, identities))


def _process_batch(session: Session, items: list[WorkItem], workspace_paused: bool) -> bool:
    """Fast path: one ContactBook for the whole batch. True when it scheduled an email due now."""
    return _apply(session, _prepare(session, items), workspace_paused)


def _apply(session: Session, batch: _Batch, workspace_paused: bool) -> bool:
    items, sources, identities, book = batch.items, batch.sources, batch.identities, batch.book
    matched = [book.match_or_create(identity) for identity in identities]
    book.flush()
    matched = [book.current(contact) if contact is not None else None for contact in matched]
    for item, contact in zip(items, matched, strict=True):
        _conclude(item, contact, sources.get(item.source_id), workspace_paused)
    due_now = _evaluate_campaigns(session, items, sources, workspace_paused)
    _write_results(session, items, contacts_created=book.created)
    return due_now


def _source_gate(source: Source | None) -> tuple[bool, str]:
    if source is None or source.status == SourceStatus.active:
        return True, ""
    if source.status == SourceStatus.paused:
        return False, "source paused"
    return False, "source not activated yet: click Activate in Integrations → PostHog"


def _quiet_backfills(session: Session, items: list[WorkItem]) -> set[int]:
    """The items backfilled without firing; a query only when some item has no source (webhook events
    always have one)."""
    ids = [i.id for i in items if i.source_id is None]
    if not ids:
        return set()
    rows = session.connection().execute(select(Event.id, Event.headers).where(col(Event.id).in_(ids)))
    return {event_id for event_id, headers in rows if (headers or {}).get(BACKFILL_HEADER) == QUIET}


def _evaluate_campaigns(session: Session, items: list[WorkItem], sources: dict, workspace_paused: bool) -> bool:
    """Campaigns see events in event-time order, after the batch's contacts are written and before its
    events' rows are (`_write_results` writes outcome and decisions at once; campaigns read the batch's
    outcomes from memory, `WorkItem.unwritten`). Sets each judged item's decisions; True when they
    scheduled an email due now."""
    campaigns = engine.load_active(session)
    if not campaigns:
        return False
    concluded = [i for i in items if i.event is not None and i.outcome != EventOutcome.pending]
    run = engine.CampaignRun(
        session,
        campaigns,
        contact_ids={i.contact.id for i in items if i.contact is not None},
        earliest=min((i.timestamp for i in items if i.timestamp), default=None),
        unwritten=[i.unwritten() for i in concluded],
    )
    judged: list[tuple[WorkItem, engine.EventFacts]] = []
    quiet = _quiet_backfills(session, items)
    for item in items:
        if item.event is None or item.outcome not in (EventOutcome.processed, EventOutcome.skipped):
            continue
        source_active, source_reason = (
            (False, QUIET_REASON) if item.id in quiet else _source_gate(sources.get(item.source_id))
        )
        facts = engine.EventFacts(
            event_id=item.id,
            name=item.event.event_name,
            time=item.timestamp or item.received_at,
            properties=item.event.event_properties,
            variables=item.event.variables,
            contact=item.contact,
            source_active=source_active,
            source_reason=source_reason,
            workspace_paused=workspace_paused,
        )
        judged.append((item, facts))
    run.prefetch_waiting([facts for _, facts in judged])
    for item, facts in judged:
        item.decisions = run.evaluate(facts)
        fired = list(dict.fromkeys(d["campaign"] for d in item.decisions if d["fired"]))
        if fired and item.contact is None:  # it resumed `match` waits: it did something, though no contact's
            item.outcome = EventOutcome.processed
            item.reason = "fired: " + ", ".join(fired) + " (no contact: resumed journeys waiting for its values)"
        elif fired and not item.reason:
            item.reason = "fired: " + ", ".join(fired)
    return run.flush()


def _process_one_by_one(session: Session, items: list[WorkItem], workspace_paused: bool) -> bool:
    """Slow path after a conflict: each event in its own savepoint, so one bad event cannot block the rest.
    True when a committed savepoint scheduled an email due now."""
    sources = _sources_for(session, items)
    due_now = False
    for item in items:
        source = sources.get(item.source_id)
        savepoint = session.begin_nested()
        try:
            identity = _map(item, source)
            book = contacts.ContactBook(session, [identity])
            contact = book.match_or_create(identity)
            book.flush()
            _conclude(item, contact, source, workspace_paused)
            item_due_now = _evaluate_campaigns(session, [item], sources, workspace_paused)
            _write_results(session, [item], contacts_created=book.created)
            savepoint.commit()
            due_now = due_now or item_due_now
        except IntegrityError:
            savepoint.rollback()  # another worker linked the same identity; retried on the next pass
            logger.info("event %s hit an identity race; will retry", item.id)
        except Exception as exc:  # a bug must not stall the queue behind one event
            savepoint.rollback()
            logger.exception("processing event %s failed", item.id)
            item.outcome, item.reason, item.contact, item.decisions = (
                EventOutcome.skipped,
                f"processing error: {type(exc).__name__}",
                None,
                None,
            )
            _write_results(session, [item])
    return due_now


PARTITIONS = 8  # PostgreSQL: how many partition passes may run at once (one per worker at a time)
PROCESSING_LOCK_KEY = 0x48554D41  # any constant; PostgreSQL advisory locks are named by numbers
# A partition pass looks at the oldest ROUTE_WINDOW × limit pending events: enough that three or four
# passes at once each fill a batch from partitions of their own, few enough that routing stays cheap.
ROUTE_WINDOW = 4
TURN_WAIT = "2s"  # how long a pass waits for its turn before giving up (the worker's loop comes back)
# Serial passes hold the key exclusively, partition passes share it; partition p is (key, p) besides.
_SERIAL_TURN = text("SELECT pg_advisory_xact_lock(:key)")
_SHARED_TURN = text("SELECT pg_advisory_xact_lock_shared(:key)")
_PARTITION_TURN = text("SELECT pg_try_advisory_xact_lock(:key, :partition)")
# The oldest pending events with the contact their distinct_id already belongs to (None: nobody's yet),
# whether the email or PostHog person id they name belongs to another contact (matching them merges
# that one: `_barrier`), the ids they name, and whether none of those belongs to a contact, by contacts'
# own rules.
_ROUTES = text(  # the window first, as a subquery: joined, the planner may read every pending event
    "SELECT w.id, w.owner, w.event_name, "
    + contacts.merges_sql(email="w.email", person_id="w.person_id", owner="w.owner")
    + ", w.distinct_id, w.email, w.person_id, "
    + contacts.unowned_sql(email="w.email", person_id="w.person_id", owner="w.owner")
    + " FROM (SELECT e.id, e.event_name, e.distinct_id, e.email, e.person_id, (SELECT ci.contact_id"
    "  FROM contact_identity ci WHERE ci.kind = 'distinct_id' AND ci.value = e.distinct_id) AS owner"
    "  FROM event e WHERE e.outcome = 'pending' ORDER BY e.id LIMIT :window) w"
    " ORDER BY w.id"
)


class Route(NamedTuple):
    """A pending event as `_ROUTES` reads it for partition passes."""

    id: int
    contact_id: int | None  # whose its distinct_id is
    name: str | None
    merges: bool  # the email or person id it names is another contact's
    distinct_id: str | None
    email: str | None  # lower case, as intake stores it
    person_id: str | None
    unowned: bool  # none of the three belongs to a contact

    @property
    def keys(self) -> set[str]:
        """What the event names that another event may name too, as `_Groups` joins events by it."""
        return _keys(
            distinct_ids=[self.distinct_id] if self.distinct_id else [], email=self.email, person_id=self.person_id
        )


def _keys(*, distinct_ids: list[str], email: str | None, person_id: str | None) -> set[str]:
    return (
        {f"d:{d}" for d in distinct_ids}
        | ({f"e:{email.lower()}"} if email else set())
        | ({f"p:{person_id}"} if person_id else set())
    )


def _identity_keys(identity: contacts.Identity) -> set[str]:
    return _keys(distinct_ids=identity.distinct_ids, email=identity.email, person_id=identity.person_id)


class Link(NamedTuple):
    """A pending link (`LINKING`) as peeked at: everything it names, and the contacts owning any of it."""

    keys: set[str]
    owners: set[int]


class _Groups:
    """Union-find over events and the keys they name: events sharing a key, directly or through others, are
    one group; a group is tainted once it holds an event that is not of a new person."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}
        self._tainted: set[str] = set()

    def find(self, node: str) -> str:
        root = node
        while self._parent.setdefault(root, root) != root:
            root = self._parent[root]
        while node != root:  # every node on the way now points at the root
            parent = self._parent[node]
            self._parent[node] = root
            node = parent
        return root

    def join(self, event_id: int, keys: set[str], *, tainted: bool) -> None:
        root = self.find(f"#{event_id}")
        for key in keys:
            other = self.find(key)
            if other != root:
                self._parent[other] = root
                if other in self._tainted:
                    self._tainted.add(root)
        if tainted:
            self._tainted.add(root)

    def ready_group(self, event_id: int) -> str | None:
        """The event's group, None when tainted (its events wait for the serial pass)."""
        root = self.find(f"#{event_id}")
        return None if root in self._tainted else root

    def keys(self) -> dict[str, set[str]]:
        """Every group's keys."""
        found: dict[str, set[str]] = {}
        for node in list(self._parent):
            if not node.startswith("#"):
                found.setdefault(self.find(node), set()).add(node)
        return found


# unlocked: `_peek_links` looks at other passes' events; `_PENDING_IN` claims
_PEEK_IN = _PENDING_ROWS.where(any_of(col(Event.id), "ids"))
_PENDING_IN = _PEEK_IN.with_for_update(skip_locked=True)


def _wait_for_turn(session: Session, statement) -> bool:
    """Takes a processing lock, waiting at most TURN_WAIT: False when it did not come (the caller's
    transaction is then rolled back). Row locks the pass meets later wait as long as they need."""
    connection = session.connection()
    connection.execute(text("SELECT set_config('lock_timeout', :wait, true)"), {"wait": TURN_WAIT})
    try:
        with session.begin_nested():
            session.connection().execute(statement, {"key": PROCESSING_LOCK_KEY})
    except OperationalError:
        return False
    connection.execute(text("SELECT set_config('lock_timeout', '0', true)"))
    return True


def take_serial_turn(*, session: Session) -> bool:
    """The serial turn for a writer outside processing that changes who is who (a PostHog cohort import
    matching and merging contacts): False when it did not come within TURN_WAIT."""
    return _take_processing_turn(session)


def _take_processing_turn(session: Session) -> bool:
    """The serial turn: False when it did not come within TURN_WAIT (PostgreSQL; SQLite's write lock
    serialises passes by itself)."""
    if session.connection().dialect.name != "postgresql":
        return True
    return _wait_for_turn(session, _SERIAL_TURN)


@dataclasses.dataclass(frozen=True)
class ProcessingResult:
    """What one pass did: how many events it processed, and whether it scheduled an email due now (the
    caller may wake the dispatcher instead of leaving the email to its next tick)."""

    processed: int
    emails_due_now: bool
    advanced: int = 0  # journeys moved on by a timeout or a branch coming due

    @property
    def work(self) -> int:
        return self.processed + self.advanced


NOTHING = ProcessingResult(processed=0, emails_due_now=False)
ADVANCE_LIMIT = 500  # journeys moved on per pass; the loop comes straight back while there are more


def run_pass(*, session: Session, limit: int = 200) -> ProcessingResult:
    """Processes up to `limit` pending events in event-time order, then moves on the journeys whose
    timeout or branch came due, in one transaction (0 of each when the turn did not come).
    Events go first: one stamped before a timeout and received before the pass ran still resumes its wait;
    once the timeout path has run, a later event arrives late.
    PostgreSQL: a partition pass first, when one has work; the serial pass when the oldest work needs it."""
    if session.connection().dialect.name == "postgresql":
        result = _run_partition(session, limit)
        session.commit()
        if result is not None:
            return result
    if not _take_processing_turn(session):
        session.rollback()
        return NOTHING
    result = _run_events(session, limit)
    advanced, due_now = _advance_journeys(session)
    session.commit()
    return ProcessingResult(result.processed, result.emails_due_now or due_now, advanced)


def _run_partition(session: Session, limit: int) -> ProcessingResult | None:
    """One partition pass (PostgreSQL), while no serial pass runs; None when the oldest work needs the
    serial turn: an event that changes who is who of a known contact, a `match` wait's, a due timeout, or
    a failure (rolled back whole: the pass has written nothing the serial pass would not do again)."""
    if not _wait_for_turn(session, _SHARED_TURN):
        return NOTHING  # a serial pass held the turn all along: it drains the backlog meanwhile
    try:
        return _partition_pass(session, limit)
    except Exception as exc:
        logger.exception("a partition pass failed; the serial pass takes its events")
        session.rollback()
        _count_failure(session, exc)
        return None


def _count_failure(session: Session, exc: Exception) -> None:
    """Counted for Pipeline health and /metrics, and committed on its own by `run_pass` before it asks for
    the serial turn: a failure that recurs leaves every worker at one pass at a time, which the log alone
    hides."""
    try:
        stats.count(session, name=stats.PARTITION_FAILED, key=type(exc).__name__, at=clock.now())
    except Exception:  # the database itself, most likely: the serial pass meets it too, and says so
        logger.exception("could not count a failed partition pass")
        session.rollback()


def _partition_pass(session: Session, limit: int) -> ProcessingResult | None:
    """Looks at the oldest pending events, takes the units it may (`_units`, `_take`), processes them."""
    if engine.anything_due(session, now=clock.now()):
        return None
    routes = [Route(*row) for row in session.connection().execute(_ROUTES, {"window": ROUTE_WINDOW * limit})]
    if not routes:
        return NOTHING
    # links matter to new people's groups, so they are peeked at only when the window has new people's
    # events: every link would be peeked at by every pass while it is in the window
    new_people = any(route.contact_id is None for route in routes)
    links = _peek_links(session, routes, {}) if new_people else {}
    units, ready = _units(routes, links, new_people=new_people)
    if not units:
        return None
    taken = _take(session, units, limit)
    if not taken.ids:
        return NOTHING  # all held by others
    return _process_taken(session, taken, routes[:ready], links)


def _peek_links(session: Session, routes: list[Route], peeked: dict[int, Link]) -> dict[int, Link]:
    """`peeked` with the links (`LINKING`) among `routes` it lacks, peeked at (not locked; no contact row
    read)."""
    ids = [route.id for route in routes if route.name in LINKING and route.id not in peeked]
    if not ids:
        return peeked
    items = [WorkItem(*row) for row in session.connection().execute(_PEEK_IN, {"ids": ids})]
    _, identities = _mapped(session, items)
    owners = contacts.owners(session, identities)
    return peeked | {
        item.id: Link(_identity_keys(identity), owned)
        for item, identity, owned in zip(items, identities, owners, strict=True)
    }


@dataclasses.dataclass
class _Unit:
    """What one pass holds at a time: a partition of known contacts (`partition`), or a group of new
    people's events (`keys`: every id and address they name, each locked while the pass runs); `ids`: its
    ready events, oldest first."""

    partition: int | None
    keys: set[str]
    ids: list[int] = dataclasses.field(default_factory=list)


def _units(routes: list[Route], links: dict[int, Link], *, new_people: bool) -> tuple[list[_Unit], int]:
    """The units a partition pass may take, the one with the oldest event first, and how many of the
    oldest routes are ready (the rest wait for the serial pass). Ready: events of known contacts, and of
    new people — up to the first other, or the first new person's event whose group (`_Groups`) holds
    another kind of event anywhere in the window, even stored later: a batch goes in event-time order, so
    that one may come first. A group is taken whole, so one with an event beyond the ready ones is not
    taken at all (the serial pass may order those first)."""
    groups = _Groups()
    for route in routes if new_people else ():  # without new people's events, there is no group to make
        link = links.get(route.id)
        fresh = route.unowned and not (link and link.owners)
        groups.join(route.id, link.keys if link else route.keys, tainted=not fresh)
    unit_of = [_unit_of(groups, route) for route in routes]
    ready = next((n for n, unit in enumerate(unit_of) if unit is None), len(routes))
    partial = set(unit_of[ready:])
    keys = groups.keys()
    units: dict[int | str, _Unit] = {}
    for route, unit in zip(routes[:ready], unit_of, strict=False):
        if isinstance(unit, int):
            units.setdefault(unit, _Unit(unit, set())).ids.append(route.id)
        elif isinstance(unit, str) and unit not in partial:
            # a group naming nothing is locked by its one event's node, which no other event can join
            units.setdefault(unit, _Unit(None, keys.get(unit) or {unit})).ids.append(route.id)
    return list(units.values()), ready


def _unit_of(groups: _Groups, route: Route) -> int | str | None:
    """A route's unit: its contact's partition, or its group; None when it is not ready."""
    return route.contact_id % PARTITIONS if route.contact_id is not None else groups.ready_group(route.id)


@dataclasses.dataclass
class _Taken:
    """What a partition pass locked: partitions of known contacts and groups of new people's events, and
    those events' ids."""

    partitions: set[int] = dataclasses.field(default_factory=set)
    groups: list[_Unit] = dataclasses.field(default_factory=list)
    ids: list[int] = dataclasses.field(default_factory=list)

    def add(self, unit: _Unit, room: int) -> None:
        """Takes the unit's oldest `room` events (a partition's rest waits for a later pass; a group is
        cut only when it alone is larger than a batch)."""
        ids = unit.ids[:room]
        self.ids += ids
        if unit.partition is not None:
            self.partitions.add(unit.partition)
        else:
            self.groups.append(_Unit(None, unit.keys, ids))


# A group's keys are locked as (GROUP_LOCK_KEY, hashtext(key)): two passes whose windows group a person's
# events differently (an event committed late with a lower id, say) still meet at an id or address.
GROUP_LOCK_KEY = PROCESSING_LOCK_KEY + 1
# Each group's keys are tried in order, up to the first held: two passes after one group meet at its first
# key, and the one that loses it holds none of the others.
_LOCK_GROUPS = text(
    "SELECT x.g FROM (SELECT t.g, array_agg(t.k ORDER BY t.k) AS ks"
    "  FROM unnest(CAST(:groups AS integer[]), CAST(:keys AS text[])) AS t(g, k) GROUP BY t.g) AS x"
    " WHERE NOT EXISTS (SELECT 1 FROM unnest(x.ks) AS k(key)"
    "  WHERE NOT pg_try_advisory_xact_lock(:lock, hashtext(k.key)))"
)


def _take(session: Session, units: list[_Unit], limit: int) -> _Taken:
    """Locks free units, the oldest first, until their ready events make a batch of `limit` (a short batch
    would leave the worker gathering before its next pass): partitions one at a time; groups as many at
    once as the batch has room for, room kept for them meanwhile (groups found held when the batch filled
    up are replaced by later units; those found held at the end leave the batch short)."""
    taken = _Taken()
    groups: list[_Unit] = []
    for unit in units:
        if len(taken.ids) + sum(len(group.ids) for group in groups) >= limit:
            _take_groups(session, groups, taken, limit)
            groups = []
        room = limit - len(taken.ids) - sum(len(group.ids) for group in groups)
        if room <= 0:
            break
        if unit.partition is None:
            if len(unit.ids) <= room or room == limit:
                groups.append(unit)
        elif (
            session.connection()
            .execute(_PARTITION_TURN, {"key": PROCESSING_LOCK_KEY, "partition": unit.partition})
            .scalar()
        ):
            taken.add(unit, room)
    _take_groups(session, groups, taken, limit)
    return taken


def _take_groups(session: Session, groups: list[_Unit], taken: _Taken, limit: int) -> None:
    """Locks the groups whose every key is free, in one statement. A group found held keeps the keys before
    the held one locked until the pass ends: another pass wanting one of them skips its group meanwhile."""
    rows = [(n, key) for n, group in enumerate(groups) for key in sorted(group.keys)]
    if not rows:
        return
    params = {"groups": [n for n, _ in rows], "keys": [key for _, key in rows], "lock": GROUP_LOCK_KEY}
    free = set(session.connection().execute(_LOCK_GROUPS, params).scalars())
    for n, group in enumerate(groups):
        if n in free:
            taken.add(group, limit - len(taken.ids))


def _claim_taken(session: Session, taken: _Taken) -> tuple[list[WorkItem], dict[int, set[str]]]:
    """Claims the taken events, in event-time order, with the keys of each new person's event's group. A
    group is kept only if every event of it is claimed: one may have been processed since the look. The
    events of a group not kept stay locked until the pass ends (another pass's `_held_back` is for them)."""
    pending = [WorkItem(*row) for row in session.connection().execute(_PENDING_IN, {"ids": taken.ids})]
    claimed = {item.id for item in pending}
    kept = {event_id: group.keys for group in taken.groups if claimed.issuperset(group.ids) for event_id in group.ids}
    in_groups = {event_id for group in taken.groups for event_id in group.ids}
    items = [item for item in pending if item.id in kept or item.id not in in_groups]
    return _in_event_time(items), kept


def _process_taken(
    session: Session, taken: _Taken, ready: list[Route], links: dict[int, Link]
) -> ProcessingResult | None:
    """Processes what `_take` locked, up to the first event `_local_batch` must leave. The ready events it
    did not claim (held by other passes, or left for a later batch) go to `_barrier`."""
    pending, group_keys = _claim_taken(session, taken)
    if not pending:
        return NOTHING  # another pass took them between our look and our claim
    items = _drop_backfill_repeats(session, pending)
    repeats = len(pending) - len(items)
    if not items:
        return ProcessingResult(processed=repeats, emails_due_now=False)
    # read, not created: passes at once on a new database would each insert the row
    workspace_paused = workspace.read_workspace(session=session).status == WorkspaceStatus.paused
    claimed = {item.id for item in pending}
    last = max(item.id for item in items)
    others = [route for route in ready if route.id not in claimed and route.id < last]
    links = _peek_links(session, others, links)
    try:
        with session.begin_nested():
            matched_names = engine.matched_event_names(session)
            barrier = _barrier(others, matched_names, links)
            limits = _Limits(barrier, _held_back(ready, taken, claimed), taken.partitions, group_keys)
            batch = _local_batch(session, items, limits, matched_names)
            if batch is None:
                return ProcessingResult(processed=repeats, emails_due_now=False) if repeats else None
            due_now = _apply(session, batch, workspace_paused)
    except Exception:
        logger.info("a partition pass's batch of %d events goes to the serial pass", len(items))
        session.expire_all()
        return None
    return ProcessingResult(processed=repeats + len(batch.items), emails_due_now=due_now)


@dataclasses.dataclass(frozen=True)
class _Limits:
    """How far a partition pass may go in its batch (`_local_batch`)."""

    barrier: int | None  # no event stored after this one (`_barrier`)
    held_back: set[int]  # known contacts none of whose events the pass processes (`_held_back`)
    partitions: set[int]  # known contacts' events only of these partitions
    group_keys: dict[int, set[str]]  # each new person's event: the keys its group locked

    def allow(self, item: WorkItem, identity: contacts.Identity, book: contacts.ContactBook) -> bool:
        """Whether the pass may process the event, given all before it in its batch were allowed."""
        if self.barrier is not None and item.id > self.barrier:
            return False
        if item.id in self.group_keys:  # no stored contact matches it now, and its group locked all it names
            return not book.candidates(identity) and _identity_keys(identity) <= self.group_keys[item.id]
        contact = book.changes_only_properties(identity)
        if contact is None or contact.id is None or contact.id % PARTITIONS not in self.partitions:
            return False
        return contact.id not in self.held_back


def _local_batch(session: Session, items: list[WorkItem], limits: _Limits, matched_names: set[str]) -> _Batch | None:
    """The first of a partition pass's events (event-time order) that it may process; None when none.
    It stops at the first event whose name a `match` wait awaits, or that `limits` does not allow: one
    that changes who is who of a known contact, whose contact is in no partition of the pass, or (a new
    person's) that matches a contact after all or names what its group did not. Names are checked before
    contacts are looked up, so a batch the pass must leave costs no lookup."""
    sources, identities = _mapped(session, items)
    named = next((i for i, item in enumerate(items) if _name(item) in matched_names), len(items))
    if not named:
        return None
    book = contacts.ContactBook(session, identities[:named])
    kept = 0
    for item, identity in zip(items[:named], identities, strict=False):
        if not limits.allow(item, identity, book):
            break
        kept += 1
    return _Batch(items[:kept], sources, identities[:kept], book) if kept else None


# PostHog's ways of saying two people are one: $identify and $create_alias link a second distinct_id
# (contacts.identity_from_event); $merge_dangerously is looked at for the email or person id it carries.
LINKING = frozenset({"$identify", "$create_alias", "$merge_dangerously"})


def _barrier(others: list[Route], matched_names: set[str], links: dict[int, Link]) -> int | None:
    """Of `others` — pending events the pass did not claim, stored before its last — the first that one
    of its contacts' later events must not overtake: one a `match` wait awaits (it may resume anyone's
    journey), one naming an email or person id of another contact than its own (`_ROUTES`), or a link
    whose ids belong to another contact (either merges that contact, maybe one of the pass's)."""
    named = next((o.id for o in others if o.name in matched_names or o.merges), None)
    merging = [o.id for o in others if o.id in links and links[o.id].owners - {o.contact_id}]
    return min([*merging, *([named] if named is not None else [])], default=None)


def _held_back(ready: list[Route], taken: _Taken, claimed: set[int]) -> set[int]:
    """The known contacts of the pass's partitions one of whose taken events it could not claim: none of
    their events is processed by this pass. Another pass still holds that event — a group's event it
    claimed before the person's contact was created, and did not keep (`_claim_taken`) — or processed it
    meanwhile; either way it may be the contact's earliest in event time."""
    unclaimed = set(taken.ids) - claimed
    return {route.contact_id for route in ready if route.id in unclaimed and route.contact_id is not None}


def _name(item: WorkItem) -> str | None:
    return item.event.event_name if item.event else None


def _advance_journeys(session: Session) -> tuple[int, bool]:
    """The journeys whose timeout or branch came due, in a savepoint: a failure there is logged and must
    not hold back the events processed in this pass."""
    now = clock.now()
    if not engine.anything_due(session, now=now):
        return 0, False
    try:
        with session.begin_nested():
            return engine.advance_due(session, now=now, limit=ADVANCE_LIMIT)
    except Exception:
        logger.exception("moving on due journeys failed; the next pass tries again")
        session.expire_all()
        return 0, False


_EARLIER = table_of(Event).alias("earlier")
_LATER = table_of(Event).alias("later")
# Per event, the rows with its uuid through `ix_event_uuid`, and no other way: a correlated subquery cannot
# be hashed against every earlier event as a join can, and `id + 0` is no key the planner can walk the
# primary key by (in order for min(), or as a range beside the uuid). Without statistics each of those
# looks cheap to PostgreSQL's planner and reads the whole table.
_FIRST_STORED = (
    select(func.min(_EARLIER.c.id + 0))
    .where(
        _EARLIER.c.event_uuid == _LATER.c.event_uuid,
        _EARLIER.c.id + 0 < _LATER.c.id,
        _LATER.c.source_id.is_(None) | _EARLIER.c.source_id.is_(None),
        _EARLIER.c.outcome.not_in([EventOutcome.duplicate, EventOutcome.rejected]),
    )
    .correlate(_LATER)
    .scalar_subquery()
)
_BACKFILL_REPEATS = select(_LATER.c.id, _FIRST_STORED).where(
    any_of(_LATER.c.id, "ids"), _LATER.c.event_uuid.is_not(None)
)


def _drop_backfill_repeats(session: Session, items: list[WorkItem]) -> list[WorkItem]:
    """Intake deduplicates per source; a PostHog event both backfilled and delivered by a webhook (either
    first: the webhook's retry after a backfill, or a delivery racing one) is processed once, as the first
    stored, and the later row is written as its duplicate. One indexed query per batch."""
    rows = session.connection().execute(_BACKFILL_REPEATS, {"ids": [i.id for i in items]}).all()
    repeats: dict[int, int] = {later: first for later, first in rows if first is not None}
    if not repeats:
        return items
    for item in items:
        if item.id in repeats:
            item.outcome = EventOutcome.duplicate
            item.reason = f"duplicate of event #{repeats[item.id]} (the same PostHog event, backfilled or delivered)"
    _update_events(session, [{"id": i.id, "outcome": i.outcome, "reason": i.reason} for i in items if i.id in repeats])
    return [i for i in items if i.id not in repeats]


def _run_events(session: Session, limit: int) -> ProcessingResult:
    claimed = _claim(session, limit)
    if not claimed:
        return NOTHING
    items = _drop_backfill_repeats(session, claimed)
    if not items:
        return ProcessingResult(processed=len(claimed), emails_due_now=False)
    workspace_paused = workspace.get_workspace(session=session).status == WorkspaceStatus.paused
    try:
        with session.begin_nested():
            due_now = _process_batch(session, items, workspace_paused)
    except Exception:
        logger.info("batch of %d events fell back to one-by-one processing", len(items))
        session.expire_all()
        items = _drop_backfill_repeats(session, _claim(session, limit))
        due_now = _process_one_by_one(session, items, workspace_paused)
    return ProcessingResult(processed=len(claimed), emails_due_now=due_now)


def process_pending(*, session: Session, limit: int = 200) -> int:
    """`run_pass` for callers that only count: how many events it processed and journeys it moved on."""
    return run_pass(session=session, limit=limit).work


def anything_pending(*, session: Session) -> bool:
    """Cheap check from a read snapshot, so an idle poll does not take SQLite's write turn: events to
    process, or journeys whose timeout or branch came due."""
    if session.exec(select(Event.id).where(Event.outcome == EventOutcome.pending).limit(1)).first() is not None:
        return True
    return engine.anything_due(session, now=clock.now())


def pending_count(*, session: Session) -> int:
    return session.exec(select(func.count()).select_from(Event).where(Event.outcome == EventOutcome.pending)).one()
