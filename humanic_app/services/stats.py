"""Hourly counters, bumped in the same transaction as the work they count (so they cannot drift from it)
and read by the Dashboard, the troubleshooting checks and /metrics without scanning the event table.

Names: received (key: source id), event (event name), duplicate (source id), rejected (reason),
rejected_source (source id, for refusals on a known URL),
processed (event name), no_email (source id), contact_created, cross_source (the same PostHog event
through a second source), webhook_ms (answer-time bucket), webhook_non2xx (status),
pruned (events or delivery_events: services/retention.py),
partition_failed (exception type: PostgreSQL partition passes that failed, their events left to the serial pass).
"""

from __future__ import annotations

import operator
from collections import Counter
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.dialects import sqlite
from sqlmodel import Session, col, select

from humanic_app.models import Stat
from humanic_app.models.rows import table_of

WEBHOOK_MS_BUCKETS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)
PARTITION_FAILED = "partition_failed"  # written by processing, read by Pipeline health
BUCKET_LABELS = (*map(str, WEBHOOK_MS_BUCKETS), "+Inf")  # the `key`s of "webhook_ms", smallest first


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def webhook_bucket(milliseconds: float) -> str:
    for bound in WEBHOOK_MS_BUCKETS:
        if milliseconds <= bound:
            return str(bound)
    return "+Inf"


def count(session: Session, *, name: str, key: str = "", at: datetime, n: int = 1) -> None:
    """Adds `n` to one counter, in the hour of `at`."""
    bump(session, Counter({(hour_of(at), name, key): n}))


def bump(session: Session, counts: Counter[tuple[datetime, str, str]]) -> None:
    """Adds to the counters (hour, name, key); one upsert statement for the lot, in key order: concurrent
    transactions (several web workers on PostgreSQL) then lock the rows they share in the same order,
    instead of deadlocking over them."""
    if not counts:
        return
    rows = sorted(
        ({"hour": hour, "name": name, "key": key[:200], "count": n} for (hour, name, key), n in counts.items()),
        key=operator.itemgetter("hour", "name", "key"),
    )
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        columns = {name: [row[name] for row in rows] for name in ("hour", "name", "key", "count")}
        connection.exec_driver_sql(_PG_UPSERT, columns)
    else:
        connection.execute(_SQLITE_UPSERT, rows)


# One statement text whatever the number of counters: psycopg parses it once and PostgreSQL plans it once
# (a prepared statement), where an executemany costs a parse and a round of messages per counter; the
# arrays go in binary (%b), which psycopg dumps without escaping each string in Python. The
# rows stay in key order (ORDER BY), which is what keeps concurrent bumps from deadlocking.
_PG_UPSERT = (
    "INSERT INTO stat (hour, name, key, count) "
    "SELECT hour, name, key, count FROM unnest("
    "%(hour)b::timestamptz[], %(name)b::varchar[], %(key)b::varchar[], %(count)b::integer[]"
    ") AS counted(hour, name, key, count) ORDER BY hour, name, key "
    "ON CONFLICT (hour, name, key) DO UPDATE SET count = stat.count + excluded.count"
)


_INSERT = sqlite.insert(table_of(Stat))
_SQLITE_UPSERT = _INSERT.on_conflict_do_update(  # built once: it runs in every ingest, processing and dispatch
    index_elements=["hour", "name", "key"], set_={"count": table_of(Stat).c.count + _INSERT.excluded["count"]}
)


def totals(*, session: Session, name: str, since: datetime | None = None) -> dict[str, int]:
    """{key: count} over the period (all time when `since` is None)."""
    stmt = select(Stat.key, func.sum(Stat.count)).where(Stat.name == name)
    if since is not None:
        stmt = stmt.where(Stat.hour >= hour_of(since))
    return {key: int(n) for key, n in session.exec(stmt.group_by(Stat.key))}


def series(*, session: Session, names: list[str], since: datetime, by_day: bool) -> dict[tuple[str, str], Counter]:
    """{(name, key): Counter({bucket start: count})} per hour, or per day."""
    found: dict[tuple[str, str], Counter] = {}
    rows = session.exec(
        select(Stat.hour, Stat.name, Stat.key, Stat.count).where(col(Stat.name).in_(names), Stat.hour >= hour_of(since))
    )
    for hour, name, key, n in rows:
        bucket = hour.replace(hour=0) if by_day else hour
        found.setdefault((name, key), Counter())[bucket] += n
    return found


def quantile_ms(buckets: dict[str, int], q: float) -> float | None:
    """An upper bound for the q-quantile of webhook answer times from the bucket counts."""
    total = sum(buckets.values())
    if not total:
        return None
    running = 0
    for bound in BUCKET_LABELS:
        running += buckets.get(bound, 0)
        if running >= q * total:
            return float("inf") if bound == "+Inf" else float(bound)
    return float("inf")


def describe_ms(milliseconds: float | None) -> str:
    """A quantile from `quantile_ms` in words: the buckets only give an upper bound."""
    if milliseconds is None:
        return "–"
    return "over 5 s" if milliseconds == float("inf") else f"≤ {milliseconds:.0f} ms"
