"""Planner statistics where PostgreSQL's autovacuum is off. The tests turn it off for the tables they
fill, so they hold whatever the server's own setting."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import Session

from humanic_app import db, workers
from humanic_app.services import planner_statistics, sources
from tests.support.waiting import wait_until

_EVENTS = text(
    "INSERT INTO event (source_id, received_at, outcome, reason, dedupe_key, payload)"
    " SELECT :source_id, now(), 'processed', '', 'key-' || g, '{}'"
    " FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) g"
)
# intake's lookup of a repeat's original (services/intake/storing.py `_KNOWN_KEYS`), prepared as psycopg
# prepares a statement it has run five times
_PREPARE = (
    "PREPARE original(integer, varchar) AS SELECT event.id, event.dedupe_key FROM event"
    " WHERE event.source_id = $1 AND event.dedupe_key IN ($2)"
)


def _autovacuum_off(engine, *tables: str) -> None:
    with engine.begin() as conn:
        for table in tables:
            conn.exec_driver_sql(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")


def _has_statistics(engine, table: str) -> bool:
    with engine.connect() as conn:
        found = conn.execute(text("SELECT count(*) FROM pg_stats WHERE tablename = :table"), {"table": table})
        return found.scalar_one() > 0


def _stale(engine) -> list[str]:
    with Session(engine) as session:  # each its own transaction: the statistics as they are now
        return planner_statistics.stale_tables(session=session)


def _plan(conn, source_id: int) -> str:
    return " ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN EXECUTE original({source_id}, 'key-7')"))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_once_the_grown_table_is_analyzed_a_statement_prepared_on_it_small_probes_the_unique_key(engine):
    """Prepared while the table is small, the lookup's generic plan is a near tie between the unique key
    and the index of the source's events (either may win, and it stays); once the grown table is analyzed,
    from a small sample, the connection plans it again and probes the unique key."""
    _autovacuum_off(engine, "event")
    with Session(engine) as session:
        source_id = sources.create_source(session=session, name="planner").id
        session.execute(_EVENTS, {"source_id": source_id, "first": 1, "last": 30})
        session.commit()
    # a statement each its own transaction, as intake's rounds are: each takes in what ANALYZE changed
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as prepared:
        prepared.exec_driver_sql(_PREPARE)
        for _ in range(6):  # the sixth execution onwards runs the generic plan
            prepared.exec_driver_sql(f"EXECUTE original({source_id}, 'key-7')").all()
        with Session(engine) as session:
            session.execute(_EVENTS, {"source_id": source_id, "first": 31, "last": 20000})
            session.commit()
        wait_until(lambda: "event" in _stale(engine), timeout_s=30, what="the inserts in the table statistics")
        with Session(engine) as session:
            for table in planner_statistics.stale_tables(session=session):
                planner_statistics.analyze(session=session, table=table)
            session.commit()
        analyzed = _plan(prepared, source_id)
        buckets = prepared.exec_driver_sql(
            "SELECT array_length(histogram_bounds::text::text[], 1) FROM pg_stats"
            " WHERE tablename = 'event' AND attname = 'id'"
        ).scalar()
    assert "event" not in _stale(engine)
    assert buckets == planner_statistics.STATISTICS_TARGET + 1  # a small sample: PostgreSQL's default gives 101
    assert "uq_event_source_dedupe" in analyzed, analyzed  # one probe of the source's key


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_has_no_planner_statistics_to_refresh(engine):
    with Session(engine) as session:
        sources.create_source(session=session, name="planner")
        session.commit()
        assert planner_statistics.stale_tables(session=session) == []


def _run_job(engine) -> None:
    db.use_engine(engine)
    try:
        workers.refresh_planner_statistics()
    finally:
        db.use_engine(None)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_periodic_job_analyzes_each_table_that_changed_enough_and_passes_over_one_it_cannot_lock(engine):
    """A table locked against ANALYZE (a migration, a manual VACUUM) is left for the next period after
    LOCK_TIMEOUT; the others are analyzed meanwhile, each in a transaction of its own."""
    _autovacuum_off(engine, "event", "source")
    with Session(engine) as session:
        source_id = sources.create_source(session=session, name="planner").id
        session.execute(_EVENTS, {"source_id": source_id, "first": 1, "last": 500})
        for _ in range(60):
            session.execute(text("UPDATE source SET name = name || '.'"))
        session.commit()
    wait_until(lambda: {"event", "source"} <= set(_stale(engine)), timeout_s=30, what="the changes in the statistics")
    with engine.connect() as locker, locker.begin():
        locker.exec_driver_sql("LOCK TABLE event IN SHARE UPDATE EXCLUSIVE MODE")
        _run_job(engine)
    assert _has_statistics(engine, "source") and not _has_statistics(engine, "event")
    assert "event" in _stale(engine) and "source" not in _stale(engine)
    _run_job(engine)
    assert _has_statistics(engine, "event")
    assert _stale(engine) == []
