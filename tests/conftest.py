"""Database fixtures: every database test runs on real SQLite and real PostgreSQL, migrated by Alembic. A test
that takes `engine` gets a copy of a database migrated once per process; one that needs an empty database
takes `database_url` without `engine` and migrates it itself.

Tests are marked by what they need, so `-m "not browser and not postgres and not image"` runs without
Chromium, a PostgreSQL server or a build: `browser` for everything under tests/e2e, `postgres` for the
PostgreSQL half of the `database_url` parametrisation and for anything that requests `postgres_database`,
directly or through another fixture, `image` for anything that requests `built_app` (the image's build steps,
tests/test_image_build.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from humanic_app import migrations
from humanic_app.db import make_engine
from humanic_app.settings import get_settings
from tests.support.fake_posthog import FakePosthog
from tests.support.postgres import (
    create_postgres_database,
    drop_postgres_database_later,
    fresh_postgres_database,
    migrated_postgres_database,
    postgres_url_for,
    wait_for_drops,
)

E2E_DIR = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.browser)
        params = getattr(item, "callspec", None)
        on_postgres = params is not None and "postgresql" in params.params.values()  # database_url, or a module's own
        if on_postgres or "postgres_database" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
        if "built_app" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.image)
    # Browser journeys last: a broken service shows in minutes, and Playwright's session-long event loop in
    # the main thread then meets no test that starts one of its own.
    items.sort(key=lambda item: E2E_DIR in item.path.parents)


@pytest.fixture(autouse=True)
def _busy_machine_database_deadline(monkeypatch):
    """The webhook's and /healthz's database deadline (1.5 s in production) is sized for a server that answers;
    a test machine loaded by the whole suite can take longer to commit. The tests of the deadline itself set
    the production value back (tests/support/deadline.py)."""
    monkeypatch.setenv("HUMANIC_DB_TIMEOUT_SECONDS", "15")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def postgres_database():
    """A context manager that yields the URL of an empty PostgreSQL database and drops it afterwards."""
    return fresh_postgres_database


@pytest.fixture
def postgres_url(postgres_database) -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="session", autouse=True)
def _postgres_drops() -> Iterator[None]:
    yield
    wait_for_drops()


# Databases `database_url` made as copies of a migrated one: `engine` need not migrate them again.
_MIGRATED: set[str] = set()


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory) -> Path:
    """A SQLite file with every migration applied, closed (so its WAL is folded in): copied per test."""
    path = tmp_path_factory.mktemp("migrated") / "humanic.db"
    eng = make_engine(f"sqlite:///{path}")
    with eng.begin() as conn:
        migrations.upgrade(connection=conn)
    eng.dispose()
    assert not path.with_name(f"{path.name}-wal").exists(), "a connection is still open: the copy would miss the WAL"
    return path


@pytest.fixture(scope="session")
def _migrated_postgres() -> Iterator[str]:
    """The name of a PostgreSQL database with every migration applied, nobody connected: a template."""
    with migrated_postgres_database() as url:
        yield url.rsplit("/", 1)[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    """An empty database; where the test takes `engine`, a copy of a migrated one instead, which costs a
    file copy or a CREATE DATABASE … TEMPLATE rather than running every migration again. (A module that
    overrides `engine` and takes this fixture too would get the migrated copy: none does.)"""
    migrated = "engine" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "humanic.db"
        if migrated:
            shutil.copyfile(request.getfixturevalue("_migrated_sqlite"), path)
        url = f"sqlite:///{path}"
    else:
        name = create_postgres_database(template=request.getfixturevalue("_migrated_postgres") if migrated else None)
        url = postgres_url_for(name)
    if migrated:
        _MIGRATED.add(url)
    yield url
    _MIGRATED.discard(url)
    if request.param == "postgresql":
        drop_postgres_database_later(name)


@pytest.fixture
def engine(database_url) -> Iterator[Engine]:
    eng = make_engine(database_url)
    if database_url not in _MIGRATED:
        with eng.begin() as conn:
            migrations.upgrade(connection=conn)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s
        s.commit()


@pytest.fixture
def operator_secret_in_tmp(monkeypatch, database_url, tmp_path) -> Iterator[None]:
    """Secrets stored in the database are encrypted under the operator's secret: these settings point the
    app at the test's database and its own data directory, with a fixed secret."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("HUMANIC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HUMANIC_SECRET_KEY", "posthog-test-secret-key")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def posthog() -> Iterator[FakePosthog]:
    """A local fake of PostHog's capture and query APIs."""
    with FakePosthog() as fake:
        yield fake
