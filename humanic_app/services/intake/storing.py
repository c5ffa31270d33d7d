"""Store what the webhook accepted, durably, before it answers.

Deliveries from concurrent requests are grouped into one transaction (group commit, see
services/group_commit.py), so hundreds of requests per second cost a handful of commits. Deduplication
is per source on the event uuid, or on `webhook-id` when signing is on; a duplicate is stored too,
marked as such, so the Event Log shows the retry and nothing else happens to it.

On a SQLite file the webhook writes into the inbox file instead (`append_to_inbox`, see inbox.py) and the
background worker moves the rows into the event table (`move_from_inbox`); the hourly counters and the
sources' "last heard" are then updated at the move, in the main file's transaction.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import operator
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, case, event, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import Event, EventOutcome, Source, SourceStatus
from humanic_app.models.rows import table_of
from humanic_app.services import stats
from humanic_app.services.intake import inbox
from humanic_app.services.intake.payloads import IncomingEvent
from humanic_app.services.mapping import parse_timestamp

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Delivery:
    """One HTTP request to the webhook, accepted (events) or rejected (reason)."""

    source_id: int | None
    headers: dict[str, str]
    events: list[IncomingEvent] = dataclasses.field(default_factory=list)
    webhook_id: str | None = None
    rejected_reason: str | None = None
    raw_excerpt: str | None = None
    dropped: list[IncomingEvent] = dataclasses.field(default_factory=list)  # refused one by one (dropped_reason)
    dropped_reason: str = ""
    arrived: float | None = None  # time.perf_counter() when the request came in: answer-time statistics


HEARD_RESOLUTION = timedelta(seconds=1)  # a source's "last heard" is kept to the second: more buys nothing


@dataclasses.dataclass(frozen=True)
class SourcesAsRead:
    """What the group's transaction already read of the sources (judging.read_sources), so that storing
    spends no round trip of its own on them."""

    count: int  # every source, deleted ones too: their events are still there
    heard_lately: frozenset[int]  # heard within HEARD_RESOLUTION and not waiting for a test event


class Overlap(Protocol):
    """How a round of the webhook's group commit overlaps the rounds beside it (group_commit.Round)."""

    def let_next_begin(self) -> None: ...

    def wait_for_previous(self) -> None: ...


@dataclasses.dataclass
class StoredDelivery:
    accepted: int
    duplicates: int
    event_ids: list[int] = dataclasses.field(default_factory=list)


def _dedupe_keys(delivery: Delivery, index: int, event: IncomingEvent) -> list[str]:
    """What makes an event a repeat; the first key is the one stored. The event's uuid: the same PostHog
    event is one event however often, and under whatever message id, it arrives. A signed delivery's
    webhook-id: it catches retries of bodies without uuids, and matches rows stored under it before."""
    message = None
    if delivery.webhook_id:
        message = delivery.webhook_id if len(delivery.events) == 1 else f"{delivery.webhook_id}#{index}"
    return [key for key in (event.event_uuid, message) if key]


@functools.lru_cache(maxsize=2)
def _insert_new_events(dialect: str):
    """The insert that skips a row whose dedupe key is already stored (the key's unique constraint)
    instead of failing: the rows it returns are the ones stored, in parameter order."""
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        dialect_insert(table_of(Event))
        .on_conflict_do_nothing(index_elements=["source_id", "dedupe_key"])
        .returning(
            table_of(Event).c.id,
            table_of(Event).c.source_id,
            table_of(Event).c.dedupe_key,
            sort_by_parameter_order=True,
        )
    )


_STORED_COLUMNS = (  # what `_row` gives, with PostgreSQL's type of each
    ("source_id", "integer"),
    ("received_at", "timestamptz"),
    ("outcome", "varchar"),
    ("reason", "varchar"),
    ("dedupe_key", "varchar"),
    ("event_uuid", "varchar"),
    ("event_name", "varchar"),
    ("distinct_id", "varchar"),
    ("email", "varchar"),
    ("person_id", "varchar"),
    ("timestamp", "timestamptz"),
    ("payload", "json"),
    ("headers", "json"),
)
_NAMES = ", ".join(name for name, _ in _STORED_COLUMNS)
# One statement text whatever the round's size, one array per column: psycopg parses it once and
# PostgreSQL plans it once (a prepared statement), where a multi-row VALUES is a new text, parsed and
# planned again, for every round size. The arrays go in binary (%b): psycopg escapes a text array's
# strings one by one in Python, 60 times slower for a round's payloads. The ids follow the rows' order
# (ORDER BY the ordinality).
_PG_INSERT = (
    f"INSERT INTO event ({_NAMES}) SELECT {_NAMES} FROM unnest("
    + ", ".join(f"%({name})b::{kind}[]" for name, kind in _STORED_COLUMNS)
    + f") WITH ORDINALITY AS given({_NAMES}, n) ORDER BY n "
    "ON CONFLICT (source_id, dedupe_key) DO NOTHING RETURNING id, source_id, dedupe_key"
)
_AS_JSON = frozenset(name for name, kind in _STORED_COLUMNS if kind == "json")


def _insert_rows(connection: Connection, rows: list[dict[str, Any]]) -> list[Any]:
    """Inserts `rows`, skipping a row whose dedupe key is stored already (the key's unique constraint,
    which waits for a concurrent transaction storing it); returns the stored rows' (id, source_id,
    dedupe_key) in the rows' order."""
    if connection.dialect.name != "postgresql":
        return list(connection.execute(_insert_new_events(connection.dialect.name), rows).all())
    columns: dict[str, list[Any]] = {}
    for name, _ in _STORED_COLUMNS:
        values = [row[name] for row in rows]
        if name in _AS_JSON:  # as the JSON column would write them: None is JSON's null
            values = [json.dumps(value) for value in values]
        elif name == "outcome":
            values = [value.name for value in values]
        columns[name] = values
    return sorted(connection.exec_driver_sql(_PG_INSERT, columns).all(), key=operator.itemgetter(0))


_KNOWN_KEYS = select(Event.id, Event.dedupe_key).where(
    Event.source_id == bindparam("source_id"), col(Event.dedupe_key).in_(bindparam("keys", expanding=True))
)


def _wanted_keys(deliveries: list[Delivery]) -> dict[int, set[str]]:
    wanted: dict[int, set[str]] = {}
    for delivery in deliveries:
        if delivery.source_id is not None:
            for i, incoming in enumerate(delivery.events):
                wanted.setdefault(delivery.source_id, set()).update(_dedupe_keys(delivery, i, incoming))
    return wanted


def _any_second_key(deliveries: list[Delivery]) -> bool:
    """Whether an event has a key beside the one stored (a signed delivery's webhook-id beside the uuid):
    the insert's unique key cannot catch a repeat of that one."""
    return any(
        delivery.source_id is not None and len(_dedupe_keys(delivery, i, incoming)) > 1
        for delivery in deliveries
        for i, incoming in enumerate(delivery.events)
    )


def _existing_keys(find: Callable[[int, list[str]], Any], wanted: dict[int, set[str]]) -> dict[tuple[int, str], int]:
    found: dict[tuple[int, str], int] = {}
    for source_id, keys in wanted.items():
        keys_list = list(keys)
        for start in range(0, len(keys_list), 500):
            found.update(
                {(source_id, key): event_id for event_id, key in find(source_id, keys_list[start : start + 500])}
            )
    return found


def _in_events(session: Session) -> Callable[[int, list[str]], Any]:
    connection = session.connection()
    return lambda source_id, keys: connection.execute(_KNOWN_KEYS, {"source_id": source_id, "keys": keys})


def _row(delivery: Delivery, now, **values: Any) -> dict[str, Any]:
    base = {
        "source_id": delivery.source_id,
        "received_at": now,
        "outcome": EventOutcome.pending,
        "reason": "",
        "dedupe_key": None,
        "event_uuid": None,
        "event_name": None,
        "distinct_id": None,
        "email": None,
        "person_id": None,
        "timestamp": None,
        "payload": None,
        "headers": delivery.headers,
    }
    base.update(values)
    return base


@dataclasses.dataclass
class _Plan:
    rows: list[dict[str, Any]]
    owners: list[int]  # which delivery each row belongs to
    results: list[StoredDelivery]

    def record_ids(self, ids: Sequence[int]) -> None:
        for owner, event_id in zip(self.owners, ids, strict=True):
            self.results[owner].event_ids.append(event_id)


def _plan(deliveries: list[Delivery], seen: dict[tuple[int, str], int], now) -> _Plan:
    """The rows to store: one per event (a duplicate of `seen` or of an earlier row marked as such), one
    per rejected delivery."""
    in_batch: set[tuple[int, str]] = set()
    plan = _Plan(rows=[], owners=[], results=[])
    for delivery in deliveries:
        accepted = duplicates = 0
        if delivery.rejected_reason is not None:
            plan.rows.append(
                _row(
                    delivery,
                    now,
                    outcome=EventOutcome.rejected,
                    reason=delivery.rejected_reason[:500],
                    payload={"raw": delivery.raw_excerpt} if delivery.raw_excerpt is not None else None,
                )
            )
            plan.owners.append(len(plan.results))
        for incoming in delivery.dropped:  # one rejected row each, so each is counted and shown
            plan.rows.append(_dropped_row(delivery, now, incoming))
            plan.owners.append(len(plan.results))
        for i, incoming in enumerate(delivery.events):
            row = _row(
                delivery,
                now,
                payload=incoming.document,
                event_uuid=incoming.event_uuid,
                event_name=incoming.event_name,
                distinct_id=incoming.distinct_id,
                email=incoming.email,
                person_id=incoming.person_id,
                timestamp=parse_timestamp(incoming.timestamp),
            )
            if incoming.legacy_text is not None:
                row.update(
                    outcome=EventOutcome.skipped,
                    payload={"text": incoming.legacy_text},
                    reason="legacy notification: it carries no event data, so nothing can fire",
                )
            keys = _dedupe_keys(delivery, i, incoming) if delivery.source_id is not None else []
            pairs = [(delivery.source_id, key) for key in keys if delivery.source_id is not None]
            repeated = next((pair for pair in pairs if pair in seen or pair in in_batch), None)
            if repeated is not None:
                _mark_duplicate(row, seen.get(repeated))
                duplicates += 1
            else:
                if keys:
                    row["dedupe_key"] = keys[0]
                    in_batch.update(pairs)
                accepted += 1
            plan.rows.append(row)
            plan.owners.append(len(plan.results))
        plan.results.append(StoredDelivery(accepted=accepted, duplicates=duplicates))
    return plan


def _dropped_row(delivery: Delivery, now, incoming: IncomingEvent) -> dict[str, Any]:
    """No uuid or dedupe key: a dropped event is no delivery of its PostHog event, so it hides no later one."""
    return _row(
        delivery,
        now,
        outcome=EventOutcome.rejected,
        reason=delivery.dropped_reason[:500],
        payload=incoming.document,
        event_name=incoming.event_name,
        distinct_id=incoming.distinct_id,
    )


def _answer_ms(delivery: Delivery) -> float | None:
    return 1000 * (time.perf_counter() - delivery.arrived) if delivery.arrived is not None else None


def _store_once(
    session: Session, deliveries: list[Delivery], sources: SourcesAsRead | None, overlap: Overlap | None
) -> list[StoredDelivery]:
    """The keys are looked up first only if an event has two (`_any_second_key`); otherwise the insert's
    unique key finds the repeats, which spares the usual group that repeats nothing a round trip.

    Once the rows are in, the next round may begin: its inserts come after these (ids in round order),
    and a repeat of one of these keys waits for this COMMIT, never the other way round. The counters are
    rows every round shares: they are taken only once the round before has finished, so rounds commit in
    the order they began and never hold each other's counters."""
    now = clock.now()
    connection = session.connection()
    look_up = _any_second_key(deliveries)
    plan = _plan(deliveries, _existing_keys(_in_events(session), _wanted_keys(deliveries)) if look_up else {}, now)
    if plan.rows:  # Core: the ORM bulk path costs more per row; the ids go into the log lines
        stored = _insert_rows(connection, plan.rows)
        plan.record_ids(_stored_ids(session, plan, stored) if len(stored) != len(plan.rows) else [r.id for r in stored])
    if overlap is not None:
        overlap.let_next_begin()
        overlap.wait_for_previous()
    _account(session, plan.rows, [ms for d in deliveries if (ms := _answer_ms(d)) is not None], now, sources)
    session.commit()
    return plan.results


def _stored_ids(session: Session, plan: _Plan, stored: Sequence[Any]) -> list[int]:
    """Every planned row's id, once the rows the insert skipped are stored as duplicates. A skipped row
    repeats a key stored before this group, or by a concurrent one that committed meanwhile (the insert
    waited for it): it becomes a duplicate of that event, and its delivery counts it so."""
    returned = iter(stored)
    upcoming = next(returned, None)
    ids: list[int | None] = []
    skipped: list[int] = []
    for index, row in enumerate(plan.rows):  # `stored` is in plan order, less the skipped rows
        if upcoming is not None and (upcoming.source_id, upcoming.dedupe_key) == (row["source_id"], row["dedupe_key"]):
            ids.append(upcoming.id)
            upcoming = next(returned, None)
        else:
            ids.append(None)
            skipped.append(index)
    wanted: dict[int, set[str]] = {}
    for index in skipped:
        wanted.setdefault(plan.rows[index]["source_id"], set()).add(plan.rows[index]["dedupe_key"])
    originals = _existing_keys(_in_events(session), wanted)
    for index in skipped:
        row = plan.rows[index]
        _mark_duplicate(row, originals.get((row["source_id"], row["dedupe_key"])))
        plan.results[plan.owners[index]].accepted -= 1
        plan.results[plan.owners[index]].duplicates += 1
    again = _insert_rows(session.connection(), [plan.rows[i] for i in skipped])
    for index, stored_again in zip(skipped, again, strict=True):
        ids[index] = stored_again.id
    return [i for i in ids if i is not None]


def _mark_duplicate(row: dict[str, Any], original: int | None) -> None:
    row.update(
        outcome=EventOutcome.duplicate,
        reason=f"duplicate of event #{original}" if original else "duplicate delivery (retry)",
        dedupe_key=None,
    )


def _account(
    session: Session, rows: list[dict[str, Any]], answer_ms: list[float], now, sources: SourcesAsRead | None = None
) -> None:
    """What storing rows changes beside them: the hourly counters, and each source's "last heard" (unless
    `sources`, read in this transaction, says it was heard within HEARD_RESOLUTION)."""
    stats.bump(session, _counts(session, rows, answer_ms, now, sources))
    heard = {
        row["source_id"] for row in rows if row["source_id"] is not None and row["outcome"] != EventOutcome.rejected
    }
    if sources is not None:
        heard -= sources.heard_lately
    if heard:
        _mark_sources_heard(session, heard, now)


_SOURCES = table_of(Source)
_WAITING = _SOURCES.c.status == SourceStatus.waiting_for_test_event
_MARK_HEARD = (  # built once: it runs in every group commit
    update(_SOURCES)
    .where(
        _SOURCES.c.id.in_(bindparam("source_ids", expanding=True)),
        or_(_SOURCES.c.last_event_at.is_(None), _SOURCES.c.last_event_at < bindparam("stale_before"), _WAITING),
    )
    .values(
        last_event_at=bindparam("heard_at"),
        status=case((_WAITING, SourceStatus.test_event_received), else_=_SOURCES.c.status),
    )
)


def _mark_sources_heard(session: Session, source_ids: set[int], now) -> None:
    """`last_event_at` to the second (rewriting it on every commit buys nothing), and a source waiting
    for its test event has now received it. Core, in the write transaction: no read first."""
    session.connection().execute(
        _MARK_HEARD, {"source_ids": list(source_ids), "heard_at": now, "stale_before": now - HEARD_RESOLUTION}
    )


def _counts(
    session: Session, rows: list[dict[str, Any]], answer_ms: list[float], now, sources: SourcesAsRead | None
) -> Counter:
    hour = stats.hour_of(now)
    counts: Counter = Counter()
    for elapsed_ms in answer_ms:
        counts[(hour, "webhook_ms", stats.webhook_bucket(elapsed_ms))] += 1
        counts[(hour, "webhook_ms_sum", "")] += round(elapsed_ms)
    fresh: dict[int, set[str]] = {}
    for row in rows:
        source = str(row["source_id"])
        if row["outcome"] == EventOutcome.rejected:  # one row per rejected delivery
            counts[(hour, "rejected", row["reason"].split(":")[0][:100])] += 1
            counts[(hour, "webhook_non2xx", row["reason"][:3])] += 1
            if row["source_id"] is not None:  # a known URL refused (signature, header, body): that source's errors
                counts[(hour, "rejected_source", source)] += 1
        elif row["outcome"] == EventOutcome.duplicate:
            counts[(hour, "duplicate", source)] += 1
        else:
            counts[(hour, "received", source)] += 1
            counts[(hour, "event", row["event_name"] or "")] += 1
            if row["event_uuid"] and row["source_id"] is not None:
                fresh.setdefault(row["source_id"], set()).add(row["event_uuid"])
    if fresh and _source_count(session, sources) < 2:
        fresh = {}  # one source: nothing to compare with
    for source_id, uuids in fresh.items():  # the same PostHog event through another source: two destinations
        seen = (
            session.connection()
            .execute(
                select(func.count(func.distinct(Event.event_uuid))).where(
                    col(Event.event_uuid).in_(list(uuids)[:500]), Event.source_id != source_id
                )
            )
            .scalar_one()
        )
        if seen:
            counts[(hour, "cross_source", "")] += seen
    return counts


def _source_count(session: Session, sources: SourcesAsRead | None) -> int:
    if sources is not None:
        return sources.count
    return session.connection().execute(select(func.count()).select_from(table_of(Source))).scalar_one()


def store_deliveries(
    *,
    session: Session,
    deliveries: list[Delivery],
    sources: SourcesAsRead | None = None,
    overlap: Overlap | None = None,
) -> list[StoredDelivery]:
    """Stores all deliveries and commits before returning: in one transaction, or on a SQLite file
    through its inbox, moved at once with whatever else was waiting there (see inbox.py). `sources`, if
    the caller's transaction read them, spares a read. A repeat of a stored key, or of one another worker
    stores at the same moment (PostgreSQL), is stored as a duplicate (`_stored_ids`); any other unique-key
    clash is retried. With `overlap` (PostgreSQL's group commit), the next round begins while this one
    writes its counters and commits (`_store_once`)."""
    box = inbox.for_engine(session.get_bind().engine)
    if box is not None:
        with box.append_turn() as (appending, snapshot):
            results = append_to_inbox(box=box, session=appending, main=snapshot, deliveries=deliveries)
        move_all_from_inbox(box=box, session=session)
        return results
    for attempt in range(3):
        try:
            return _store_once(session, deliveries, sources, overlap)
        except IntegrityError:
            session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def append_to_inbox(
    *, box: inbox.Inbox, session: Session, main: Session, deliveries: list[Delivery]
) -> list[StoredDelivery]:
    """The webhook's write on SQLite, in `box.append_turn()`: deduplicated against the rows still in the
    inbox and, through `main` (a snapshot begun after the inbox lock was taken), the rows moved out."""
    wanted = _wanted_keys(deliveries)
    seen = _existing_keys(functools.partial(inbox.known_keys, main.connection(), inbox.KNOWN_IN_EVENTS), wanted)
    seen.update(_existing_keys(functools.partial(inbox.known_keys, session.connection(), inbox.KNOWN_IN_INBOX), wanted))
    plan = _plan(deliveries, seen, clock.now())
    previous = None
    for row, owner in zip(plan.rows, plan.owners, strict=True):  # the answer time goes on each delivery's first row
        row["answer_ms"] = _answer_ms(deliveries[owner]) if owner != previous else None
        previous = owner
    if plan.rows:
        plan.record_ids(box.insert(session, plan.rows))
    return plan.results


MOVE_BATCH = 1000
_COLUMNS = ("id", *inbox.COPIED, "answer_ms")  # an inbox row as `Inbox.unmoved` reads it


def move_from_inbox(*, box: inbox.Inbox, session: Session, limit: int = MOVE_BATCH) -> int:
    """Moves up to `limit` inbox rows into the event table, in the caller's transaction on the main file
    (the background worker's, on SQLite), with their counters and the sources' "last heard"; the cursor
    moves in the same transaction, and `box.moved_upto` once that has committed. Returns how many rows
    moved. The rows stay in the inbox until `box.trim(upto=box.moved_upto)`."""
    connection = session.connection()  # the main file's write turn first: the cursor read is then the truth
    moved_upto = inbox.cursor_of(connection)
    box.moved_upto = max(box.moved_upto, moved_upto)
    rows = box.unmoved(after=moved_upto, limit=limit)
    if not rows:
        return 0
    stored = [dict(zip(_COLUMNS, row, strict=True)) for row in _insert_moved(session, rows)]
    _account(session, stored, [row["answer_ms"] for row in stored if row["answer_ms"] is not None], clock.now())
    last = rows[-1][0]
    inbox.record_cursor(connection, last)
    event.listen(session, "after_commit", lambda _: setattr(box, "moved_upto", max(box.moved_upto, last)), once=True)
    return len(rows)


def move_all_from_inbox(*, box: inbox.Inbox, session: Session) -> int:
    """Moves everything waiting and commits; trims what moved (no background worker does it here)."""
    moved = 0
    while done := move_from_inbox(box=box, session=session):
        moved += done
        session.commit()
    session.commit()
    if moved:
        box.trim(upto=box.moved_upto)
    return moved


_OUTCOME, _DEDUPE_KEY, _REASON = (_COLUMNS.index(name) for name in ("outcome", "dedupe_key", "reason"))


def _insert_moved(session: Session, rows: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
    """One executemany of the raw rows; returns the rows as stored. Should a row clash with one already
    in the event table (the deduplication is exact, so only an inbox left over from another database
    could), the rows go one by one: a clashing key is stored as a duplicate, and a row that still cannot
    be stored (its source is gone) is logged and left out rather than blocking every row behind it."""
    connection = session.connection()
    try:
        with session.begin_nested():
            connection.exec_driver_sql(inbox.INSERT_EVENTS, [row[:-1] for row in rows])
        return rows
    except IntegrityError:
        logger.warning("moving %d inbox rows hit a clash; moving them one by one", len(rows))
    stored = []
    for row in rows:
        as_duplicate = list(row)
        as_duplicate[_OUTCOME], as_duplicate[_DEDUPE_KEY] = EventOutcome.duplicate.name, None
        as_duplicate[_REASON] = "duplicate delivery (retry)"
        for attempt in (row, tuple(as_duplicate)):
            try:
                with session.begin_nested():
                    connection.exec_driver_sql(inbox.INSERT_EVENTS, attempt[:-1])
                stored.append(attempt)
                break
            except IntegrityError:
                continue
        else:
            logger.error("inbox row %s could not be moved into the event table; left out", row[0])
    return stored
