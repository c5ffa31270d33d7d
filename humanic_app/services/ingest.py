"""Store what the webhook accepted, durably, before it answers.

Deliveries from concurrent requests are grouped into one transaction (group commit) by
`GroupCommitWriter`, so hundreds of requests per second cost a handful of commits. Deduplication is
per source on the event uuid, or on `webhook-id` when signing is on; a duplicate is stored too,
marked as such, so the Event Log shows the retry and nothing else happens to it.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import bindparam, case, func, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from humanic_app import clock
from humanic_app.models import Event, EventOutcome, Source, SourceStatus
from humanic_app.services import stats
from humanic_app.services.mapping import parse_timestamp
from humanic_app.services.payloads import IncomingEvent

MAX_BATCH = 500
T = TypeVar("T")
R = TypeVar("R")


@dataclasses.dataclass
class Delivery:
    """One HTTP request to the webhook, accepted (events) or rejected (reason)."""

    source_id: int | None
    headers: dict[str, str]
    events: list[IncomingEvent] = dataclasses.field(default_factory=list)
    webhook_id: str | None = None
    rejected_reason: str | None = None
    raw_excerpt: str | None = None
    arrived: float | None = None  # time.perf_counter() when the request came in: answer-time statistics


@dataclasses.dataclass
class StoredDelivery:
    accepted: int
    duplicates: int
    event_ids: list[int] = dataclasses.field(default_factory=list)


def _dedupe_key(delivery: Delivery, index: int, event: IncomingEvent) -> str | None:
    if delivery.webhook_id:
        return delivery.webhook_id if len(delivery.events) == 1 else f"{delivery.webhook_id}#{index}"
    return event.event_uuid


_INSERT_EVENTS = insert(Event.__table__).returning(Event.__table__.c.id, sort_by_parameter_order=True)
_KNOWN_KEYS = select(Event.id, Event.dedupe_key).where(
    Event.source_id == bindparam("source_id"), col(Event.dedupe_key).in_(bindparam("keys", expanding=True)))


def _existing_keys(session: Session, wanted: dict[int, set[str]]) -> dict[tuple[int, str], int]:
    found: dict[tuple[int, str], int] = {}
    connection = session.connection()
    for source_id, keys in wanted.items():
        keys_list = list(keys)
        for start in range(0, len(keys_list), 500):
            rows = connection.execute(_KNOWN_KEYS, {"source_id": source_id, "keys": keys_list[start:start + 500]})
            found.update({(source_id, key): event_id for event_id, key in rows})
    return found


def _row(delivery: Delivery, now, **values: Any) -> dict[str, Any]:
    base = {"source_id": delivery.source_id, "received_at": now, "outcome": EventOutcome.pending, "reason": "",
            "dedupe_key": None, "event_uuid": None, "event_name": None, "distinct_id": None, "timestamp": None,
            "payload": None, "headers": delivery.headers, "mapped": None, "contact_id": None, "processed_at": None}
    base.update(values)
    return base


def _store_once(session: Session, deliveries: list[Delivery]) -> list[StoredDelivery]:
    now = clock.now()
    wanted: dict[int, set[str]] = {}
    for delivery in deliveries:
        if delivery.source_id is not None:
            for i, event in enumerate(delivery.events):
                if key := _dedupe_key(delivery, i, event):
                    wanted.setdefault(delivery.source_id, set()).add(key)
    seen = _existing_keys(session, wanted)
    in_batch: set[tuple[int, str]] = set()

    rows: list[dict[str, Any]] = []
    owners: list[int] = []  # which delivery each row belongs to
    results: list[StoredDelivery] = []
    touched_sources: set[int] = set()
    for delivery in deliveries:
        accepted = duplicates = 0
        if delivery.rejected_reason is not None:
            rows.append(_row(delivery, now, outcome=EventOutcome.rejected, reason=delivery.rejected_reason[:500],
                             payload={"raw": delivery.raw_excerpt} if delivery.raw_excerpt is not None else None))
            owners.append(len(results))
        for i, incoming in enumerate(delivery.events):
            row = _row(delivery, now, payload=incoming.document, event_uuid=incoming.event_uuid,
                       event_name=incoming.event_name, distinct_id=incoming.distinct_id,
                       timestamp=parse_timestamp(incoming.timestamp))
            if incoming.legacy_text is not None:
                row.update(outcome=EventOutcome.skipped, payload={"text": incoming.legacy_text},
                           reason="legacy notification: it carries no event data, so nothing can fire")
            key = _dedupe_key(delivery, i, incoming)
            pair = (delivery.source_id, key) if key is not None and delivery.source_id is not None else None
            if pair is not None and (pair in seen or pair in in_batch):
                original = seen.get(pair)
                row.update(outcome=EventOutcome.duplicate,
                           reason=f"duplicate of event #{original}" if original else "duplicate delivery (retry)")
                duplicates += 1
            else:
                if pair is not None:
                    row["dedupe_key"] = key
                    in_batch.add(pair)
                accepted += 1
            rows.append(row)
            owners.append(len(results))
        if delivery.source_id is not None and delivery.events:
            touched_sources.add(delivery.source_id)
        results.append(StoredDelivery(accepted=accepted, duplicates=duplicates))

    if rows:  # Core: the ORM bulk path costs more per row; the ids go into the log lines
        ids = session.connection().execute(_INSERT_EVENTS, rows).scalars().all()
        for owner, event_id in zip(owners, ids):
            results[owner].event_ids.append(event_id)
    stats.bump(session, _counts(session, deliveries, rows, now))
    if touched_sources:
        _mark_sources_heard(session, touched_sources, now)
    session.commit()
    return results


_SOURCES = Source.__table__
_WAITING = _SOURCES.c.status == SourceStatus.waiting_for_test_event
_MARK_HEARD = (  # built once: it runs in every group commit
    update(_SOURCES)
    .where(_SOURCES.c.id.in_(bindparam("source_ids", expanding=True)),
           or_(_SOURCES.c.last_event_at.is_(None), _SOURCES.c.last_event_at < bindparam("stale_before"), _WAITING))
    .values(last_event_at=bindparam("heard_at"),
            status=case((_WAITING, SourceStatus.test_event_received), else_=_SOURCES.c.status)))


def _mark_sources_heard(session: Session, source_ids: set[int], now) -> None:
    """`last_event_at` to the second (rewriting it on every commit buys nothing), and a source waiting
    for its test event has now received it. Core, in the write transaction: no read first."""
    session.connection().execute(_MARK_HEARD, {"source_ids": list(source_ids), "heard_at": now,
                                               "stale_before": now - timedelta(seconds=1)})


def _counts(session: Session, deliveries: list[Delivery], rows: list[dict[str, Any]], now) -> Counter:
    hour = stats.hour_of(now)
    counts: Counter = Counter()
    done = time.perf_counter()
    for delivery in deliveries:
        if delivery.arrived is not None:
            elapsed_ms = 1000 * (done - delivery.arrived)
            counts[(hour, "webhook_ms", stats.webhook_bucket(elapsed_ms))] += 1
            counts[(hour, "webhook_ms_sum", "")] += round(elapsed_ms)
        if delivery.rejected_reason is not None:
            counts[(hour, "rejected", delivery.rejected_reason.split(":")[0][:100])] += 1
            counts[(hour, "webhook_non2xx", delivery.rejected_reason[:3])] += 1
    fresh: dict[int, set[str]] = {}
    for row in rows:
        source = str(row["source_id"])
        if row["outcome"] == EventOutcome.duplicate:
            counts[(hour, "duplicate", source)] += 1
        elif row["outcome"] != EventOutcome.rejected:
            counts[(hour, "received", source)] += 1
            counts[(hour, "event", row["event_name"] or "")] += 1
            if row["event_uuid"] and row["source_id"] is not None:
                fresh.setdefault(row["source_id"], set()).add(row["event_uuid"])
    if fresh and session.connection().execute(select(func.count()).select_from(Source.__table__)).scalar_one() < 2:
        fresh = {}  # one source: nothing to compare with
    for source_id, uuids in fresh.items():  # the same PostHog event through another source: two destinations
        seen = session.connection().execute(select(func.count(func.distinct(Event.event_uuid))).where(
            col(Event.event_uuid).in_(list(uuids)[:500]), Event.source_id != source_id)).scalar_one()
        if seen:
            counts[(hour, "cross_source", "")] += seen
    return counts


def store_deliveries(*, session: Session, deliveries: list[Delivery]) -> list[StoredDelivery]:
    """One transaction for all deliveries. A unique-key race with another worker is retried: the
    second pass sees the competitor's committed rows and stores ours as duplicates."""
    for attempt in range(3):
        try:
            return _store_once(session, deliveries)
        except IntegrityError:
            session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


class GroupCommitWriter(Generic[T, R]):
    """Collects items from concurrent requests and hands them to `store` in one call (one transaction)
    per round; each request gets its own result back.

    `store` is given `take`, not the items: it takes the write lock first and calls `take()` after, so
    the requests that arrived while it waited for the lock join this commit instead of the next one."""

    def __init__(self, *, store: Callable[[Callable[[], list[T]]], list[R]],
                 on_stored: Callable[[], None] | None = None, max_batch: int = MAX_BATCH):
        self._store = store
        self._on_stored = on_stored
        self._max_batch = max_batch
        self._pending: collections.deque[tuple[T, asyncio.Future]] = collections.deque()
        self._arrived: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _ensure_running(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop = loop
            self._arrived = asyncio.Event()
            self._task = loop.create_task(self._run(self._arrived), name="humanic-ingest-writer")
        return self._arrived

    async def submit(self, item: T) -> R:
        future = asyncio.get_running_loop().create_future()
        arrived = self._ensure_running()
        self._pending.append((item, future))
        arrived.set()
        return await future

    async def _run(self, arrived: asyncio.Event) -> None:
        while True:
            await arrived.wait()
            arrived.clear()
            while self._pending:
                taken: list[tuple[T, asyncio.Future]] = []

                def take() -> list[T]:  # runs in the store's thread; deque pops are atomic
                    while self._pending and len(taken) < self._max_batch:
                        taken.append(self._pending.popleft())
                    return [item for item, _ in taken]

                try:
                    results = await asyncio.to_thread(self._store, take)
                except Exception as exc:  # every waiting request must get an answer
                    if not taken:  # it failed before taking (no database): these get the error
                        take()
                    for _, future in taken:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(taken, results):
                    if not future.done():
                        future.set_result(result)
                if self._on_stored is not None:
                    self._on_stored()
