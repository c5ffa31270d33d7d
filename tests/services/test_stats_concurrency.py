"""Counters bumped by concurrent transactions (several web workers and background workers on PostgreSQL)
lock the rows they share in one order, so they queue behind each other instead of deadlocking: a
deadlock costs PostgreSQL's deadlock timeout and aborts a webhook commit (a 503 PostHog must retry)."""

from __future__ import annotations

import threading
import time
from collections import Counter

from sqlmodel import Session

from humanic_app import clock
from humanic_app.services import stats


def test_bumps_in_opposite_orders_queue_instead_of_deadlocking(engine):
    hour = stats.hour_of(clock.now())
    first, second = (hour, "received", "a"), (hour, "received", "b")
    errors: list[BaseException] = []
    with Session(engine) as holder:
        stats.bump(holder, Counter({first: 1}))  # holds counter a, as a commit in progress does

        def other_transaction() -> None:
            try:
                with Session(engine) as other:
                    stats.bump(other, Counter({second: 1, first: 1}))  # b before a, as its batch listed them
                    other.commit()
            except BaseException as exc:
                errors.append(exc)

        worker = threading.Thread(target=other_transaction)
        worker.start()
        time.sleep(0.5)  # let it take what it can and wait
        stats.bump(holder, Counter({second: 1}))
        holder.commit()
    worker.join(timeout=10)
    assert not worker.is_alive() and errors == []
    with Session(engine) as session:
        assert stats.totals(session=session, name="received") == {"a": 2, "b": 2}
