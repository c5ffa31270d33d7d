"""Throwaway PostgreSQL databases on the test server (HUMANIC_TEST_POSTGRES_URL, trust auth by default)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text

POSTGRES_ADMIN_URL = os.environ.get(
    "HUMANIC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def postgres_url_for(name: str, admin_url: str = POSTGRES_ADMIN_URL) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + name


def create_postgres_database(
    admin_url: str = POSTGRES_ADMIN_URL, prefix: str = "humanic_test", template: str | None = None
) -> str:
    """A new database, empty or a copy of `template` (which nobody may be connected to meanwhile)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    admin.dispose()
    return name


def drop_postgres_database(name: str, admin_url: str = POSTGRES_ADMIN_URL) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# PostgreSQL 15 checkpoints at every DROP DATABASE (about 0.2 s here): the tests' databases are dropped by
# this thread while the next test runs, and `wait_for_drops` at the end of the session reports a failure.
_dropper = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="drop-test-database")
_drops: list[concurrent.futures.Future] = []


def _drop_named(name: str, admin_url: str) -> None:
    try:
        drop_postgres_database(name, admin_url)
    except Exception as exc:
        raise RuntimeError(f"dropping the test database {name} failed: {exc}") from exc


def drop_postgres_database_later(name: str, admin_url: str = POSTGRES_ADMIN_URL) -> None:
    _drops.append(_dropper.submit(_drop_named, name, admin_url))


def wait_for_drops() -> None:
    """Waits for every database handed to `drop_postgres_database_later`; raises one error naming every
    database whose drop failed."""
    failures = []
    while _drops:
        exc = _drops.pop(0).exception()
        if exc is not None:
            failures.append(str(exc))
    if failures:
        raise RuntimeError("\n".join(failures))


@contextlib.contextmanager
def fresh_postgres_database(admin_url: str = POSTGRES_ADMIN_URL, prefix: str = "humanic_test") -> Iterator[str]:
    """Yields the URL of an empty database on `admin_url`'s server, dropped afterwards."""
    name = create_postgres_database(admin_url, prefix)
    try:
        yield postgres_url_for(name, admin_url)
    finally:
        drop_postgres_database(name, admin_url)


@contextlib.contextmanager
def migrated_postgres_database() -> Iterator[str]:
    """Yields the URL of a database with every migration applied, dropped afterwards."""
    from humanic_app import migrations
    from humanic_app.db import make_engine

    with fresh_postgres_database() as url:
        engine = make_engine(url)
        with engine.begin() as conn:
            migrations.upgrade(connection=conn)
        engine.dispose()
        yield url
