"""Turn stored events into contacts (and, with campaigns, into enrolments), after the webhook answered.

Works from the database only, so a restart resumes whatever was accepted but not processed.

On SQLite the write lock lets one pass run at a time. On PostgreSQL passes run in parallel over
partitions of contacts (PARTITIONS, by contact id), each partition held by one pass at a time, so more
workers process more: a partition pass takes the events whose distinct_id already belongs to a contact of
its partitions, and only while matching them changes nothing but that contact's properties. Changing who
is who — creating or merging a contact, linking a distinct_id, person id or email — `match` waits (they
resume anyone's journey) and due timeouts take the serial turn: a pass over all partitions' events, as on
SQLite, while no partition pass runs (`_take_processing_turn`). A partition pass stops at the first event
that needs the serial turn — its own, or one it did not claim stored before it, which may merge one of
its contacts into another's — so each contact's events are processed in order: a contact's events are
in one partition (in event-time order per batch, as on SQLite) until a serial pass merges it into another.
"""

from __future__ import annotations

import dataclasses
import itertools
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
    items = [WorkItem(*row) for row in connection.execute(stmt, {"limit": limit})]
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
# and whether the email or PostHog person id they name belongs to another contact (matching them merges
# that one: `_barrier`), by contacts' own rule.
_ROUTES = text(  # the window first, as a subquery: joined, the planner may read every pending event
    "SELECT w.id, w.owner, w.event_name, "
    + contacts.merges_sql(email="w.email", person_id="w.person_id", owner="w.owner")
    + " FROM (SELECT e.id, e.event_name, e.email, e.person_id, (SELECT ci.contact_id FROM contact_identity ci"
    "  WHERE ci.kind = 'distinct_id' AND ci.value = e.distinct_id) AS owner FROM event e"
    "  WHERE e.outcome = 'pending' ORDER BY e.id LIMIT :window) w"
    " ORDER BY w.id"
)


class Route(NamedTuple):
    """A pending event as `_ROUTES` reads it for partition passes."""

    id: int
    contact_id: int | None  # whose its distinct_id is
    name: str | None
    merges: bool  # the email or person id it names is another contact's


# unlocked: `_barrier` looks at other passes' events; `_PENDING_IN` claims
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
    """One partition's pass (PostgreSQL), while no serial pass runs; None when the oldest work needs the
    serial turn: an event that changes who is who, a `match` wait's, a due timeout, or a failure."""
    if not _wait_for_turn(session, _SHARED_TURN):
        return NOTHING  # a serial pass held the turn all along: it drains the backlog meanwhile
    if engine.anything_due(session, now=clock.now()):
        return None
    routes = [Route(*row) for row in session.connection().execute(_ROUTES, {"window": ROUTE_WINDOW * limit})]
    if not routes:
        return NOTHING
    ready = list(itertools.takewhile(lambda route: route.contact_id is not None, routes))
    if not ready:
        return None
    owned = [(route.id, route.contact_id) for route in ready if route.contact_id is not None]  # all of them
    partitions, ids = _take_partitions(session, owned, limit)
    if not partitions:
        return NOTHING  # all held by others
    claimed = set(ids)  # the last partition's ready events may be cut at `limit`: the rest are others too
    others = [route for route in ready if route.id not in claimed]
    return _process_partitions(session, partitions, ids, others)


def _take_partitions(session: Session, ready: list[tuple[int, int]], limit: int) -> tuple[set[int], list[int]]:
    """Locks free partitions, the one with the oldest ready event first, until their ready events make a
    batch of `limit` (a short batch would leave the worker gathering before its next pass); returns them
    and their events' ids, each partition's oldest first."""
    taken: set[int] = set()
    ids: list[int] = []
    for partition in dict.fromkeys(contact_id % PARTITIONS for _, contact_id in ready):
        if len(ids) >= limit:
            break
        if session.connection().execute(_PARTITION_TURN, {"key": PROCESSING_LOCK_KEY, "partition": partition}).scalar():
            taken.add(partition)
            ids += [event_id for event_id, contact_id in ready if contact_id % PARTITIONS == partition][
                : limit - len(ids)
            ]
    return taken, ids


def _process_partitions(
    session: Session, partitions: set[int], ids: list[int], others: list[Route]
) -> ProcessingResult | None:
    """`others`: the ready events this pass did not claim (of partitions held by other passes, or left for
    a later batch — the last partition taken may be cut at the batch's size), for `_local_batch`."""
    pending = sorted(
        (WorkItem(*row) for row in session.connection().execute(_PENDING_IN, {"ids": ids})),
        key=lambda i: (i.timestamp or i.received_at, i.id),
    )
    if not pending:
        return NOTHING  # another pass took them between our look and our claim
    items = _drop_backfill_repeats(session, pending)
    repeats = len(pending) - len(items)
    if not items:
        return ProcessingResult(processed=repeats, emails_due_now=False)
    workspace_paused = workspace.get_workspace(session=session).status == WorkspaceStatus.paused
    try:
        with session.begin_nested():
            last = max(item.id for item in items)
            before = [other for other in others if other.id < last]
            batch = _local_batch(session, items, partitions, before, engine.matched_event_names(session))
            if batch is None:
                return ProcessingResult(processed=repeats, emails_due_now=False) if repeats else None
            due_now = _apply(session, batch, workspace_paused)
    except Exception:
        logger.info("a partition pass's batch of %d events goes to the serial pass", len(items))
        session.expire_all()
        return None
    return ProcessingResult(processed=repeats + len(batch.items), emails_due_now=due_now)


def _local_batch(
    session: Session,
    items: list[WorkItem],
    partitions: set[int],
    others: list[Route],
    matched_names: set[str],
) -> _Batch | None:
    """The first of a partition pass's events (event-time order) that it may process; None when none.
    It stops at the first event whose name a `match` wait awaits, that changes who is who, or whose
    contact is in no partition of the pass — and at the first stored after an event it did not claim
    that a `match` wait awaits or that would merge another contact into its own (`_barrier`). Names are
    checked before contacts are looked up, so a batch the pass must leave costs no lookup."""
    sources, identities = _mapped(session, items)
    named = next((i for i, item in enumerate(items) if _name(item) in matched_names), len(items))
    if not named:
        return None
    barrier = _barrier(session, others, matched_names)
    book = contacts.ContactBook(session, identities[:named])
    kept = 0
    for item, identity in zip(items[:named], identities, strict=False):
        contact = book.changes_only_properties(identity)
        if contact is None or contact.id is None or contact.id % PARTITIONS not in partitions:
            break
        if barrier is not None and item.id > barrier:
            break
        kept += 1
    return _Batch(items[:kept], sources, identities[:kept], book) if kept else None


# PostHog's ways of saying two people are one: $identify and $create_alias link a second distinct_id
# (contacts.identity_from_event); $merge_dangerously is looked at for the email or person id it carries.
LINKING = frozenset({"$identify", "$create_alias", "$merge_dangerously"})


def _barrier(session: Session, others: list[Route], matched_names: set[str]) -> int | None:
    """Of `others` — pending events the pass did not claim, stored before its last — the
    first that one of its contacts' later events must not overtake: one a `match` wait awaits (it may
    resume anyone's journey), one naming an email or person id of another contact than its own, or a link
    (`LINKING`) whose ids belong to another contact (either merges that contact, maybe one of the pass's).
    Emails and person ids are looked at in SQL (`_ROUTES`); links are peeked at (not locked; no contact
    row read): they are few, and peeking at every event cost a one-worker deployment 40% of its
    throughput (BENCHMARKS.md)."""
    named = next((o.id for o in others if o.name in matched_names or o.merges), None)
    links = {o.id: o.contact_id for o in others if o.name in LINKING and (named is None or o.id < named)}
    if not links:
        return named
    peeked = [WorkItem(*row) for row in session.connection().execute(_PEEK_IN, {"ids": list(links)})]
    sources = _sources_for(session, peeked)
    identities = [_map(item, sources.get(item.source_id)) for item in peeked]
    merging = [
        item.id
        for item, ids in zip(peeked, contacts.owners(session, identities), strict=True)
        if ids - {links[item.id]}
    ]
    return min([*merging, *([named] if named is not None else [])], default=None)


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
