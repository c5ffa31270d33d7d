"""Leases: one holder at a time per name, until it expires; on SQLite and PostgreSQL."""

import threading
from datetime import timedelta

from sqlmodel import Session

from humanic_app import clock
from humanic_app.services import leases

TTL = timedelta(minutes=10)


def _acquire(engine, name: str, holder: str) -> bool:
    with Session(engine) as session:
        acquired = leases.try_acquire(session=session, name=name, holder=holder, ttl=TTL)
        session.commit()
    return acquired


def test_one_holder_at_a_time_and_the_holder_renews(engine):
    assert _acquire(engine, "job", "worker-a") is True
    assert _acquire(engine, "job", "worker-b") is False
    assert _acquire(engine, "job", "worker-a") is True
    assert _acquire(engine, "other-job", "worker-b") is True  # each name is its own lease


def test_an_expired_lease_goes_to_whoever_asks_next(engine, monkeypatch):
    start = clock.now()
    monkeypatch.setattr(clock, "now", lambda: start)
    assert _acquire(engine, "job", "worker-a") is True
    monkeypatch.setattr(clock, "now", lambda: start + TTL - timedelta(seconds=1))
    assert _acquire(engine, "job", "worker-b") is False
    monkeypatch.setattr(clock, "now", lambda: start + TTL)
    assert _acquire(engine, "job", "worker-b") is True
    assert _acquire(engine, "job", "worker-a") is False


def test_concurrent_first_acquirers_get_one_winner(engine):
    barrier = threading.Barrier(6)
    results: list[bool] = []
    lock = threading.Lock()

    def contend(holder: str) -> None:
        barrier.wait()
        won = _acquire(engine, "fresh", holder)
        with lock:
            results.append(won)

    threads = [threading.Thread(target=contend, args=(f"worker-{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 5 + [True]
