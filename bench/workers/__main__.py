"""Processing throughput with 1, 2, 3… standalone workers on one PostgreSQL database.

Usage: python -m bench.workers [--workers 1,2,3] [--events 30000] [--contacts 3000] [--rounds 2]
                               [--new-people [--identify]]
                               [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

For each worker count and round: a fresh database on that server (dropped afterwards), --contacts contacts
made by a first event each (processed in this process), then that many `python -m humanic_app worker`
processes (HUMANIC_WORKERS=external) started and idle; --events PostHog-shaped events of those contacts
(random contact, increasing time, no campaign) committed in one transaction; the bench times from that
commit until none is pending. With --new-people nobody is seeded: each person's first event in the
stream creates them (partition passes take new people's events in groups, known contacts' by partition);
with --identify too, each person's first event is an anonymous $pageview and the second an $identify
linking that anonymous id (as PostHog's browser library sends them).
Prints one line per run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from humanic_app import clock, migrations
from humanic_app.db import make_engine
from humanic_app.models.rows import id_of
from humanic_app.services import processing, sources
from humanic_app.services.intake import payloads, storing
from humanic_app.services.samples import posthog_event
from tests.support.postgres import POSTGRES_ADMIN_URL, fresh_postgres_database

PROJECT = Path(__file__).resolve().parents[2]


def _store(engine, source_id: int, bodies: list[dict]) -> None:
    with Session(engine) as session:
        events = [e for body in bodies for e in payloads.parse_body(json.dumps(body).encode(), None)]
        storing.store_deliveries(
            session=session, deliveries=[storing.Delivery(source_id=source_id, headers={}, events=events)]
        )


def _seed(engine, contacts: int) -> int:
    with Session(engine) as session:
        source_id = id_of(sources.create_source(session=session, name="bench"))
        session.commit()
    if not contacts:
        return source_id
    start = clock.now() - timedelta(days=1)
    _store(
        engine,
        source_id,
        [
            posthog_event(event="signed_up", distinct_id=f"u{i}", email=f"u{i}@x.io", timestamp=start)
            for i in range(contacts)
        ],
    )
    with Session(engine) as session:
        while processing.run_pass(session=session, limit=500).work:
            pass
    return source_id


def _events(contacts: int, count: int, *, identify: bool) -> list[dict]:
    start = clock.now() - timedelta(hours=12)
    bodies = []
    seen: dict[int, int] = {}
    for n in range(count):
        i = random.randrange(contacts)
        seen[i] = seen.get(i, 0) + 1
        event = random.choice(["page_viewed", "feature_used", "invoice_paid"])
        distinct_id, email = f"u{i}", f"u{i}@x.io"
        properties: dict[str, Any] = {"$set": {"last_seen": n}}
        if identify and seen[i] == 1:  # anonymous first, as PostHog's browser library sends it
            event, distinct_id, email, properties = "$pageview", f"anon{i}", "", {}
        elif identify and seen[i] == 2:  # then signing in links the anonymous id
            event, properties = "$identify", {"$anon_distinct_id": f"anon{i}"}
        bodies.append(
            posthog_event(
                event=event,
                distinct_id=distinct_id,
                email=email or None,
                properties=properties,
                timestamp=start + timedelta(milliseconds=n),
            )
        )
    return bodies


def _pending(engine) -> int:
    with Session(engine) as session:
        return processing.pending_count(session=session)


def _run(admin_url: str, workers: int, events: int, contacts: int, *, seeded: bool, identify: bool) -> float:
    with fresh_postgres_database(admin_url, prefix="humanic_bench") as url:
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                migrations.upgrade(connection=conn)
            source_id = _seed(engine, contacts if seeded else 0)
            return _timed(engine, url, source_id, workers, _events(contacts, events, identify=identify))
        finally:
            engine.dispose()


def _timed(engine, url: str, source_id: int, workers: int, bodies: list[dict]) -> float:
    """Events per second from storing `bodies` at once until `workers` standalone workers processed them."""
    procs: list[subprocess.Popen] = []
    try:
        with tempfile.TemporaryDirectory() as data:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("RESEND_", "HUMANIC_", "REFLEX_REDIS"))}
            env.update(DATABASE_URL=url, HUMANIC_DATA_DIR=data, HUMANIC_WORKERS="external")
            logs = [Path(data) / f"worker{i}.log" for i in range(workers)]
            procs = [
                subprocess.Popen(
                    [sys.executable, "-m", "humanic_app", "worker"],
                    cwd=PROJECT,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log.open("w"),
                )
                for log in logs
            ]
            while not all("standalone" in log.read_text() for log in logs):
                time.sleep(0.1)
            _store(engine, source_id, bodies)
            started = time.monotonic()
            while _pending(engine):
                time.sleep(0.05)
            return len(bodies) / (time.monotonic() - started)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--events", type=int, default=30000)
    parser.add_argument("--contacts", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--new-people", action="store_true", help="seed no contact: the events create them")
    parser.add_argument(
        "--identify", action="store_true", help="with --new-people: each person anonymous first, then $identify"
    )
    parser.add_argument("--postgres", default=POSTGRES_ADMIN_URL)
    args = parser.parse_args()
    for round_ in range(args.rounds):
        for workers in [int(n) for n in args.workers.split(",")]:
            rate = _run(
                args.postgres, workers, args.events, args.contacts, seeded=not args.new_people, identify=args.identify
            )
            print(
                f"round {round_ + 1}: {workers} worker(s): {args.events} events in "
                f"{args.events / rate:.1f} s, {rate:,.0f} events/s",
                flush=True,
            )


if __name__ == "__main__":
    main()
