"""SQLite held by another writer: the webhook answers 503 within 2 s although SQLite's busy timeout is longer
(the background worker's transactions rely on it), and /healthz, which only reads, does not wait at all."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from humanic_app.db import SQLITE_BUSY_TIMEOUT_MS
from humanic_app.services.samples import posthog_event
from tests.support.deadline import production_database_deadline  # noqa: F401  (autouse)
from tests.support.webhooks import path_of

ANSWER_WITHIN_S = 2.0


@pytest.fixture
def database_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'humanic.db'}"


@contextlib.contextmanager
def write_locked(path: str) -> Iterator[None]:
    """Another process's write transaction on the file, as a long migration or a stuck writer holds it."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
    finally:
        other.rollback()
        other.close()


def timed(call) -> tuple[int, float]:
    started = time.monotonic()
    status = call().status_code
    return status, time.monotonic() - started


def test_a_locked_sqlite_inbox_answers_503_within_2s_then_recovers(client, source, database_url):
    """Requests one after another for longer than the busy timeout: one of them is waiting when the round
    stuck on the lock gives up, and it too is a 503 (the database is busy), not a 500."""
    busy_timeout_s = SQLITE_BUSY_TIMEOUT_MS / 1000
    assert busy_timeout_s > ANSWER_WITHIN_S  # what makes the webhook's own deadline necessary
    first = posthog_event(event="user_signed_up", distinct_id="u0", email="a@example.com")
    assert client.post(path_of(source), json=first).status_code == 200  # the inbox file exists, in WAL mode
    bodies = []
    with write_locked(f"{make_url(database_url).database}.inbox"):
        locked = time.monotonic()
        while time.monotonic() - locked < busy_timeout_s + 1:
            bodies.append(posthog_event(event="user_signed_up", distinct_id=f"u{len(bodies)}", email="a@example.com"))
            status, took = timed(lambda: client.post(path_of(source), json=bodies[-1]))
            assert (status, took < ANSWER_WITHIN_S) == (503, True), f"request {len(bodies)}: {status} in {took:.2f}s"
    # no round took them: their retries are stored as new
    for body in bodies:
        assert client.post(path_of(source), json=body).json() == {"accepted": 1, "duplicates": 0}


def test_healthz_on_sqlite_does_not_wait_for_a_writer(client, database_url):
    with write_locked(make_url(database_url).database or ""):
        status, took = timed(lambda: client.get("/healthz"))
    assert status == 200 and took < ANSWER_WITHIN_S
