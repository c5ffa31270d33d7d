"""Reading at scale: the Event Log's pages and the Dashboard's checks with 1,000,000 stored events.

Seeds a fresh database (SQLite file in a temp dir, or DATABASE_URL's database) with N PostHog-shaped
events over the last 30 days — two sources, a realistic outcome mix, 50,000 contacts — then times each
read the UI and API make, median of 5 runs. Prints one line per read.

Usage: python -m bench.scale [--events 1000000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import insert
from sqlmodel import Session

from humanic_app import clock, migrations
from humanic_app.db import make_engine
from humanic_app.models import Contact, Event, EventOutcome
from humanic_app.models.rows import id_of, table_of
from humanic_app.services import checklist, dashboard, diagnostics, event_log, sources, stats
from humanic_app.services.samples import posthog_event

NAMES = [
    "user_signed_up",
    "feature_first_used",
    "checkout_started",
    "pricing_page_viewed",
    "session_ended",
    "$pageview",
]
OUTCOMES = [
    (EventOutcome.processed, "", 0.85),
    (EventOutcome.skipped, "no email — add email to your $identify call", 0.08),
    (EventOutcome.duplicate, "duplicate delivery (retry)", 0.045),
    (EventOutcome.rejected, "401 bad signature", 0.02),
    (EventOutcome.rejected, "404 rotated webhook URL: PostHog still uses the old URL — paste the new one", 0.005),
]


def _seed(engine, count: int, contacts: int) -> tuple[int, int]:
    rng = random.Random(11)
    now = clock.now()
    with Session(engine) as session:
        first = sources.create_source(session=session, name="Production")
        second = sources.create_source(session=session, name="Staging")
        session.commit()
        source_ids = [id_of(first), id_of(second)]
    with engine.begin() as conn:
        for start in range(0, contacts, 10_000):
            conn.execute(
                insert(table_of(Contact)),
                [
                    {
                        "email": f"user{i}@example.com",
                        "name": f"User {i}",
                        "properties": {"plan": "pro"},
                        "property_times": {},
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(start, min(contacts, start + 10_000))
                ],
            )
    template = posthog_event(
        event="checkout_started",
        distinct_id="u",
        email="u@example.com",
        name="U",
        properties={"cart_value": 42.5, "currency": "EUR", "$current_url": "https://x.io/a"},
    )
    weights = [w for _, _, w in OUTCOMES]
    started = time.monotonic()
    batch = 20_000
    for start in range(0, count, batch):
        rows = []
        for i in range(start, min(count, start + batch)):
            outcome, reason, _ = rng.choices(OUTCOMES, weights)[0]
            at = now - timedelta(seconds=(count - i) * (30 * 86400 / count))
            name = rng.choice(NAMES)
            user = rng.randrange(contacts)
            payload = dict(
                template, event={**template["event"], "event": name, "uuid": f"e{i}", "distinct_id": f"user_{user}"}
            )
            rows.append(
                {
                    "source_id": source_ids[i % 7 == 0],
                    "received_at": at,
                    "outcome": outcome,
                    "reason": reason,
                    "dedupe_key": f"e{i}" if outcome != EventOutcome.duplicate else None,
                    "event_uuid": f"e{i}",
                    "event_name": name,
                    "distinct_id": f"user_{user}",
                    "timestamp": at,
                    "payload": payload,
                    "headers": {"content-type": "application/json"},
                    "mapped": None,
                    "contact_id": user + 1 if outcome in (EventOutcome.processed,) else None,
                    "decisions": None,
                    "processed_at": at,
                }
            )
        with Session(engine) as session:  # the rows and the counters the app keeps for them, as ingest would
            session.connection().execute(insert(table_of(Event)), rows)
            stats.bump(session, _counters(rows))
            session.commit()
    print(f"seeded {count:,} events and {contacts:,} contacts in {time.monotonic() - started:.0f} s")
    return source_ids[0], source_ids[1]


def _counters(rows: list[dict]) -> Counter:
    counts: Counter = Counter()
    for row in rows:
        hour, source = stats.hour_of(row["received_at"]), str(row["source_id"])
        outcome = row["outcome"]
        if outcome == EventOutcome.rejected:
            counts[(hour, "rejected", row["reason"].split(":")[0])] += 1
            counts[(hour, "webhook_non2xx", row["reason"][:3])] += 1
        elif outcome == EventOutcome.duplicate:
            counts[(hour, "duplicate", source)] += 1
        else:
            counts[(hour, "received", source)] += 1
            counts[(hour, "event", row["event_name"])] += 1
            counts[
                (
                    hour,
                    "processed" if outcome == EventOutcome.processed else "no_email",
                    row["event_name"] if outcome == EventOutcome.processed else source,
                )
            ] += 1
        counts[(hour, "webhook_ms", "10")] += 1
    return counts


def _time(label: str, fn, runs: int = 5) -> None:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    size = len(result) if hasattr(result, "__len__") else result
    print(f"{label:58s} median {1000 * statistics.median(times):8.1f} ms   max {1000 * max(times):8.1f} ms   ({size})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/scale.db"
        engine = make_engine(url)
        with engine.begin() as conn:
            migrations.upgrade(connection=conn)
        _production, staging = _seed(engine, args.events, args.contacts)
        print(f"database: {engine.dialect.name}")

        def read(fn):
            def run():
                with Session(engine) as session:
                    return fn(session)

            return run

        middle = args.events // 2
        with Session(engine) as session:
            contact_id = next(
                e.contact_id
                for e in event_log.list_events(session=session, before_id=middle, outcome="processed", limit=1)
            )
        _time("Event Log: newest page (50)", read(lambda s: event_log.list_events(session=s)))
        _time(
            "Event Log: page in the middle (before_id)",
            read(lambda s: event_log.list_events(session=s, before_id=middle)),
        )
        _time(
            "Event Log: one source (the smaller one)",
            read(lambda s: event_log.list_events(session=s, source_id=staging)),
        )
        _time("Event Log: event name", read(lambda s: event_log.list_events(session=s, event_name="user_signed_up")))
        _time("Event Log: outcome rejected", read(lambda s: event_log.list_events(session=s, outcome="rejected")))
        _time(
            "Event Log: outcome rejected, middle page",
            read(lambda s: event_log.list_events(session=s, outcome="rejected", before_id=middle)),
        )
        _time("Event Log: one contact", read(lambda s: event_log.list_events(session=s, contact_id=contact_id)))
        _time(
            "Event Log: smaller source + rejected",
            read(lambda s: event_log.list_events(session=s, source_id=staging, outcome="rejected")),
        )
        _time("Event Log: event detail", read(lambda s: [event_log.get_event(session=s, event_id=middle)]))
        _time(
            "Dashboard: setup checklist", read(lambda s: checklist.setup_checklist(session=s, resend_configured=False))
        )
        _time(
            "Dashboard + /api/v1/diagnostics: troubleshooting checks",
            read(lambda s: diagnostics.run_checks(session=s, resend_configured=False)),
        )
        for range_key in ("24h", "7d", "30d"):
            _time(
                f"Dashboard: charts, funnel and pipeline health ({range_key})",
                read(lambda s, r=range_key: [dashboard.overview(session=s, range_key=r)]),
            )
        engine.dispose()


if __name__ == "__main__":
    main()
