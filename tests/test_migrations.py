"""Migrations produce exactly the SQLModel metadata, on SQLite and PostgreSQL, and downgrade cleanly."""

import warnings

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from humanic_app import migrations
from humanic_app.db import make_engine
from humanic_app.models import metadata


def test_no_drift_between_migrations_and_models(engine):
    with warnings.catch_warnings():  # autogenerate cannot reflect expression indexes: checked below
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
    assert diff == []
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())


def test_case_insensitive_email_lookups_use_an_index(engine):
    lookup = "SELECT id FROM contact WHERE lower(email) IN ('ada@example.com')"
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + lookup))
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # an empty table: make the planner show its option
            plan = " ".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + lookup))
    assert "ix_contact_email_lower" in plan


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


def test_sqlite_pragmas(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL: a 2xx'd event survives a power cut
