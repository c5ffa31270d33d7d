"""Migrations produce exactly the SQLModel metadata, on SQLite and PostgreSQL, and downgrade cleanly."""

import json
import warnings

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from humanic_app import migrations
from humanic_app.db import make_engine
from humanic_app.models import metadata
from humanic_app.services import processing
from humanic_app.services.campaigns import journeys


def test_no_drift_between_migrations_and_models(engine):
    with warnings.catch_warnings():  # autogenerate cannot reflect expression indexes: checked below
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
    assert diff == []
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())


def _plan(conn, engine, query: str) -> str:
    if engine.dialect.name == "sqlite":
        return " ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + query))
    conn.exec_driver_sql("SET enable_seqscan = off")  # an empty table: make the planner show its option
    return " ".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + query))


def test_case_insensitive_email_lookups_use_an_index(engine):
    lookup = "SELECT id FROM contact WHERE lower(email) IN ('ada@example.com')"
    with engine.connect() as conn:
        assert "ix_contact_email_lower" in _plan(conn, engine, lookup)


def _index_definitions(conn, engine, table: str) -> dict[str, str]:
    if engine.dialect.name == "sqlite":
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :table"
    else:
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :table"
    return {name: str(sql) for name, sql in conn.execute(text(query), {"table": table})}


def test_lookups_use_the_indexes_that_hold_only_the_rows_they_can_find(engine):
    """Partial indexes (only enrolments that wait, only emails sent in a batch call) keep the writes that
    move an enrolment on or schedule an email lighter; the lookups compare the column (`= :name`,
    `<= :now`), which implies the index's predicate, so they still use them."""
    waiting_under = journeys._WAITING_UNDER.params(name="checkout", keys=["cart-1", "cart-2"])
    resuming = str(waiting_under.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    due = "SELECT id FROM enrolment WHERE wake_at <= '2026-12-04 00:00:00' AND status = 'active' ORDER BY wake_at"
    batch = "SELECT id FROM message WHERE batch_key = 'batch-1' AND status = 'sending'"
    with engine.connect() as conn:
        assert "ix_enrolment_waiting" in _plan(conn, engine, resuming)
        assert "ix_enrolment_wake_at" in _plan(conn, engine, due)
        assert "ix_message_batch_key" in _plan(conn, engine, batch)
        enrolment, message = _index_definitions(conn, engine, "enrolment"), _index_definitions(conn, engine, "message")
    assert "waiting_for IS NOT NULL" in enrolment["ix_enrolment_waiting"]
    assert "wake_at IS NOT NULL" in enrolment["ix_enrolment_wake_at"]
    assert "batch_key IS NOT NULL" in message["ix_message_batch_key"]
    # each the leading column of another index: uq_enrolment_campaign_event, ix_message_campaign_sent
    assert "ix_enrolment_campaign_id" not in enrolment
    assert "ix_message_campaign_id" not in message


def test_downgrade_to_base_and_up_again(database_url):
    engine = make_engine(database_url)
    with engine.begin() as conn:
        migrations.upgrade(connection=conn)
    with engine.begin() as conn:
        command.downgrade(migrations.alembic_config(connection=conn), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    with engine.begin() as conn:
        migrations.upgrade(connection=conn)
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_every_partial_index_of_the_models_is_partial_as_migrated(engine):
    """Autogenerate's drift check compares an index's columns, not its WHERE: this compares the predicate."""
    dialect = engine.dialect.name
    partial = [
        (table.name, index.name, str(index.dialect_options[dialect]["where"]))
        for table in metadata.tables.values()
        for index in table.indexes
        if index.dialect_options[dialect]["where"] is not None
    ]
    with engine.connect() as conn:
        migrated = {
            name: definition
            for table in metadata.tables
            for name, definition in _index_definitions(conn, engine, table).items()
            if " WHERE " in definition.upper()
        }
    assert {name for _, name, _ in partial} == set(migrated) and len(migrated) >= 3
    for _, name, predicate in partial:
        assert predicate in migrated[name], (name, predicate)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_events_pending_at_the_upgrade_get_the_email_and_person_id_intake_now_stores(database_url):
    """0034: an event stored before 0032 and still pending names its email and person id as intake would
    have stored them, so partition passes see the merge it may make (services/processing.py `_ROUTES`).
    It reads them a chunk at a time, and passes over an event a running pass holds instead of waiting."""
    engine = make_engine(database_url)
    payload = {
        "event": {"event": "signed_up", "distinct_id": "d1", "properties": {"email": "Ada@Example.com"}},
        "person": {"id": "person-1", "properties": {}},
    }
    insert = text(
        "INSERT INTO event (received_at, outcome, reason, event_name, distinct_id, payload)"
        " SELECT now(), :outcome, '', 'signed_up', 'd1', CAST(:payload AS json) FROM generate_series(1, :n)"
    )
    with engine.begin() as conn:
        command.upgrade(migrations.alembic_config(connection=conn), "0031")
        conn.execute(insert, {"outcome": "pending", "payload": json.dumps(payload), "n": 2500})
        conn.execute(insert, {"outcome": "processed", "payload": json.dumps(payload), "n": 1})
    with engine.begin() as conn:  # a deployment already past 0032 whose worker is running a pass
        command.upgrade(migrations.alembic_config(connection=conn), "0033")
    with engine.connect() as running_pass, running_pass.begin():
        held = running_pass.execute(text("SELECT min(id) FROM event")).scalar_one()
        running_pass.execute(text("SELECT id FROM event WHERE id = :id FOR UPDATE"), {"id": held})
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '5s'"))  # waiting for the held row would fail here
            migrations.upgrade(connection=conn)
    with engine.connect() as conn:
        keys = dict(
            conn.execute(
                text("SELECT (outcome, id = :held)::text, (email, person_id)::text FROM event"), {"held": held}
            ).all()
        )
        counts = dict(conn.execute(text("SELECT email IS NULL, count(*) FROM event GROUP BY 1")).all())
    engine.dispose()
    assert keys == {
        "(pending,f)": "(ada@example.com,person-1)",
        "(pending,t)": "(,)",  # the running pass processes it
        "(processed,f)": "(,)",
    }
    assert counts == {False: 2499, True: 2}


def test_sqlite_pragmas(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL: a 2xx'd event survives a power cut


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_finding_a_batchs_backfilled_repeats_probes_the_uuid_index_however_large_the_table(engine):
    """Processing looks up each event's first stored event with its PostHog uuid once per batch. Planned
    with no statistics (autovacuum off, a table that just grew) and generic, as psycopg's prepared
    statements are, it still reads only the rows with that uuid, through `ix_event_uuid`: a join lets the
    planner hash every earlier event, and min(id) lets it walk the primary key."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO event (received_at, outcome, reason, event_name, distinct_id, event_uuid, payload)"
                " SELECT now(), 'processed', '', 'x', 'd', 'u' || (g % 5000), to_json(repeat('x', 1500))"
                " FROM generate_series(1, 30000) g"
            )
        )
    ids = list(range(29801, 30001))
    batch = processing._BACKFILL_REPEATS.params(ids=[0])
    query = str(batch.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    assert "ARRAY[0]" in query
    with engine.connect() as conn:
        conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        conn.exec_driver_sql("PREPARE repeats(integer[]) AS " + query.replace("ARRAY[0]", "$1"))
        plan = " ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN EXECUTE repeats(ARRAY{ids})"))
        first = dict(conn.execute(processing._BACKFILL_REPEATS, {"ids": ids}).all())
    earlier = plan[plan.index("SubPlan") :]
    assert "ix_event_uuid " in earlier and "event_pkey" not in earlier and "Seq Scan" not in earlier, plan
    assert first[29801] == 4801 and first[30000] == 5000  # the lowest id with that uuid
