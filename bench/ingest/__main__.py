"""Webhook ingest benchmark: the same server's /ping against the PostHog webhook, then processing speed.

Usage: python -m bench.ingest [--database sqlite|postgresql] [--seconds 10] [--connections 16] [--events 150000]
                              [--users 5000] [--rounds 3] [--paced 100,50%] [--no-capacity]

Starts the app in production mode on a free port with a fresh data dir: on SQLite (the default), or with
`--database postgresql` on a fresh database of the local PostgreSQL server (`--postgres`, its admin URL),
dropped afterwards. Without `--database`, a DATABASE_URL in the environment is used as it is. It creates a
source, and drives both endpoints with wrk (Debian package `wrk`) at the
same concurrency. Bodies are realistic PostHog default-shape events from a pool of --users users (the
first event of each creates its contact, so the first round is mostly new contacts and later rounds
mostly known ones); about 5% repeat an earlier uuid, as
PostHog retries do. Every body is sent once: each run goes on where the previous one stopped (if the
run outlasts the bodies it starts over, and everything after that is a duplicate: raise --events).
Prints one line per measurement.

This machine's speed drifts by tens of percent from minute to minute, so /ping and the webhook are
measured in alternating rounds and each round's ratio is printed. `--paced` then measures the webhook's
latency at chosen rates (requests/s, or a percentage of the last /ping rate) with the same connections
each waiting between requests: latency under a given load rather than at saturation. Last, processing
capacity: the background worker is paused (SIGSTOP) during one more webhook run, then let go, and the
bench times how fast it works off what piled up, with the webhook idle.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session, col

from bench.served import served_app, server_cpu_seconds, signal_app
from tests.support.postgres import POSTGRES_ADMIN_URL, fresh_postgres_database

HERE = Path(__file__).resolve().parent
WORKER = "humanic_app worker"
WRK_THREADS = 2
BENCH_SECRET_KEY = "bench-secret-key-0123456789abcdef"  # PostgreSQL wants one; a throwaway database's


@contextlib.contextmanager
def _database(kind: str | None, admin_url: str) -> Iterator[dict[str, str]]:
    """The served app's environment for `kind`: a fresh PostgreSQL database, dropped afterwards; SQLite in
    the data dir; or (None) whatever DATABASE_URL says."""
    if kind == "postgresql":
        with fresh_postgres_database(admin_url, prefix="humanic_bench") as url:
            yield {"DATABASE_URL": url, "HUMANIC_SECRET_KEY": os.environ.get("HUMANIC_SECRET_KEY") or BENCH_SECRET_KEY}
        return
    if kind == "sqlite":
        os.environ.pop("DATABASE_URL", None)
    yield {}


def _bodies(path: Path, count: int, users: int) -> None:
    from humanic_app.services.samples import posthog_event

    rng = random.Random(7)
    names = ["user_signed_up", "feature_first_used", "checkout_started", "pricing_page_viewed", "session_ended"]
    recent: list[str] = []
    with open(path, "w") as out:
        for _i in range(count):
            if recent and rng.random() < 0.05:
                out.write(rng.choice(recent) + "\n")
                continue
            user = rng.randrange(users)
            body = json.dumps(
                posthog_event(
                    event=rng.choice(names),
                    distinct_id=f"user_{user}",
                    email=f"user{user}@example.com",
                    name=f"User {user}",
                    properties={
                        "cart_value": round(rng.uniform(5, 300), 2),
                        "currency": "EUR",
                        "plan": rng.choice(["free", "pro"]),
                        "$current_url": "https://x.io/a",
                    },
                )
            )
            recent = (recent + [body])[-200:]
            out.write(body + "\n")


def _wrk(url: str, script: Path, seconds: float, connections: int, env: dict[str, str]) -> dict[str, float]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: install it with 'apt-get install -y wrk'.")
    out = subprocess.run(
        ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    ).stdout
    match = re.search(r"RESULT requests=(\d+) duration_us=(\d+) non2xx=(\d+) p50_us=(\d+) p99_us=(\d+)", out)
    if not match:
        raise SystemExit(f"could not read wrk output:\n{out}")
    requests, duration, non2xx, p50, p99 = map(int, match.groups())
    return {
        "rps": requests / (duration / 1e6),
        "requests": requests,
        "non2xx": non2xx,
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
    }


def _consumed(result: dict[str, float]) -> int:
    """How far the next run starts: wrk's threads do not send exactly as many requests each, so skip
    a margin rather than resend a body (it would be a duplicate)."""
    return int(result["requests"] * 1.1) + 100


def _paced_rates(spec: str, ping_rps: float) -> list[float]:
    rates = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        rates.append(ping_rps * float(part[:-1]) / 100 if part.endswith("%") else float(part))
    return rates


def _pause_worker_between_writes(base: str) -> None:
    """SIGSTOP the background worker, but not in the middle of a transaction: stopped there it would keep
    holding what the webhook needs (SQLite: the inbox's lock while it trims; PostgreSQL: row locks on
    the hourly counters it shares with the webhook)."""
    from humanic_app.db import get_engine
    from humanic_app.settings import get_settings

    settings = get_settings()
    while True:
        signal_app(base, signal.SIGSTOP, only=WORKER)
        if _worker_holds_nothing(settings.database_url, get_engine()):
            return
        signal_app(base, signal.SIGCONT, only=WORKER)
        time.sleep(0.05)


def _worker_holds_nothing(database_url: str, engine) -> bool:
    if database_url.startswith("sqlite"):
        probe = sqlite3.connect(f"{database_url.removeprefix('sqlite:///')}.inbox", timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            probe.close()
    time.sleep(0.2)  # a stopped transaction shows as idle in transaction; the webhook's never idle that long
    with engine.connect() as connection:
        return not connection.exec_driver_sql(
            "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%%' AND now() - state_change > interval '150 milliseconds'"
        ).first()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgresql"], help="default: DATABASE_URL, else SQLite")
    parser.add_argument("--postgres", default=POSTGRES_ADMIN_URL, help="the PostgreSQL server's admin URL")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--events", type=int, default=150000)
    parser.add_argument(
        "--users",
        type=int,
        default=5000,
        help="distinct users: the first event of each creates a contact, later ones match it",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--paced", default="100,50%", help="rates for the latency runs; '' for none")
    parser.add_argument(
        "--capacity",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="hold processing back during one more webhook run, then time how fast it catches up",
    )
    args = parser.parse_args()

    with _database(args.database, args.postgres) as database, served_app(database) as (base, workdir):
        from humanic_app import clock
        from humanic_app.db import get_engine, read_scope
        from humanic_app.models import Event, EventOutcome
        from humanic_app.services import dashboard, sources

        engine = get_engine()
        with Session(engine) as session:
            source = sources.create_source(session=session, name="bench")
            session.commit()
            hook = sources.webhook_url(base_url=base, source=source)
        version = ".".join(map(str, engine.dialect.server_version_info or ()))  # known once connected
        print(f"database             {engine.dialect.name} {version}", flush=True)
        bodies = workdir / "bodies.jsonl"
        _bodies(bodies, args.events, args.users)

        def counts() -> tuple[int, int]:
            """Stored events and, of those, not yet processed (on SQLite, rows still in the inbox count as both)."""
            with read_scope(engine) as s:
                total = s.execute(select(func.count()).select_from(Event)).scalar_one()
                backlog = dashboard.backlogs(session=s, now=clock.now()).pending
                waiting = (
                    backlog
                    - s.execute(
                        select(func.count()).select_from(Event).where(col(Event.outcome) == EventOutcome.pending)
                    ).scalar_one()
                )
            return total + waiting, backlog

        def duplicates() -> int:
            with Session(engine) as s:
                return s.execute(
                    select(func.count()).select_from(Event).where(col(Event.outcome) == EventOutcome.duplicate)
                ).scalar_one()

        rounds = []
        sent = 0

        def events_env() -> dict[str, str]:
            return {"BODIES_FILE": str(bodies), "WRK_THREADS": str(WRK_THREADS), "START": str(sent)}

        for number in range(1, args.rounds + 1):
            cpu = server_cpu_seconds(base)
            ping = _wrk(base + "/ping", HERE / "ping.lua", args.seconds, args.connections, {})
            ping_cpu, cpu, worker_cpu = (
                server_cpu_seconds(base) - cpu,
                server_cpu_seconds(base),
                server_cpu_seconds(base, only=WORKER),
            )
            hook_result = _wrk(hook, HERE / "posthog.lua", args.seconds, args.connections, events_env())
            sent += _consumed(hook_result)
            hook_cpu, worker_cpu = server_cpu_seconds(base) - cpu, server_cpu_seconds(base, only=WORKER) - worker_cpu
            rounds.append((ping, hook_result))
            backlog = counts()[1]
            print(
                f"round {number}: GET /ping {ping['rps']:6.0f} req/s  p50 {ping['p50_ms']:.1f} ms  p99 "
                f"{ping['p99_ms']:.1f} ms | POST webhook {hook_result['rps']:6.0f} req/s  p50 "
                f"{hook_result['p50_ms']:.1f} ms  p99 {hook_result['p99_ms']:.1f} ms  non-2xx "
                f"{hook_result['non2xx']} | {100 * hook_result['rps'] / ping['rps']:.0f}% of /ping | "
                f"not yet processed when it stopped: {backlog}",
                flush=True,
            )
            print(
                f"         app CPU per request: /ping {1e3 * ping_cpu / ping['requests']:.2f} ms, webhook "
                f"{1e3 * hook_cpu / hook_result['requests']:.2f} ms, of which the background worker's processing"
                f" {1e3 * worker_cpu / hook_result['requests']:.2f} ms",
                flush=True,
            )
        ratios = sorted(h["rps"] / p["rps"] for p, h in rounds)
        print(
            f"webhook / ping       median {100 * ratios[len(ratios) // 2]:.0f}% "
            f"(rounds: {', '.join(f'{100 * r:.0f}%' for r in ratios)})"
        )
        ping, hook_result = rounds[-1]
        for rate in _paced_rates(args.paced, ping["rps"]):
            paced = _wrk(
                hook,
                HERE / "posthog.lua",
                args.seconds,
                args.connections,
                {**events_env(), "PACE_MS": str(1000 * args.connections / rate)},
            )
            sent += _consumed(paced)
            print(
                f"paced at ~{rate:.0f}/s   {paced['rps']:8.0f} req/s  p50 {paced['p50_ms']:.1f} ms  "
                f"p99 {paced['p99_ms']:.1f} ms  non-2xx {paced['non2xx']}",
                flush=True,
            )

        if args.capacity:
            _pause_worker_between_writes(base)
            held = _wrk(hook, HERE / "posthog.lua", args.seconds, args.connections, events_env())
            sent += _consumed(held)
            waiting, started = counts()[1], time.monotonic()
            signal_app(base, signal.SIGCONT, only=WORKER)
            while counts()[1]:
                time.sleep(0.05)
            took = time.monotonic() - started
            print(
                f"processing capacity  {waiting} events held back during a {held['rps']:.0f} req/s webhook run "
                f"(non-2xx {held['non2xx']}), processed in {took:.1f} s = {waiting / took:.0f} events/s",
                flush=True,
            )

        total, pending = counts()
        requests = sum(h["requests"] for _, h in rounds)
        print(
            f"stored events        {total} ({requests} requests in the saturated runs), {duplicates()} marked duplicate"
        )
        started = time.monotonic()
        while pending:
            time.sleep(0.2)
            _, pending = counts()
        drain = time.monotonic() - started
        print(f"processing           backlog drained {drain:.1f} s after the load stopped")


if __name__ == "__main__":
    main()
