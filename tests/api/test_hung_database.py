"""A PostgreSQL that stops answering (a hung host, a partition: connections stay open, nothing comes back):
the webhook and /healthz answer 503 within 2 s, PostHog's retries of what was answered 503 are absorbed by
dedupe, and everything recovers by itself once the database answers again.

The database is frozen through a proxy of the test's own (tests/support/frozen_proxy.py), never the shared
PostgreSQL server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from humanic_app import migrations
from humanic_app.db import make_engine
from tests.support.frozen_proxy import FrozenProxy

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
