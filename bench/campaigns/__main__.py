"""Campaign engine benchmark: events/s through processing with 50 active campaigns, and dry-run time
over 100,000 stored events.

Usage: python -m bench.campaigns [--events 10000] [--dry-run-events 100000]
Runs against a fresh SQLite file (or DATABASE_URL's server, in a fresh database you name there).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert
from sqlmodel import Session, select

from humanic_app import migrations
from humanic_app.db import make_engine
from humanic_app.models import CampaignStatus, Contact, Enrolment, Event, EventOutcome, Message, SourceStatus
from humanic_app.models.rows import id_of
from humanic_app.services import processing, sources, workspace
from humanic_app.services.campaigns import library, store
from humanic_app.services.campaigns.dry_run import dry_run
from humanic_app.services.intake import payloads, storing
from humanic_app.services.samples import posthog_event

EVENT_NAMES = [
    "user_signed_up",
    "checkout_started",
    "checkout_completed",
    "pricing_page_viewed",
    "dashboard_first_viewed",
    "trial_day_12",
    "user_inactive",
    "session_started",
    "feature_first_used",
]


def _setup(engine, distinct_triggers: bool) -> int:
    """50 active campaigns: copies of the library. With distinct_triggers, copies past the first six get
    their own trigger event (feature_N_used), as a real workspace would; otherwise they pile onto the
    same six triggers (a stress case: every event fires several campaigns)."""
    with Session(engine) as session:
        workspace.update_workspace(
            session=session, changes={"from_email": "hello@acme.io", "physical_address": "1 Main St"}
        )
        source = sources.create_source(session=session, name="bench")
        sources.set_status(session=session, source_id=id_of(source), status=SourceStatus.active)
        templates = list(library.templates().values())
        for i in range(50):
            document = copy.deepcopy(templates[i % len(templates)])
            document["name"] = f"{document['name']} #{i}"
            if distinct_triggers and i >= len(templates):
                document["trigger"]["event"] = f"feature_{i}_used"
            campaign = store.create_campaign(session=session, document=document)
            store.set_status(session=session, campaign_id=id_of(campaign), status=CampaignStatus.active)
        session.commit()
        return id_of(source)


def _bodies(count: int, start: datetime, names: list[str]) -> list[bytes]:
    rng = random.Random(3)
    out = []
    for i in range(count):
        user = rng.randrange(count // 5 + 1)
        out.append(
            json.dumps(
                posthog_event(
                    event=rng.choice(names),
                    distinct_id=f"u{user}",
                    email=f"u{user}@example.com",
                    timestamp=start + timedelta(seconds=i * 30),
                    properties={"cart_value": rng.randrange(10, 300), "cart_id": f"c{rng.randrange(1000)}"},
                )
            ).encode()
        )
    return out


def bench_processing(engine, count: int, distinct_triggers: bool = True) -> None:
    source_id = _setup(engine, distinct_triggers)
    names = EVENT_NAMES + ([f"feature_{i}_used" for i in range(6, 50)] if distinct_triggers else [])
    bodies = _bodies(count, datetime.now(UTC) - timedelta(days=5), names)
    with Session(engine) as session:
        for i in range(0, len(bodies), 100):
            storing.store_deliveries(
                session=session,
                deliveries=[
                    storing.Delivery(source_id=source_id, headers={}, events=payloads.parse_body(b, None))
                    for b in bodies[i : i + 100]
                ],
            )
    started = time.perf_counter()
    done = 0
    while True:
        with Session(engine) as session:
            n = processing.process_pending(session=session, limit=500)
        if not n:
            break
        done += n
    seconds = time.perf_counter() - started
    with Session(engine) as session:
        enrolments = session.exec(select(func.count()).select_from(Enrolment)).one()
        messages = session.exec(select(func.count()).select_from(Message)).one()
    label = "distinct triggers" if distinct_triggers else "six shared triggers"
    print(
        f"processing, 50 active campaigns ({label}): {done} events in {seconds:.1f} s = "
        f"{done / seconds:,.0f} events/s ({enrolments:,} enrolments, {messages:,} messages written)"
    )


def bench_dry_run(engine, count: int) -> None:
    now = datetime.now(UTC)
    rng = random.Random(5)
    with Session(engine) as session:
        contacts = [
            {
                "email": f"d{i}@example.com",
                "name": "",
                "properties": {"plan": "free"},
                "property_times": {},
                "created_at": now,
                "updated_at": now,
            }
            for i in range(count // 10)
        ]
        session.execute(insert(Contact), contacts)
        first_id = id_of(session.exec(select(Contact).where(Contact.email == "d0@example.com")).one())
        rows = []
        for _i in range(count):
            name = rng.choice(["checkout_started", "checkout_completed", "pricing_page_viewed", "user_signed_up"])
            ts = now - timedelta(seconds=rng.randrange(30 * 86400))
            rows.append(
                {
                    "source_id": None,
                    "received_at": ts,
                    "outcome": EventOutcome.processed,
                    "reason": "",
                    "event_name": name,
                    "timestamp": ts,
                    "contact_id": first_id + rng.randrange(count // 10),
                    "payload": {
                        "event": {
                            "event": name,
                            "properties": {"cart_value": rng.randrange(10, 300), "cart_id": f"c{rng.randrange(50)}"},
                        }
                    },
                }
            )
            if len(rows) == 5000:
                session.execute(insert(Event), rows)
                rows = []
        if rows:
            session.execute(insert(Event), rows)
        session.commit()
    for slug in ("drop-off-recovery", "paid-conversion-pricing"):
        with Session(engine) as session:
            started = time.perf_counter()
            result = dry_run(session=session, document=library.templates()[slug], days=30)
            seconds = time.perf_counter() - started
        print(
            f"dry run '{slug}' over {count:,} stored events (30 days): {seconds:.2f} s "
            f"({result['events_considered']:,} relevant events, {result['emails']:,} emails)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--dry-run-events", type=int, default=100000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = (
            ("processing", args.events, bench_processing),
            ("overlap", args.events, lambda e, n: bench_processing(e, n, distinct_triggers=False)),
            ("dry-run", args.dry_run_events, bench_dry_run),
        )
        for label, count, fn in runs:
            url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/{label}.db"
            engine = make_engine(url)
            with engine.begin() as conn:
                migrations.upgrade(connection=conn)
            fn(engine, count)
            engine.dispose()


if __name__ == "__main__":
    main()
