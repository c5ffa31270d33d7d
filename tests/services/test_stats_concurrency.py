"""Counters bumped by concurrent transactions (several web workers and background workers on PostgreSQL)
lock the rows they share in one order, so they queue behind each other instead of deadlocking: a
deadlock costs PostgreSQL's deadlock timeout and aborts a webhook commit (a 503 PostHog must retry)."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import text
from sqlmodel import Session

from humanic_app import clock, db
from humanic_app.services import stats
from tests.support.waiting import wait_until


def _waits_for_the_holder(engine, asked_for_turn: threading.Event) -> None:
    """Returns once the other transaction waits for a lock the holder has. PostgreSQL shows the wait in
    pg_stat_activity; SQLite has no row locks, and there the other transaction waits for the writer turn
    as it begins."""
    if engine.dialect.name == "sqlite":
        assert asked_for_turn.wait(10)
        return

    def waiting_on_a_lock() -> bool:
        with engine.connect() as probe:  # a fresh transaction each time: the view is a snapshot per transaction
            return bool(
                probe.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'"
                    )
                ).scalar()
            )

    wait_until(waiting_on_a_lock, timeout_s=10, what="the other transaction waiting for the holder's row lock")


def test_bumps_in_opposite_orders_queue_instead_of_deadlocking(engine, monkeypatch):
    hour = stats.hour_of(clock.now())
    first, second = (hour, "received", "a"), (hour, "received", "b")
    errors: list[BaseException] = []
    asked_for_turn = threading.Event()
    take_turn = db._WriterTurn.acquire

    def acquire(turn) -> bool:
        if threading.current_thread().name == "other transaction":
            asked_for_turn.set()
        return take_turn(turn)

    monkeypatch.setattr(db._WriterTurn, "acquire", acquire)
    with Session(engine) as holder:
        stats.bump(holder, Counter({first: 1}))  # holds counter a, as a commit in progress does

        def other_transaction() -> None:
            try:
                with Session(engine) as other:
                    stats.bump(other, Counter({second: 1, first: 1}))  # b before a, as its batch listed them
                    other.commit()
            except BaseException as exc:
                errors.append(exc)

        worker = threading.Thread(target=other_transaction, name="other transaction")
        worker.start()
        _waits_for_the_holder(engine, asked_for_turn)  # it has taken what it can and waits
        stats.bump(holder, Counter({second: 1}))
        holder.commit()
    worker.join(timeout=10)
    assert not worker.is_alive() and errors == []
    with Session(engine) as session:
        assert stats.totals(session=session, name="received") == {"a": 2, "b": 2}
