"""A PostgreSQL that stops answering (a hung host, a partition: connections stay open, nothing comes back):
the webhook and /healthz answer 503 within 2 s, PostHog's retries of what was answered 503 are absorbed by
dedupe, and everything recovers by itself once the database answers again.

The database is frozen through a proxy of the test's own (tests/support/frozen_proxy.py), never the shared
PostgreSQL server."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from humanic_app import migrations
from humanic_app.db import make_engine
from humanic_app.models import Event, EventOutcome
from humanic_app.services.samples import posthog_event
from tests.support.deadline import production_database_deadline  # noqa: F401  (autouse)
from tests.support.frozen_proxy import FrozenProxy
from tests.support.waiting import wait_until
from tests.support.webhooks import path_of

ANSWER_WITHIN_S = 2.0


@pytest.fixture
def proxy(postgres_url) -> Iterator[FrozenProxy]:
    url = make_url(postgres_url)
    with FrozenProxy(upstream=(url.host or "127.0.0.1", url.port or 5432)) as running:
        yield running


@pytest.fixture
def direct_engine(postgres_url):
    """The test database itself, past the proxy: what is really stored."""
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        migrations.upgrade(connection=conn)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(direct_engine, proxy, postgres_url):
    """The app's engine, reaching the database through the proxy (the `client` fixture points the app at it)."""
    proxied = make_engine(make_url(postgres_url).set(port=proxy.port).render_as_string(hide_password=False))
    yield proxied
    proxy.resume()
    proxied.dispose()


def started(pool: ThreadPoolExecutor, call) -> tuple[Future, float]:
    def timed() -> tuple[int, float]:
        status = call().status_code
        return status, time.monotonic() - began

    began = time.monotonic()
    return pool.submit(timed), began


def answer(request: tuple[Future, float]) -> tuple[int, float]:
    """(status, seconds) of a started request; fails once it is past ANSWER_WITHIN_S (with a margin for a busy
    machine) without an answer, leaving it to finish in the pool when the proxy resumes."""
    future, began = request
    try:
        return future.result(timeout=max(0.0, began + ANSWER_WITHIN_S + 0.5 - time.monotonic()))
    except TimeoutError:
        raise AssertionError(f"no answer within {ANSWER_WITHIN_S + 0.5:.1f}s while the database is frozen") from None


def rows_for(engine, uuid: str) -> list[EventOutcome]:
    with Session(engine) as s:
        return [e.outcome for e in s.exec(select(Event).where(Event.event_uuid == uuid).order_by(Event.id))]


def test_frozen_postgres_answers_503_within_2s_and_recovers_by_itself(client, source, proxy, direct_engine):
    def post(uuid: str):
        body = posthog_event(event="user_signed_up", distinct_id=uuid, email=f"{uuid}@example.com", event_uuid=uuid)
        return lambda: client.post(path_of(source), json=body)

    def health():
        return client.get("/healthz")

    assert post("before")().status_code == 200
    times: list[float] = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        try:
            # the server freezes with this request's round sent but not answered: its COMMIT is held
            proxy.freeze_on(b"COMMIT")
            status, took = answer(started(pool, post("in-the-frozen-round")))
            assert proxy.frozen and status == 503
            times.append(took)
            concurrent = [started(pool, post(f"later-{i}")) for i in range(4)]
            concurrent += [started(pool, health) for _ in range(2)]
            for status, took in [answer(request) for request in concurrent]:
                assert status == 503
                times.append(took)
            for call in (post("even-later"), health):  # the stuck round does not make later answers slower
                status, took = answer(started(pool, call))
                assert status == 503
                times.append(took)
        finally:
            resumed = time.monotonic()
            proxy.resume()
        wait_until(lambda: post("after")().status_code == 200, timeout_s=10, what="a webhook stored after resume")
        wait_until(lambda: health().status_code == 200, timeout_s=10, what="/healthz 200 after resume")
        recovered = time.monotonic() - resumed
    print(
        f"\nwhile frozen: {len(times)} answers, p50 {statistics.median(times):.2f}s, max {max(times):.2f}s;"
        f" recovered {recovered:.2f}s after resume"
    )
    assert max(times) < ANSWER_WITHIN_S

    # The round that was frozen mid-commit committed on resume although its request was answered 503:
    # PostHog's retry is a duplicate and stores nothing twice.
    retry = post("in-the-frozen-round")()
    assert retry.status_code == 200 and retry.json() == {"accepted": 0, "duplicates": 1}
    assert rows_for(direct_engine, "in-the-frozen-round") == [EventOutcome.pending, EventOutcome.duplicate]
    # Requests that never reached a round are not stored: their retries are accepted afresh.
    for i in range(4):
        assert post(f"later-{i}")().json() == {"accepted": 1, "duplicates": 0}
        assert rows_for(direct_engine, f"later-{i}") == [EventOutcome.pending]


def test_connecting_to_a_frozen_server_gives_up_at_the_connect_timeout(proxy, postgres_url):
    """A new connection's handshake is held: libpq's connect_timeout (at least 2 s) ends it, so a pool
    emptied by a freeze refills once the server answers instead of leaving threads stuck in connect."""
    engine = make_engine(make_url(postgres_url).set(port=proxy.port).render_as_string(hide_password=False))
    proxy.freeze()

    def connect() -> float:
        started = time.monotonic()
        with pytest.raises(OperationalError), engine.connect():
            pass
        return time.monotonic() - started

    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            took = pool.submit(connect).result(timeout=5)
        except TimeoutError:
            raise AssertionError("connecting to a frozen server did not give up within 5 s") from None
        finally:
            proxy.resume()
    assert took < 3
    engine.dispose()
