"""Retention benchmark: the webhook's latency while retention prunes a database of old events.

Usage: python -m bench.retention [--old-events 1000000] [--seconds 15] [--rounds 3] [--rate 100]
                                 [--connections 16]

Starts the app in production mode (SQLite by default; set DATABASE_URL for PostgreSQL) on a fresh data
dir holding --old-events processed events received 120 days ago (bulk inserted before the app starts:
10,000 rows, then the table copied into itself) and a tenth as many delivery events. After an uncounted
warm-up round, alternating rounds drive the PostHog webhook at --rate requests/s (bench/ingest's wrk
script, paced) for --seconds: one without pruning, one while this process runs the background worker's
retention job (workers.prune_old_data: 500 rows per transaction, taking SQLite's write turn like the
worker would), stopped when the round ends. Prints each round's webhook p50/p99 and rows pruned per second.

This machine is shared and its speed drifts: compare the rounds pairwise, not one run with another.
"""

from __future__ import annotations

import argparse
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text
from sqlmodel import Session

from bench.ingest.__main__ import HERE as INGEST, WRK_THREADS, _bodies, _consumed, _wrk
from bench.served import served_app

SEED = 10_000


def _seed(old_events: int) -> None:
    """Old, processed events with a realistic payload, and delivery events, inserted in bulk."""
    from humanic_app import clock
    from humanic_app.db import get_engine
    from humanic_app.models import DeliveryEvent, Event, EventOutcome
    from humanic_app.models.rows import table_of
    from humanic_app.services.samples import posthog_event

    at = clock.now() - timedelta(days=120)
    engine = get_engine()
    rows = [
        {
            "received_at": at,
            "timestamp": at,
            "outcome": EventOutcome.processed,
            "reason": "",
            "event_name": "feature_first_used",
            "distinct_id": f"user_{n % 5000}",
            "payload": posthog_event(event="feature_first_used", distinct_id=f"user_{n}", email=f"u{n}@example.com"),
            "headers": {"content-type": "application/json", "user-agent": "PostHog"},
            "mapped": {"email": f"u{n}@example.com"},
            "decisions": [{"campaign": "Welcome", "fired": False, "reason": "where clause failed"}],
        }
        for n in range(min(SEED, old_events))
    ]
    copied = ", ".join(c.name for c in table_of(Event).columns if c.name != "id")
    with engine.begin() as connection:
        connection.execute(insert(table_of(Event)), rows)
        while (count := connection.execute(select(func.count()).select_from(Event)).scalar_one()) < old_events:
            more = min(count, old_events - count)
            connection.execute(
                text(f"INSERT INTO event ({copied}) SELECT {copied} FROM event ORDER BY id LIMIT {more}")
            )
        connection.execute(
            insert(table_of(DeliveryEvent)),
            [
                {"svix_id": f"msg_{n}", "type": "email.delivered", "payload": {"n": n}, "received_at": at}
                for n in range(old_events // 10)
            ],
        )


def _pruned() -> int:
    """From the hourly counters retention bumps (counting pruned rows would scan the table)."""
    from humanic_app.db import get_engine
    from humanic_app.services import stats

    with Session(get_engine()) as session:
        return stats.totals(session=session, name="pruned").get("events", 0)


def _until(stop: threading.Event):
    return lambda: not stop.is_set()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--old-events", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=100.0, help="webhook requests per second")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    started = time.monotonic()
    with served_app(before_start=lambda _base: _seed(args.old_events)) as (base, workdir):
        from humanic_app import workers
        from humanic_app.services import sources

        print(f"seeded and started in {time.monotonic() - started:.0f} s: {args.old_events} old events", flush=True)
        from humanic_app.db import get_engine

        with Session(get_engine()) as session:
            source = sources.create_source(session=session, name="bench")
            session.commit()
            hook = sources.webhook_url(base_url=base, source=source)
        bodies = workdir / "bodies.jsonl"
        _bodies(bodies, int(args.rate * args.seconds * args.rounds * 2.5) + 1000, 5000)
        sent = 0

        def webhook_round() -> dict[str, float]:
            nonlocal sent
            env = {
                "BODIES_FILE": str(bodies),
                "WRK_THREADS": str(WRK_THREADS),
                "START": str(sent),
                "PACE_MS": str(1000 * args.connections / args.rate),
            }
            result = _wrk(hook, Path(INGEST) / "posthog.lua", args.seconds, args.connections, env)
            sent += _consumed(result)
            return result

        warm = webhook_round()  # the first requests after start pay for cold caches: not counted
        print(f"warm-up: p50 {warm['p50_ms']:.1f} ms p99 {warm['p99_ms']:.1f} ms (not counted)", flush=True)
        results: dict[str, list[float]] = {"without": [], "with": []}
        for number in range(1, args.rounds + 1):
            quiet = webhook_round()
            results["without"].append(quiet["p99_ms"])
            stop = threading.Event()
            before, t0 = _pruned(), time.monotonic()
            pruner = threading.Thread(target=workers.prune_old_data, args=(_until(stop),))
            pruner.start()
            busy = webhook_round()
            stop.set()
            pruner.join()
            rate = (_pruned() - before) / (time.monotonic() - t0)
            results["with"].append(busy["p99_ms"])
            print(
                f"round {number}: without pruning {quiet['rps']:5.0f} req/s p50 {quiet['p50_ms']:.1f} ms "
                f"p99 {quiet['p99_ms']:.1f} ms non-2xx {quiet['non2xx']} | while pruning {busy['rps']:5.0f} req/s "
                f"p50 {busy['p50_ms']:.1f} ms p99 {busy['p99_ms']:.1f} ms non-2xx {busy['non2xx']} | "
                f"pruned {rate:.0f} event payloads/s",
                flush=True,
            )
        for label, values in results.items():
            ordered = sorted(values)
            print(
                f"webhook p99 {label:7} pruning: median {ordered[len(ordered) // 2]:.1f} ms (rounds: "
                f"{', '.join(f'{v:.1f}' for v in values)})"
            )
        print(f"event payloads pruned in all: {_pruned()} of {args.old_events}")


if __name__ == "__main__":
    main()
