"""The engine and sessions. SQLite gets WAL, a busy timeout and foreign keys on every connection."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from functools import lru_cache

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from humanic_app.settings import DEFAULT_DB_TIMEOUT_SECONDS, get_settings

SQLITE_BUSY_TIMEOUT_MS = 5000


def _configure_sqlite(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, see _begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # FULL: a commit is on disk before it returns, so an event the webhook answered 2xx for survives a
    # power cut or an OS crash, not only a killed process (WAL with NORMAL may lose the last commits).
    # It costs one fsync of the WAL per commit, and commits here are grouped.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


class WriterTurnBusy(sqlite3.OperationalError):
    """The write turn could not be had in time. Raised as SQLite's own "database is locked" would be (the
    API answers 503), with what held the turn and for how long, so a stuck writer is named in the log."""


def _on_event_loop_thread() -> bool:
    """Whether this thread runs an asyncio event loop: Reflex calls sync event handlers there, and a wait
    there stops every request, websocket event and webhook of the process, including the one the turn's
    holder may need in order to finish."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _WriterTurn:
    """One SQLite writer at a time across the threads and processes sharing a database file, handed over
    the moment the previous writer commits. SQLite's own busy handler retries after 1, 2, 5, 10, 15, 20,
    25… ms, so under steady write load a waiting writer sleeps well past the moment the lock is free, and
    the webhook and the background worker's processing write to the same file from two processes.

    A thread waits at most GIVE_UP_SECONDS; an event loop's thread at most LOOP_GIVE_UP_SECONDS, and
    both then fail with `WriterTurnBusy` naming the holder, rather than sit in SQLite's busy handler too.
    A writer that stays stuck thus fails the writes queued behind it, one at a time, and nothing else:
    reads (`read_scope`) never take the turn, and the event loop goes on serving."""

    POLL_SECONDS = 0.0002
    GIVE_UP_SECONDS = SQLITE_BUSY_TIMEOUT_MS / 1000
    LOOP_GIVE_UP_SECONDS = 1.0

    def __init__(self, lock_path: str):
        self._lock_path = lock_path
        self._threads = threading.Lock()
        self._fd: tuple[int, int] | None = None  # (pid, fd): a forked child must open its own
        self._holder: tuple[str, float] | None = None  # (thread name, monotonic time taken): for the error

    def _file(self) -> int:
        if self._fd is None or self._fd[0] != os.getpid():
            with _OPENING:  # two threads' first writes must not each make a lock of their own
                if self._fd is None or self._fd[0] != os.getpid():
                    self._threads = threading.Lock()
                    self._holder = None
                    self._fd = (os.getpid(), os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600))
        return self._fd[1]

    @property
    def held_by(self) -> str | None:
        """The name of the thread of this process holding the turn, if one does."""
        holder = self._holder
        return holder[0] if holder else None

    def _busy(self, waited: float, *, on_loop: bool, other_process: bool) -> WriterTurnBusy:
        holder = self._holder
        if other_process:
            who = "another process (the background worker, a CLI command or another web worker)"
        elif holder is not None:
            who = f"thread {holder[0]!r} of this process, for {time.monotonic() - holder[1]:.1f} s"
        else:
            who = "another thread of this process"
        where = " on the event loop's thread, which must not wait longer" if on_loop else ""
        return WriterTurnBusy(
            f"database is locked: the SQLite write turn is held by {who}; gave up after {waited:.1f} s{where}"
        )

    def acquire(self) -> bool:
        """True with the turn taken. On an event loop's thread, or when another thread of this process
        holds the turn past the timeout, raises `WriterTurnBusy`. False when another process held it
        past the timeout: the caller then goes ahead and lets SQLite's own busy handler decide."""
        fd = self._file()
        on_loop = _on_event_loop_thread()
        give_up = self.LOOP_GIVE_UP_SECONDS if on_loop else self.GIVE_UP_SECONDS
        started = time.monotonic()
        deadline = started + give_up
        threads = self._threads
        if not threads.acquire(timeout=give_up):
            raise self._busy(time.monotonic() - started, on_loop=on_loop, other_process=False)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._holder = (threading.current_thread().name, time.monotonic())
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    threads.release()
                    if on_loop:
                        raise self._busy(time.monotonic() - started, on_loop=True, other_process=True) from None
                    return False
                time.sleep(self.POLL_SECONDS)

    def release(self) -> None:
        self._holder = None
        fcntl.flock(self._file(), fcntl.LOCK_UN)
        self._threads.release()


_OPENING = threading.Lock()


class _TurnTakingConnection(sqlite3.Connection):
    """A sqlite3 connection that takes its writer turn at BEGIN and gives it back at COMMIT/ROLLBACK."""

    writer_turn: _WriterTurn | None = None
    _has_turn = False

    def begin_immediate(self) -> None:
        self._has_turn = self.writer_turn is not None and self.writer_turn.acquire()
        try:
            if _on_event_loop_thread():
                # a writer that does not take turns (sqlite3, another tool) still holds the lock: the event
                # loop waits for it no longer than for the turn
                self.execute(f"PRAGMA busy_timeout={int(_WriterTurn.LOOP_GIVE_UP_SECONDS * 1000)}")
                try:
                    self.execute("BEGIN IMMEDIATE")
                finally:
                    self.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            else:
                self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._give_back()
            raise

    def _give_back(self) -> None:
        if self._has_turn:
            self._has_turn = False
            assert self.writer_turn is not None  # the turn was taken from it
            self.writer_turn.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._give_back()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._give_back()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._give_back()


READ_ONLY = "humanic_read_only"


def _begin(connection) -> None:
    """Take SQLite's write lock when a transaction starts. A deferred transaction that reads and then
    writes fails at once with SQLITE_BUSY when another writer committed in between (WAL snapshots), and
    busy_timeout cannot help it; IMMEDIATE makes it wait its turn instead. Read-only sessions
    (`read_scope`) take a plain snapshot and never wait for a writer."""
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
        return
    try:
        connection.connection.dbapi_connection.begin_immediate()
    except sqlite3.OperationalError as exc:
        # raised in an event, so SQLAlchemy does not wrap it: wrapped here, a lock that outlasts the busy
        # timeout is the "database busy" everyone else sees (503), not an unknown error
        raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc


def _connection_class(database_url: str) -> type[_TurnTakingConnection]:
    path = database_url.removeprefix("sqlite:///")
    turn = _WriterTurn(f"{path}.writer-lock") if path and path != ":memory:" and "://" not in path else None
    return type("TurnTakingConnection", (_TurnTakingConnection,), {"writer_turn": turn})


def _postgres_timeouts(timeout_s: float) -> dict[str, int]:
    """libpq's bounds on waiting for a server that stopped answering. A server-side statement_timeout
    cannot fire on a frozen server; these are the client's own. connect_timeout covers the whole
    handshake (libpq rounds it up to at least 2 s). tcp_user_timeout drops a connection whose sent bytes
    stay unacknowledged (a hung host, a partition), and the keepalives find a dead peer while a connection
    waits for an answer with nothing unacknowledged; either way the stuck thread gets an error and its
    connection is replaced. A server process that froze while its kernel still acknowledges is caught by
    neither: the webhook's and /healthz's own deadlines answer for it (see group_commit.py, health.py)."""
    return {
        "connect_timeout": max(2, math.ceil(timeout_s)),
        "tcp_user_timeout": math.ceil(timeout_s * 1000),
        "keepalives": 1,
        "keepalives_idle": max(1, math.ceil(timeout_s)),
        "keepalives_interval": 1,
        "keepalives_count": 3,
    }


def make_engine(database_url: str, *, timeout_s: float = DEFAULT_DB_TIMEOUT_SECONDS) -> Engine:
    """`timeout_s` (HUMANIC_DB_TIMEOUT_SECONDS) bounds each wait for PostgreSQL: connecting, its socket, the pool."""
    if database_url.startswith("sqlite"):
        engine = create_engine(
            database_url,
            connect_args={
                "check_same_thread": False,
                "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                "factory": _connection_class(database_url),
            },
        )
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin)
        return engine
    return create_engine(
        database_url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        pool_timeout=timeout_s,
        connect_args=_postgres_timeouts(timeout_s),
    )


_override: Engine | None = None


def use_engine(engine: Engine | None) -> None:
    """Point the whole process at another engine (tests); None goes back to the configured one."""
    global _override
    _override = engine


def get_engine() -> Engine:
    return _override if _override is not None else _configured_engine()


@lru_cache(maxsize=1)
def _configured_engine() -> Engine:
    settings = get_settings()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.database_url, timeout_s=settings.db_timeout_seconds)


@contextlib.contextmanager
def read_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session for reading only: on SQLite a WAL snapshot that neither waits for nor blocks writers."""
    bind = (engine or get_engine()).execution_options(**{READ_ONLY: True})
    with Session(bind, expire_on_commit=False) as session:
        yield session  # closing returns the connection, which ends the snapshot; loaded rows stay readable


@contextlib.contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
