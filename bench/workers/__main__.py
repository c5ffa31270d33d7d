"""Processing throughput with 1, 2, 3… standalone workers on one PostgreSQL database.

Usage: python -m bench.workers [--workers 1,2,3] [--events 30000] [--contacts 3000] [--rounds 2]
                               [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

For each worker count and round: a fresh database on that server (dropped afterwards), --contacts contacts
made by a first event each (processed in this process), then that many `python -m humanic_app worker`
processes (HUMANIC_WORKERS=external) started and idle; --events PostHog-shaped events of those contacts
(random contact, increasing time, no campaign) committed in one transaction; the bench times from that
commit until none is pending. Events of known contacts are what partition passes take in parallel; a
contact's first event (and any identity link) goes to the serial pass, so those are seeded beforehand.
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
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlmodel import Session

from humanic_app import clock, migrations
from humanic_app.db import make_engine
from humanic_app.models.rows import id_of
from humanic_app.services import processing, sources
from humanic_app.services.intake import payloads, storing
from humanic_app.services.samples import posthog_event

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


def _events(contacts: int, count: int) -> list[dict]:
    start = clock.now() - timedelta(hours=12)
    bodies = []
    for n in range(count):
        i = random.randrange(contacts)
        bodies.append(
            posthog_event(
                event=random.choice(["page_viewed", "feature_used", "invoice_paid"]),
                distinct_id=f"u{i}",
                email=f"u{i}@x.io",
                properties={"$set": {"last_seen": n}},
                timestamp=start + timedelta(milliseconds=n),
            )
        )
    return bodies


def _pending(engine) -> int:
    with Session(engine) as session:
        return processing.pending_count(session=session)


def _run(admin_url: str, workers: int, events: int, contacts: int) -> float:
    name = f"humanic_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    procs: list[subprocess.Popen] = []
    try:
        with engine.begin() as conn:
            migrations.upgrade(connection=conn)
        source_id = _seed(engine, contacts)
        bodies = _events(contacts, events)
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
            return events / (time.monotonic() - started)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--events", type=int, default=30000)
    parser.add_argument("--contacts", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    for round_ in range(args.rounds):
        for workers in [int(n) for n in args.workers.split(",")]:
            rate = _run(args.postgres, workers, args.events, args.contacts)
            print(
                f"round {round_ + 1}: {workers} worker(s): {args.events} events in "
                f"{args.events / rate:.1f} s, {rate:,.0f} events/s",
                flush=True,
            )


if __name__ == "__main__":
    main()
