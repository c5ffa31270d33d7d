"""Statistics for PostgreSQL's planner where autovacuum, which normally gathers them, is off.

Without statistics PostgreSQL plans from a table's size alone, and a statement a connection prepared while
a table was small keeps that plan for the connection's life. Intake's lookup of a repeat's original,
prepared when the event table held a few dozen rows, read every event of the source: it cost more with
each event stored, and the webhook fell from 50% of /ping to 28% within a minute (BENCHMARKS.md).
ANALYZE gathers the statistics and makes every connection plan its statements again.

This does what autovacuum's analyze does: a table whose rows changed by more than ANALYZE_BASE plus
ANALYZE_SCALE times its rows since its last analyze is analyzed. With autovacuum on (PostgreSQL's
default) it does nothing, and SQLite has no such planner state.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

ANALYZE_BASE = 50  # autovacuum_analyze_threshold's default
ANALYZE_SCALE = 0.1  # autovacuum_analyze_scale_factor's default
# rows sampled: 300 times this. PostgreSQL's default (100) took 370 ms of a busy 2-core machine for the event
# table at 58,000 events, a stall in the webhook's p99; 10 took 27 ms, and these plans need no more detail
STATISTICS_TARGET = 10

_STALE = text(
    "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema()"
    " AND n_mod_since_analyze > :base + :scale * greatest(n_live_tup, 0) ORDER BY relname"
)


def stale_tables(*, session: Session) -> list[str]:
    """The tables to analyze now: none unless this is PostgreSQL with autovacuum off."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    if session.execute(text("SELECT current_setting('autovacuum')")).scalar_one() == "on":
        return []
    return list(session.execute(_STALE, {"base": ANALYZE_BASE, "scale": ANALYZE_SCALE}).scalars())


def analyze(*, session: Session, table: str) -> None:
    """ANALYZE one table, from a sample of 300 × STATISTICS_TARGET rows (unless its columns set their own
    target). It holds only a lock that reads and writes never wait for, until the caller commits."""
    quoted = session.get_bind().dialect.identifier_preparer.quote(table)
    session.execute(text(f"SET LOCAL default_statistics_target = {STATISTICS_TARGET}"))
    session.execute(text(f"ANALYZE {quoted}"))
