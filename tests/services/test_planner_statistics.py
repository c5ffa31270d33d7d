"""Planner statistics where PostgreSQL's autovacuum is off (as on the machines these tests run on)."""

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


def _stale(engine) -> list[str]:
    with Session(engine) as session:  # each its own transaction: the statistics as they are now
        return planner_statistics.stale_tables(session=session)


def _plan(conn, source_id: int) -> str:
    return " ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN EXECUTE original({source_id}, 'key-7')"))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_statement_planned_on_a_small_table_is_planned_again_once_the_grown_table_is_analyzed(engine):
    with Session(engine) as session:
        source_id = sources.create_source(session=session, name="planner").id
        session.execute(_EVENTS, {"source_id": source_id, "first": 1, "last": 30})
        session.commit()
    # a statement each its own transaction, as intake's rounds are: each takes in what ANALYZE changed
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as prepared:
        prepared.exec_driver_sql(_PREPARE)
        for _ in range(6):  # the sixth execution onwards runs the generic plan
            prepared.exec_driver_sql(f"EXECUTE original({source_id}, 'key-7')").all()
        small = _plan(prepared, source_id)
        with Session(engine) as session:
            session.execute(_EVENTS, {"source_id": source_id, "first": 31, "last": 20000})
            session.commit()
        grown_unanalyzed = _plan(prepared, source_id)
        wait_until(lambda: "event" in _stale(engine), timeout_s=30, what="the inserts in the table statistics")
        with Session(engine) as session:
            stale = planner_statistics.stale_tables(session=session)
            for table in stale:
                planner_statistics.analyze(session=session, table=table)
            session.commit()
        stale_after = _stale(engine)
        analyzed = _plan(prepared, source_id)
        buckets = prepared.exec_driver_sql(
            "SELECT array_length(histogram_bounds::text::text[], 1) FROM pg_stats"
            " WHERE tablename = 'event' AND attname = 'id'"
        ).scalar_one()
    # planned on 30 rows: every event of the source, filtered by key
    assert "ix_event_source_id_id" in small and small == grown_unanalyzed
    assert "event" in stale and "event" not in stale_after
    assert "uq_event_source_dedupe" in analyzed, analyzed  # one probe of the source's key
    assert buckets == planner_statistics.STATISTICS_TARGET + 1  # a small sample: PostgreSQL's default gives 101


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_has_no_planner_statistics_to_refresh(engine):
    with Session(engine) as session:
        sources.create_source(session=session, name="planner")
        session.commit()
        assert planner_statistics.stale_tables(session=session) == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_periodic_job_analyzes_each_table_that_changed_enough(engine):
    with Session(engine) as session:
        source_id = sources.create_source(session=session, name="planner").id
        session.execute(_EVENTS, {"source_id": source_id, "first": 1, "last": 500})
        session.commit()
    wait_until(lambda: "event" in _stale(engine), timeout_s=30, what="the inserts in the table statistics")
    db.use_engine(engine)
    try:
        workers.refresh_planner_statistics()
    finally:
        db.use_engine(None)
    with engine.connect() as conn:
        analyzed = text("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'event'")
        assert conn.execute(analyzed).scalar_one()
    assert _stale(engine) == []
