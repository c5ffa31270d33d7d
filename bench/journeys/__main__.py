"""Journeys benchmark: 100,000 contacts waiting in a `wait_for` (drop-off recovery: checkout_completed with
the same cart_id, else a reminder), while resuming events arrive at --rate per second and timeouts come due
at --rate per second, both at once, in real time, through real intake and processing passes.

Usage: python -m bench.journeys [--waiting 100000] [--rate 1000] [--timeout-rate RATE] [--seconds 30]
(--rate: resuming events per second, 0 for none; --timeout-rate: timeouts coming due per second, default
--rate, 0 for none — to measure each alone).
Runs against a fresh SQLite file, or DATABASE_URL's server (use a fresh database you name there).

The waiting contacts are written directly (contacts, identities, their trigger events and enrolments as
the engine writes them: position, wake_at, waiting_for, waiting_key); the first half wait for their cart's
checkout (timeouts two days away), the second half's timeouts fall due one per 1/rate s from the start.
Then, for --seconds of wall time, the webhook and the worker run side by side as the app runs them (on
SQLite two threads of one process, the embedded default; on PostgreSQL two processes, the scale-out's
`web` and `worker` services): the webhook stores the checkout_completed events due by then every 20 ms
(PostHog-shaped bodies, one per cart), the worker runs processing passes back to back
(`processing.run_pass`: events, then due timeouts). The clock (humanic_app.clock.now) follows wall time.
The backlog — events stored but not processed, plus timeouts due but not run — is sampled every second:
if the passes keep up, it stays flat.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, text
from sqlmodel import Session, col, select

from humanic_app import clock, migrations
from humanic_app.db import make_engine
from humanic_app.models import (
    CampaignStatus,
    Contact,
    ContactIdentity,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventOutcome,
    IdentityKind,
    Message,
    SourceStatus,
)
from humanic_app.models.rows import id_of
from humanic_app.services import processing, sources, workspace
from humanic_app.services.campaigns import library, rules, store
from humanic_app.services.campaigns.schema import CampaignDocument, WaitFor
from humanic_app.services.intake import payloads, storing
from humanic_app.services.samples import posthog_event

CHUNK = 5000


def _campaign(session: Session) -> tuple[int, dict, WaitFor]:
    workspace.update_workspace(
        session=session, changes={"from_email": "hello@acme.io", "physical_address": "1 Main St"}
    )
    document = library.templates()["drop-off-recovery"]
    campaign = store.create_campaign(session=session, document=document)
    store.set_status(session=session, campaign_id=id_of(campaign), status=CampaignStatus.active)
    node = CampaignDocument.model_validate(campaign.definition).steps[0]
    assert isinstance(node, WaitFor)
    return id_of(campaign), campaign.definition, node


def _insert(session: Session, model, rows: list[dict]) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(rows), CHUNK):
        ids += (
            session.execute(
                insert(model).returning(model.id, sort_by_parameter_order=True), rows[start : start + CHUNK]
            )
            .scalars()
            .all()
        )
    return ids


def setup(engine, *, waiting: int, rate: int, start: datetime) -> int:  # rate: timeouts due per second
    """Writes `waiting` contacts waiting in the journey; returns the source id."""
    with Session(engine) as session:
        source = sources.create_source(session=session, name="bench")
        sources.set_status(session=session, source_id=id_of(source), status=SourceStatus.active)
        campaign_id, definition, node = _campaign(session)
        before = start - timedelta(hours=1)
        contact_ids = _insert(
            session,
            Contact,
            [
                {
                    "email": f"u{i}@example.com",
                    "name": "",
                    "properties": {},
                    "property_times": {},
                    "created_at": before,
                    "updated_at": before,
                }
                for i in range(waiting)
            ],
        )
        _insert(
            session,
            ContactIdentity,
            [
                {"contact_id": cid, "kind": IdentityKind.distinct_id, "value": f"u{i}"}
                for i, cid in enumerate(contact_ids)
            ],
        )
        event_ids = _insert(
            session,
            Event,
            [
                {
                    "source_id": id_of(source),
                    "received_at": before,
                    "outcome": EventOutcome.processed,
                    "reason": "",
                    "event_name": "checkout_started",
                    "timestamp": before,
                    "contact_id": cid,
                    "payload": {
                        "event": {"event": "checkout_started", "properties": {"cart_id": f"cart{i}", "cart_value": 99}}
                    },
                }
                for i, cid in enumerate(contact_ids)
            ],
        )
        half = waiting // 2
        rows = []
        for i, (cid, eid) in enumerate(zip(contact_ids, event_ids, strict=True)):
            props = {"cart_id": f"cart{i}", "cart_value": 99}
            wake = before + timedelta(days=2) if i < half or not rate else start + timedelta(seconds=(i - half) / rate)
            rows.append(
                {
                    "campaign_id": campaign_id,
                    "contact_id": cid,
                    "trigger_event_id": eid,
                    "status": EnrolmentStatus.active,
                    "enrolled_at": before,
                    "trigger_properties": props,
                    "definition": definition,
                    "ended_reason": "",
                    "created_at": before,
                    "position": "wait-for-checkout",
                    # the timeout group reached the wait so that its 24 h run out at `wake`
                    "reached_at": wake - timedelta(hours=24) if i >= half else before,
                    "wake_at": wake,
                    "waiting_for": node.event,
                    "waiting_key": rules.waiting_key(node, contact_id=cid, trigger_properties=props),
                    "variables": {"cart_value": 99},
                    "trail": [],
                }
            )
        _insert(session, Enrolment, rows)
        source_id = id_of(source)
        session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))  # the statistics a database in use has (autovacuum's, on PostgreSQL)
    return source_id


def _backlog(engine) -> tuple[int, int]:
    with Session(engine) as session:
        pending = session.exec(
            select(func.count()).select_from(Event).where(Event.outcome == EventOutcome.pending)
        ).one()
        due = session.exec(
            select(func.count())
            .select_from(Enrolment)
            .where(col(Enrolment.wake_at) <= clock.now(), Enrolment.status == EnrolmentStatus.active)
        ).one()
    return pending, due


def _store_arrivals(
    engine, *, source_id: int, rate: int, seconds: float, began: float, start: datetime, stored
) -> None:
    """What the webhook does: every 20 ms, stores the events due by then (PostHog-shaped bodies, one per
    cart). `stored.value` counts them. `began` is a time.perf_counter() reading (CLOCK_MONOTONIC: one clock
    for every process of the machine)."""
    clock.now = lambda: start + timedelta(seconds=time.perf_counter() - began)
    while (elapsed := time.perf_counter() - began) < seconds:
        target = min(int(rate * elapsed), rate * int(seconds) + rate)
        if target > stored.value:
            now = clock.now()
            events = [
                payloads.parse_body(
                    json.dumps(
                        posthog_event(
                            event="checkout_completed",
                            distinct_id=f"u{i}",
                            email=f"u{i}@example.com",
                            timestamp=now,
                            properties={"cart_id": f"cart{i}"},
                        )
                    ).encode(),
                    None,
                )[0]
                for i in range(stored.value, target)
            ]
            with Session(engine) as session:
                storing.store_deliveries(
                    session=session, deliveries=[storing.Delivery(source_id=source_id, headers={}, events=events)]
                )
            stored.value = target
        time.sleep(0.02)


def _store_arrivals_apart(url: str, **arguments) -> None:
    engine = make_engine(url)
    _store_arrivals(engine, **arguments)
    engine.dispose()


def _webhook(engine, url: str, **arguments):
    """The webhook beside the worker as the app runs them: on SQLite a thread of the worker's process, on
    its engine (the embedded default, one process); on PostgreSQL a process of its own (the scale-out's
    `web` and `worker` services, compose.yaml)."""
    if url.startswith("sqlite"):
        return threading.Thread(target=_store_arrivals, args=(engine,), kwargs=arguments)
    engine.dispose()  # the child opens its own connections, never the parent's
    return multiprocessing.get_context("fork").Process(target=_store_arrivals_apart, args=(url,), kwargs=arguments)


def run(engine, url: str, *, source_id: int, rate: int, seconds: float, start: datetime) -> None:
    began = time.perf_counter()
    clock.now = lambda: start + timedelta(seconds=time.perf_counter() - began)
    stored = multiprocessing.get_context("fork").Value("q", 0)
    webhook = _webhook(
        engine, url, source_id=source_id, rate=rate, seconds=seconds, began=began, start=start, stored=stored
    )
    webhook.start()
    passes = 0
    samples: list[tuple[float, int, int]] = []
    next_sample = 1.0
    busy = 0.0
    while (elapsed := time.perf_counter() - began) < seconds:  # what the worker does
        t = time.perf_counter()
        with Session(engine) as session:
            result = processing.run_pass(session=session, limit=500)
        passes += 1
        if result.work:
            busy += time.perf_counter() - t
        else:
            time.sleep(0.005)  # idle: the worker would wait for a wake-up or its poll
        if elapsed >= next_sample:
            samples.append((elapsed, *_backlog(engine)))
            next_sample += 1.0
    webhook.join()
    arrived_by = time.perf_counter() - began
    stopped = clock.now()
    clock.now = lambda: stopped  # nothing more comes due: drain what did
    drain_started = time.perf_counter()
    while True:
        with Session(engine) as session:
            if not processing.run_pass(session=session, limit=500).work:
                break
    drain = time.perf_counter() - drain_started
    with Session(engine) as session:
        resumed = session.exec(
            select(func.count())
            .select_from(Enrolment)
            .where(Enrolment.position == "", col(Enrolment.wake_at).is_(None))
        ).one()
        reminders = session.exec(select(func.count()).select_from(Message)).one()
        still = session.exec(select(func.count()).select_from(Enrolment).where(Enrolment.position != "")).one()
    timeouts = reminders
    print(
        f"{stored.value:,} resuming events arrived and {timeouts:,} timeouts came due in {arrived_by:.1f} s "
        f"(events at {rate:,}/s); {resumed - timeouts:,} resumed by events, {timeouts:,} timed out "
        f"(one reminder each), {still:,} still waiting"
    )
    print(
        f"processing busy {busy:.1f} s of {arrived_by:.1f} s ({passes} passes); "
        f"drain after arrivals stopped: {drain:.2f} s"
    )
    worst = max(samples, key=lambda s: s[1] + s[2]) if samples else (0, 0, 0)
    print(
        "backlog (events pending + timeouts due, sampled each second): " + ", ".join(f"{p + d}" for _, p, d in samples)
    )
    last = samples[-1][1] + samples[-1][2] if samples else 0
    print(f"largest backlog: {worst[1] + worst[2]:,} at {worst[0]:.0f} s; last: {last:,}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--waiting", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--timeout-rate", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/journeys.db"
        engine = make_engine(url)
        with engine.begin() as conn:
            migrations.upgrade(connection=conn)
        t = time.perf_counter()
        timeout_rate = args.rate if args.timeout_rate is None else args.timeout_rate
        source_id = setup(engine, waiting=args.waiting, rate=timeout_rate, start=start)
        print(f"{engine.dialect.name}: {args.waiting:,} contacts waiting, written in {time.perf_counter() - t:.1f} s")
        run(engine, url, source_id=source_id, rate=args.rate, seconds=args.seconds, start=start)
        engine.dispose()


if __name__ == "__main__":
    main()
