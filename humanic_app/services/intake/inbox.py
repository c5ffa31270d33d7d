"""SQLite only: the webhook's inbox, a database file of its own beside the main one (`<main file>.inbox`).

SQLite lets one writer at a time into a file. With the webhook writing straight into the event table,
each of its commits waited for whatever processing transaction held the main file's lock. Instead the
web process appends each group commit here and answers; the background worker moves the rows into the
event table in large batches, keeping their ids, and deletes them here once the move has committed
(storing.py: `append_to_inbox`, `move_from_inbox`). PostgreSQL has no inbox: its writers do not
queue behind each other.

The file holds only rows in transit, so its one table is created here rather than by Alembic. Its
AUTOINCREMENT sequence is kept above every event id of the main file, so a moved row keeps its id (the id
the webhook's log line and answer already named) and can never collide with an older event.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Float, Index, Integer, MetaData, Table, func, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Engine, Row
from sqlmodel import Session

from humanic_app.db import make_engine, read_scope, session_scope
from humanic_app.models import Event, InboxCursor
from humanic_app.models.rows import table_of

SCHEMA_VERSION = 1

COPIED = (
    "source_id",
    "received_at",
    "outcome",
    "reason",
    "dedupe_key",
    "event_uuid",
    "event_name",
    "distinct_id",
    "timestamp",
    "payload",
    "headers",
)  # the event columns known when a request arrives
_EVENTS = table_of(Event)
_metadata = MetaData()
INBOX = Table(
    "inbox",
    _metadata,
    Column("id", Integer, primary_key=True),
    *(Column(name, _EVENTS.c[name].type) for name in COPIED),
    Column("answer_ms", Float),  # on a delivery's first row: how long its answer took
    sqlite_autoincrement=True,
)
Index("ux_inbox_source_dedupe", INBOX.c.source_id, INBOX.c.dedupe_key, unique=True)

# The webhook's statements run as plain SQL with the driver's values: they run in every group commit,
# while the requests wait, and SQLAlchemy's per-statement work cost as much as SQLite's own.
_INSERT = f"INSERT INTO inbox (id, {', '.join(COPIED)}, answer_ms) VALUES ({', '.join('?' * (len(COPIED) + 2))})"
_SEQUENCE = "SELECT seq FROM sqlite_sequence WHERE name = 'inbox'"
KNOWN_IN_INBOX, KNOWN_IN_EVENTS = (
    f"SELECT id, dedupe_key FROM {table} WHERE source_id = ? AND dedupe_key IN (SELECT value FROM json_each(?))"
    for table in ("inbox", "event")
)
# Rows travel as the driver's raw values: both tables store them through the same column types, so a
# copy needs no decoding (the payload stays the JSON text it was written as).
_UNMOVED = f"SELECT id, {', '.join(COPIED)}, answer_ms FROM inbox WHERE id > ? ORDER BY id LIMIT ?"
INSERT_EVENTS = f"INSERT INTO event (id, {', '.join(COPIED)}) VALUES ({', '.join('?' * (len(COPIED) + 1))})"
_CURSOR = table_of(InboxCursor)


class Inbox:
    """The inbox file of one main SQLite file, as this process sees it."""

    def __init__(self, *, main: Engine, path: str):
        self.main = main
        self.path = path
        self.engine = make_engine(f"sqlite:///{path}")
        self.moved_upto = 0  # as last seen by this process: a hint for `has_unmoved`, never for moving
        dialect = self.engine.dialect
        self._converters = [(name, INBOX.c[name].type.bind_processor(dialect)) for name in (*COPIED, "answer_ms")]
        self._prepare()

    def _prepare(self) -> None:
        """Creates the table, and lifts the id sequence above the main file's events: a new inbox beside
        an old database (deleted, or restored from a backup) must not hand out ids that are taken."""
        with self.engine.begin() as connection:
            version = connection.exec_driver_sql("PRAGMA user_version").scalar_one()
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"{self.path} was written by a newer Humanic (inbox schema {version})")
            _metadata.create_all(connection)
            connection.exec_driver_sql(f"PRAGMA user_version={SCHEMA_VERSION}")
            with read_scope(self.main) as main:
                floor = max(
                    main.connection().execute(select(func.max(_EVENTS.c.id))).scalar() or 0,
                    main.connection().execute(select(func.max(_CURSOR.c.moved_upto))).scalar() or 0,
                )
            sequence = connection.exec_driver_sql(_SEQUENCE).scalar()
            if sequence is None:
                connection.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES ('inbox', ?)", (floor,))
            elif sequence < floor:
                connection.exec_driver_sql("UPDATE sqlite_sequence SET seq = ? WHERE name = 'inbox'", (floor,))

    @contextlib.contextmanager
    def write_turn(self) -> Iterator[Session]:
        """A write transaction on the inbox, with its lock already taken."""
        with session_scope(self.engine) as session:
            session.connection()
            yield session

    @contextlib.contextmanager
    def append_turn(self) -> Iterator[tuple[Session, Session]]:
        """(inbox write transaction, main-file snapshot) for `storing.append_to_inbox`: the snapshot begins
        after the inbox's lock is taken, so it sees every row that has left the inbox."""
        with self.write_turn() as appending, read_scope(self.main) as snapshot:
            yield appending, snapshot

    def insert(self, session: Session, rows: list[dict[str, Any]]) -> list[int]:
        """Ids are handed out here, under the inbox's write lock: the next ones of its AUTOINCREMENT
        sequence, which SQLite then moves past them."""
        connection = session.connection()
        first = connection.exec_driver_sql(_SEQUENCE).scalar_one() + 1
        ids = range(first, first + len(rows))
        connection.exec_driver_sql(
            _INSERT,
            [
                (row_id, *(convert(row[name]) if convert else row[name] for name, convert in self._converters))
                for row_id, row in zip(ids, rows, strict=True)
            ],
        )
        return list(ids)

    def unmoved(self, *, after: int, limit: int) -> Sequence[Row[*tuple[Any, ...]]]:
        """Rows past the cursor, oldest first, from a snapshot: appending goes on meanwhile. Ids are
        handed out under the inbox's write lock, so no row below one seen here can still appear."""
        with self.engine.connect() as connection:
            return connection.exec_driver_sql(_UNMOVED, (after, limit)).fetchall()

    def has_unmoved(self) -> bool:
        with read_scope(self.engine) as session:
            return (
                session.connection()
                .execute(text("SELECT 1 FROM inbox WHERE id > :after LIMIT 1"), {"after": self.moved_upto})
                .first()
                is not None
            )

    def waiting(self, *, after: int) -> tuple[int, datetime | None]:
        """How many rows past the main file's cursor `after` wait to be moved, and when the oldest arrived."""
        with read_scope(self.engine) as session:
            count, oldest = (
                session.connection()
                .execute(select(func.count(), func.min(INBOX.c.received_at)).where(INBOX.c.id > after))
                .one()
            )
        return count, oldest

    def trim(self, *, upto: int) -> int:
        """Deletes rows whose move has committed (`upto` is the main file's cursor)."""
        with self.write_turn() as session:
            return session.connection().exec_driver_sql("DELETE FROM inbox WHERE id <= ?", (upto,)).rowcount


_inboxes: dict[str, Inbox] = {}
_opening = threading.Lock()


def for_engine(engine: Engine) -> Inbox | None:
    """The inbox of a main SQLite file; None for PostgreSQL and in-memory SQLite (they write directly)."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        return None
    inbox = _inboxes.get(path)
    if inbox is None:
        with _opening:
            inbox = _inboxes.get(path) or Inbox(main=engine, path=f"{path}.inbox")
            _inboxes[path] = inbox
    return inbox


def known_keys(connection: Connection, sql: str, source_id: int, keys: list[str]) -> Sequence[Row[int, str]]:
    """The (id, dedupe_key) of the rows among `keys` of a source, `sql` being KNOWN_IN_INBOX or
    KNOWN_IN_EVENTS; the keys travel as one JSON array."""
    return connection.exec_driver_sql(sql, (source_id, json.dumps(keys))).fetchall()


def cursor_of(connection: Connection) -> int:
    """How far the moves have got, as the main file's `inbox_cursor` row says."""
    return connection.execute(select(_CURSOR.c.moved_upto).where(_CURSOR.c.id == 1)).scalar() or 0


_CURSOR_INSERT = sqlite.insert(_CURSOR)
_CURSOR_UPSERT = _CURSOR_INSERT.on_conflict_do_update(
    index_elements=["id"], set_={"moved_upto": _CURSOR_INSERT.excluded["moved_upto"]}
)


def record_cursor(connection: Connection, moved_upto: int) -> None:
    """In the move's own transaction on the main file."""
    connection.execute(_CURSOR_UPSERT, {"id": 1, "moved_upto": moved_upto})
