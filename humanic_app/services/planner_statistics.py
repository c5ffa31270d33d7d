"""Statistics for PostgreSQL's planner where autovacuum, which normally gathers them, is off.

Without statistics PostgreSQL plans from a table's size alone. A statement psycopg has prepared (from its
sixth run) gets a generic plan that the connection keeps until the table's statistics or definition
change, so a plan made while a table was small goes on reading the whole table as it grows: intake's
lookup of a repeat's original does, through the index of the source's events (BENCHMARKS.md, session 21).
ANALYZE gathers the statistics and makes every connection plan its statements again.

This does what autovacuum's analyze does: a table whose rows changed by more than ANALYZE_BASE plus
ANALYZE_SCALE times its rows since its last analyze is analyzed, when autovacuum is off for the whole
server or for that table. Otherwise autovacuum does it and this does nothing; SQLite has no such state.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

ANALYZE_BASE = 50  # autovacuum_analyze_threshold's default
ANALYZE_SCALE = 0.1  # autovacuum_analyze_scale_factor's default
# rows sampled: 300 times this. PostgreSQL's default (100) takes 370 ms of a busy 2-core machine for 58,000
# events, a stall the webhook's p99 shows; 10 takes 27 ms. The lookups that go wrong without statistics are
# equalities on nearly unique keys and the few event outcomes, which 3,000 rows estimate well enough.
STATISTICS_TARGET = 10
LOCK_TIMEOUT = "1s"  # behind a migration's lock, give up until the next period rather than queue

_STALE = text(
    "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
    " WHERE s.schemaname = current_schema()"
    " AND s.n_mod_since_analyze > :base + :scale * greatest(s.n_live_tup, 0)"
    " AND (current_setting('autovacuum') = 'off' OR EXISTS ("
    "   SELECT 1 FROM unnest(c.reloptions) AS o"
    "   WHERE lower(o) IN ('autovacuum_enabled=false', 'autovacuum_enabled=off', 'autovacuum_enabled=0')))"
    " ORDER BY s.relname"
)


def stale_tables(*, session: Session) -> list[str]:
    """The tables to analyze now: on PostgreSQL, those autovacuum leaves alone that changed enough."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    return list(session.execute(_STALE, {"base": ANALYZE_BASE, "scale": ANALYZE_SCALE}).scalars())


def analyze(*, session: Session, table: str) -> None:
    """ANALYZE one table from a sample of 300 × STATISTICS_TARGET rows (unless its columns set their own
    target). Its lock blocks no reads or writes; it waits at most LOCK_TIMEOUT for one that blocks it."""
    quoted = session.get_bind().dialect.identifier_preparer.quote(table)
    session.execute(text(f"SET LOCAL default_statistics_target = {STATISTICS_TARGET}"))
    session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    session.execute(text(f"ANALYZE {quoted}"))
