"""The event loop's thread never waits long for SQLite's write turn, and no write transaction stays open
while its request waits for the event loop.

Reflex runs sync event handlers on the event loop's thread; FastAPI runs a request's sync dependencies and
endpoint in thread hops of their own, the loop scheduling each hop. A full browser run froze the whole
app: an API request began its transaction in one hop (the sign-in check) and committed it in a later one,
while a page's handler blocked the loop waiting for that very turn (5 s for the turn, then 5 s in SQLite's
busy handler, again for every queued page event), so the hop that would commit never ran."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from humanic_app import db
from humanic_app.api import build_api
from humanic_app.api.deps import SESSION_COOKIE, get_db_engine
from humanic_app.db import read_scope, session_scope
from humanic_app.services import auth, sources, workspace


@pytest.fixture
def database_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'humanic.db'}"


@pytest.fixture
def on_test_database(engine) -> Iterator[None]:
    db.use_engine(engine)
    yield
    db.use_engine(None)


def _turn(engine) -> db._WriterTurn:
    with engine.connect() as connection:
        turn = type(connection.connection.dbapi_connection).writer_turn
    assert turn is not None
    return turn


def _write_on_this_thread(engine) -> None:
    """What a page's sync event handler does on the loop's thread: a short write transaction."""
    with session_scope(engine) as session:
        session.execute(text("UPDATE workspace SET name = name"))


@pytest.fixture
def stuck_writer(engine) -> Iterator[str]:
    """A thread holding the write turn and not letting go, as a session left open would."""
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        with session_scope(engine) as session:
            session.execute(text("UPDATE workspace SET name = name"))
            taken.set()
            done.wait(30)

    thread = threading.Thread(target=hold, name="stuck-writer")
    thread.start()
    assert taken.wait(10)
    yield thread.name
    done.set()
    thread.join(10)


def test_an_api_write_never_holds_the_turn_while_waiting_for_the_loop(engine, on_test_database):
    with session_scope(engine) as session:
        workspace.get_workspace(session=session)
        user = auth.create_owner(session=session, email="owner@acme.io", password="owner password 123")
        token = auth.start_session(session=session, user=user, ttl=timedelta(hours=1))
    api = build_api()
    api.dependency_overrides[get_db_engine] = lambda: engine
    turn = _turn(engine)
    seen: list[str] = []

    async def page_events_meanwhile(answered: asyncio.Event) -> list[float]:
        """Whenever a request's thread holds the turn, a page's handler writes on the loop's thread."""
        waits = []
        while not answered.is_set():
            holder = turn.held_by
            if holder is not None and holder != threading.current_thread().name:
                seen.append(holder)
                started = time.monotonic()
                _write_on_this_thread(engine)  # the loop stops here until it has the turn
                waits.append(time.monotonic() - started)
            await asyncio.sleep(0)
        return waits

    async def scenario() -> tuple[list[int], list[float]]:
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://humanic") as client:
            client.cookies.set(SESSION_COOKIE, token)
            answered = asyncio.Event()
            page = asyncio.create_task(page_events_meanwhile(answered))
            statuses = []
            for n in range(5):
                response = await client.put("/api/v1/settings", json={"from_email": f"hi{n}@acme.io"})
                statuses.append(response.status_code)
            answered.set()
            return statuses, await page

    statuses, waits = asyncio.run(asyncio.wait_for(scenario(), timeout=60))
    assert statuses == [200] * 5
    assert seen, "no request thread held the turn: the scenario did not happen"
    assert max(waits) < 0.5, waits  # the holder finished in its own thread; it never needed the loop
    with read_scope(engine) as session:
        assert workspace.get_workspace(session=session).from_email == "hi4@acme.io"


def test_the_loop_gives_up_on_a_stuck_writer_within_a_second_and_names_it(engine, stuck_writer):
    async def on_the_loop() -> tuple[float, str, float]:
        started = time.monotonic()
        with pytest.raises(OperationalError) as refused:
            _write_on_this_thread(engine)
        waited = time.monotonic() - started
        started = time.monotonic()
        with read_scope(engine) as session:  # reads never wait
            session.execute(text("SELECT name FROM workspace")).all()
        return waited, str(refused.value), time.monotonic() - started

    waited, message, read_took = asyncio.run(on_the_loop())
    assert waited < 2.0, waited
    assert "database is locked" in message and repr(stuck_writer) in message and "event loop" in message
    assert read_took < 0.5


def test_a_thread_waits_longer_but_also_fails_with_the_holder_named(engine, stuck_writer, monkeypatch):
    monkeypatch.setattr(db._WriterTurn, "GIVE_UP_SECONDS", 0.5)
    started = time.monotonic()
    with pytest.raises(OperationalError, match=f"held by thread {stuck_writer!r}"):
        _write_on_this_thread(engine)
    assert time.monotonic() - started < 2.0  # not the turn's wait and then SQLite's busy handler's too


class _IntegrationsTab:
    """Stands in for an open Integrations page's state: what `poll` and the sign-in check touch."""

    def __init__(self, token: str, source_id: int):
        from humanic_app.state.auth import AuthState
        from humanic_app.state.integrations import IntegrationsState

        cls = type(self)
        cls._read_call = AuthState.__dict__["_read_call"]
        cls._service_call = AuthState.__dict__["_service_call"]
        cls._principal = AuthState.__dict__["_principal"]
        cls._check_waiting = IntegrationsState.__dict__["_check_waiting"]
        self.poll = functools.partial(IntegrationsState.poll.fn, self)
        self.session_token, self.selected_id = token, source_id
        self.has_test_event, self.waiting_help, self._help_checked_at = False, [], 0.0

    def _clear_identity(self) -> None:
        raise AssertionError("the sign-in was refused")


def test_the_sign_in_check_and_the_integrations_poll_take_no_write_turn(engine, on_test_database):
    """Every protected page event checks the sign-in, and each open Integrations tab polls twice a second:
    both only read, so a writer holding the turn for long does not stop them, nor the loop they run on."""
    with session_scope(engine) as session:
        user = auth.create_owner(session=session, email="owner@acme.io", password="owner password 123")
        token = auth.start_session(session=session, user=user, ttl=timedelta(hours=1))
        source_id = sources.create_source(session=session, name="Production").id
    tab = _IntegrationsTab(token, source_id)
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        with session_scope(engine) as session:
            session.execute(text("UPDATE workspace SET name = name"))
            taken.set()
            done.wait(30)

    holder = threading.Thread(target=hold, name="stuck-writer")
    holder.start()
    try:
        assert taken.wait(10)

        async def on_the_loop() -> float:
            started = time.monotonic()
            for _ in range(3):
                assert tab.poll() is None
            return time.monotonic() - started

        assert asyncio.run(on_the_loop()) < 1.0
    finally:
        done.set()
        holder.join(10)
