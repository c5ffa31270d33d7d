"""The group commit writer: one `store` call per round, and requests that arrive while that call waits
for the database's write lock join it instead of waiting for the next round."""

from __future__ import annotations

import asyncio
import itertools
import threading

import pytest
from sqlalchemy.exc import OperationalError, TimeoutError as PoolTimeout

from humanic_app.services.group_commit import GroupCommitWriter, NotStoredInTime
from tests.support import aio


async def _queued(*submissions) -> list[asyncio.Future]:
    """Starts the submissions and yields the loop once: each queues its item before its first await, so
    when this returns every item is waiting in the writer."""
    futures = [asyncio.ensure_future(submission) for submission in submissions]
    await asyncio.sleep(0)
    return futures


def test_requests_arriving_while_the_store_waits_for_the_lock_join_that_commit():
    waiting_for_lock = threading.Event()
    lock_free = threading.Event()
    rounds: list[list[str]] = []

    def store(take):
        waiting_for_lock.set()
        lock_free.wait(5)  # stands in for waiting for SQLite's write turn
        items = take()
        rounds.append(items)
        return [item.upper() for item in items]

    async def scenario():
        writer = GroupCommitWriter(store=store)
        first = asyncio.ensure_future(writer.submit("a"))
        # the writer is now waiting for the lock with nothing taken yet
        assert await asyncio.to_thread(waiting_for_lock.wait, 5)
        later = await _queued(*(writer.submit(x) for x in "bcd"))
        lock_free.set()
        return await asyncio.gather(first, *later)

    assert aio.run(scenario()) == ["A", "B", "C", "D"]
    assert rounds == [["a", "b", "c", "d"]]


def test_a_store_that_fails_before_taking_fails_every_waiting_request_once():
    calls = 0

    def store(take):
        nonlocal calls
        calls += 1
        raise ConnectionError("database unreachable")

    async def scenario():
        writer = GroupCommitWriter(store=store)
        results = await asyncio.gather(*(writer.submit(i) for i in range(3)), return_exceptions=True)
        await asyncio.sleep(0.05)
        return results

    results = aio.run(scenario())
    assert all(isinstance(r, ConnectionError) for r in results)
    assert calls == 1  # not retried in a loop while nobody waits


def test_a_round_takes_at_most_max_batch_items():
    rounds: list[list[int]] = []

    def store(take):
        items = take()
        rounds.append(items)
        return items

    async def scenario():
        writer = GroupCommitWriter(store=store, max_batch=2)
        return await asyncio.gather(*(writer.submit(i) for i in range(5)))

    assert aio.run(scenario()) == [0, 1, 2, 3, 4]
    assert all(len(r) <= 2 for r in rounds) and list(itertools.chain.from_iterable(rounds)) == [0, 1, 2, 3, 4]


def test_an_item_that_fails_its_batch_fails_alone():
    """One request carrying something the store chokes on must not cost the requests committed with it."""
    calls: list[list[str]] = []
    waiting_for_lock = threading.Event()
    lock_free = threading.Event()

    def store(take):
        waiting_for_lock.set()
        lock_free.wait(5)
        items = take()
        calls.append(items)
        if "bad" in items:
            raise ValueError("cannot store 'bad'")
        return [item.upper() for item in items]

    async def scenario():
        writer = GroupCommitWriter(store=store)
        first = asyncio.ensure_future(writer.submit("a"))
        assert await asyncio.to_thread(waiting_for_lock.wait, 5)
        later = await _queued(*(writer.submit(x) for x in ("bad", "c")))
        lock_free.set()
        return await asyncio.gather(first, *later, return_exceptions=True)

    first, bad, last = aio.run(scenario())
    assert (first, last) == ("A", "C") and isinstance(bad, ValueError)
    assert calls == [["a", "bad", "c"], ["a"], ["bad"], ["c"]]


@pytest.mark.parametrize(
    "failure",
    [
        OperationalError("COMMIT", {}, Exception("database is locked")),
        PoolTimeout("QueuePool limit of size 10 overflow 10 reached, connection timed out, timeout 1.50"),
    ],
    ids=["database", "pool checkout"],
)
def test_a_database_failure_is_not_retried_item_by_item(failure):
    calls: list[list[int]] = []

    def store(take):
        calls.append(take())
        raise failure

    async def scenario():
        writer = GroupCommitWriter(store=store)
        return await asyncio.gather(*(writer.submit(i) for i in range(3)), return_exceptions=True)

    assert all(r is failure for r in aio.run(scenario()))
    assert len(calls) == 1


def test_an_item_that_cannot_be_stored_is_replaced_by_what_as_failed_gives():
    stored: list[list[str]] = []

    def store(take):
        items = take()
        if any(item.startswith("bad") and not item.endswith("!") for item in items):
            raise ValueError("cannot store it")
        stored.append(items)
        return [item.upper() for item in items]

    async def scenario():
        writer = GroupCommitWriter(store=store, as_failed=lambda item, exc: f"{item}: {type(exc).__name__}!")
        return await writer.submit("bad")

    assert aio.run(scenario()) == "BAD: VALUEERROR!"
    assert stored == [["bad: ValueError!"]]  # alone in its batch: not stored twice before being replaced


def test_requests_stop_waiting_at_their_deadline_while_a_round_is_stuck_and_the_writer_recovers():
    """A database that stops answering holds a round's thread: its request, and every request after it
    (queued behind the stuck round), gets NotStoredInTime at its deadline; once the round finishes, the
    writer goes on, and the requests that gave up are stored in no later round."""
    in_round = threading.Event()
    database_answers = threading.Event()
    rounds: list[list[str]] = []

    def store(take):
        items = take()
        rounds.append(items)
        in_round.set()
        database_answers.wait(10)
        return [item.upper() for item in items]

    async def scenario():
        writer = GroupCommitWriter(store=store, timeout_s=0.2)
        loop = asyncio.get_running_loop()
        started = loop.time()
        stuck = asyncio.ensure_future(writer.submit("stuck"))
        assert await asyncio.to_thread(in_round.wait, 5)
        later = await asyncio.gather(*(writer.submit(x) for x in ("b", "c")), return_exceptions=True)
        waited = loop.time() - started
        answers = [await asyncio.gather(stuck, return_exceptions=True), later]
        database_answers.set()
        after = await writer.submit("after")
        return answers, waited, after

    ([[stuck], later], waited, after) = aio.run(scenario())
    assert isinstance(stuck, NotStoredInTime) and all(isinstance(r, NotStoredInTime) for r in later)
    assert waited < 1.0  # every one of them answered at its own deadline, not when the round ended
    assert after == "AFTER"
    assert rounds == [["stuck"], ["after"]]  # the round that was stuck still ends; b and c are never stored


def test_a_round_that_lets_the_next_begin_overlaps_it_and_the_rounds_finish_in_order():
    """PostgreSQL's rounds: once a round's rows are in it says so, and the next round takes and inserts
    while it commits. The next waits for it before its own tail, so they finish in the order they began,
    and each request gets its own round's answer."""
    first_inserted = threading.Event()
    first_may_commit = threading.Event()
    second_inserted = threading.Event()
    finished: list[list[str]] = []

    def store(take):
        items = take()
        if items == ["a"]:
            take.let_next_begin()
            first_inserted.set()
            first_may_commit.wait(5)
        else:
            second_inserted.set()
            take.let_next_begin()
        take.wait_for_previous()
        finished.append(items)
        return [item.upper() for item in items]

    async def scenario():
        writer = GroupCommitWriter(store=store)
        first = asyncio.ensure_future(writer.submit("a"))
        assert await asyncio.to_thread(first_inserted.wait, 5)
        second = asyncio.ensure_future(writer.submit("b"))
        overlapped = await asyncio.to_thread(second_inserted.wait, 5)  # while the first has not finished
        waited_for_first = not second.done()
        first_may_commit.set()
        return overlapped, waited_for_first, await asyncio.gather(first, second)

    overlapped, waited_for_first, answers = aio.run(scenario())
    assert overlapped and waited_for_first
    assert answers == ["A", "B"]
    assert finished == [["a"], ["b"]]


def _most_rounds_at_once(*, lets_next_begin: bool, items: int) -> int:
    """Stores `items` one per round, each holding its round open as a commit would, and returns how many
    rounds ran at once at most."""
    active = 0
    most = 0
    lock = threading.Lock()

    def store(take):
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
        taken = take()
        if lets_next_begin:
            take.let_next_begin()
        threading.Event().wait(0.02)  # stands in for the round's commit, so a second round would overlap it
        take.wait_for_previous()
        with lock:
            active -= 1
        return taken

    async def scenario():
        writer = GroupCommitWriter(store=store, max_batch=1)
        return await asyncio.gather(*(writer.submit(i) for i in range(items)))

    assert aio.run(scenario()) == list(range(items))
    return most


def test_without_let_next_begin_the_rounds_stay_one_at_a_time():
    """SQLite's rounds (one writer): the next round starts only when the last has finished."""
    assert _most_rounds_at_once(lets_next_begin=False, items=6) == 1


def test_at_most_two_rounds_run_at_once_however_early_each_lets_the_next_begin():
    assert _most_rounds_at_once(lets_next_begin=True, items=8) == 2


def test_a_round_waits_for_the_one_before_no_longer_than_the_deadline(caplog):
    """Were the round before to wait on this one's rows (an insert retried after a clash), waiting for it
    without a bound would hold both forever; after the writer's deadline this one goes on alone."""
    first_taken = threading.Event()
    first_may_finish = threading.Event()
    second_finished = threading.Event()

    def store(take):
        items = take()
        take.let_next_begin()
        if items == ["a"]:
            first_taken.set()
            first_may_finish.wait(10)
        else:
            take.wait_for_previous()
            second_finished.set()
        return items

    async def scenario():
        writer = GroupCommitWriter(store=store, timeout_s=0.3)
        loop = asyncio.get_running_loop()
        first = asyncio.ensure_future(writer.submit("a"))
        assert await asyncio.to_thread(first_taken.wait, 5)
        started = loop.time()
        second = await asyncio.gather(writer.submit("b"), return_exceptions=True)
        went_on = await asyncio.to_thread(second_finished.wait, 5)
        waited = loop.time() - started
        first_may_finish.set()
        await asyncio.gather(first, return_exceptions=True)
        return went_on, waited, second

    went_on, waited, _ = aio.run(scenario())
    assert went_on and 0.3 <= waited < 3
    assert "did not finish within 0.3 s" in caplog.text
