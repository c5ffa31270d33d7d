"""Group commit: many concurrent requests, one transaction per round.

Each request awaits its own result while the writer hands a whole round of items to one `store` call.
It knows nothing of what the items are; the webhook's intake is its user.

A store that can let the next round overlap its own tail says so through its `Round`: on PostgreSQL the
next round reads and inserts while this one writes its counters and waits for its COMMIT, which doubles
what 16 waiting senders get through. The rounds still finish in the order they began (`wait_for_previous`).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError, TimeoutError as PoolTimeout

logger = logging.getLogger(__name__)

MAX_BATCH = 500
IN_FLIGHT = 2  # rounds at once: one writing its tail while the next inserts; more only queue at the counters
ORDER_WAIT_S = 5.0  # the longest a round waits for the one before it when the writer has no deadline
T = TypeVar("T")
R = TypeVar("R")


class NotStoredInTime(TimeoutError):
    """The request's round did not finish within its deadline. The round goes on: if the database answers
    again and it commits, the item is stored although its request was answered as failed."""


def _affects_everyone(exc: Exception) -> bool:
    """The database is unreachable or busy: storing the items one by one would fail the same way, slower."""
    return isinstance(exc, (OperationalError, InterfaceError, PoolTimeout))


def _give_up(future: asyncio.Future, timeout_s: float) -> None:
    if not future.done():
        future.set_exception(NotStoredInTime(f"not stored within {timeout_s:g} s"))


def _answer(future: asyncio.Future, *, result=None, error: Exception | None = None) -> None:
    """A request past its deadline was already answered; its result is dropped."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class Round(Generic[T]):
    """One round as its `store` sees it, from the store's thread. Calling it takes the round's items
    (call it once, after taking the write lock, so that what arrives meanwhile joins this round).

    `let_next_begin()`: the rest of this store cannot clash with the next round's beginning (PostgreSQL:
    the round's rows are inserted, what is left is counters and COMMIT), so the next round may start.
    `wait_for_previous()`: before touching what the round before also writes (counters), wait until that
    round has finished, so the rounds take shared rows, and commit, in the order they began. It gives up
    after `order_wait_s`: a round before that waits on this one's rows (a retried insert) cannot deadlock
    the two."""

    def __init__(
        self,
        take: Callable[[], list[T]],
        *,
        begin_next: Callable[[], None] = lambda: None,
        previous: threading.Event | None = None,
        order_wait_s: float = ORDER_WAIT_S,
    ) -> None:
        self._take = take
        self._begin_next = begin_next
        self._previous = previous
        self._order_wait_s = order_wait_s

    def __call__(self) -> list[T]:
        return self._take()

    def let_next_begin(self) -> None:
        self._begin_next()

    def wait_for_previous(self) -> None:
        if self._previous is not None and not self._previous.wait(self._order_wait_s):
            logger.warning("the round before did not finish within %g s; this one goes on", self._order_wait_s)


def _alone(items: list[T]) -> Round[T]:
    """A round of given items that overlaps nothing (storing a failed round's items one by one)."""
    return Round(functools.partial(list, items))


class GroupCommitWriter(Generic[T, R]):
    """Collects items from concurrent requests and hands them to `store` in one call (one transaction)
    per round; each request gets its own result back.

    `store` is given a `Round`, not the items: it takes the write lock first and calls the round after,
    so the requests that arrived while it waited for the lock join this commit instead of the next one.
    A round begins when the one before has finished, or earlier if that one says `let_next_begin()`; at
    most IN_FLIGHT run at once.

    With `timeout_s`, a request waits at most that long for its round, however long the round takes (a
    database that stopped answering): it then gets `NotStoredInTime`, and the round leaves it out of any
    later round. While a round is stuck before letting the next begin, every later request times out too,
    and they resume by themselves when it finishes."""

    def __init__(
        self,
        *,
        store: Callable[[Round[T]], list[R]],
        on_stored: Callable[[], None] | None = None,
        max_batch: int = MAX_BATCH,
        as_failed: Callable[[T, Exception], T] | None = None,
        name: str = "humanic-group-commit",
        timeout_s: float | None = None,
    ):
        self._timeout_s = timeout_s
        self._store = store
        self._name = name  # of its asyncio task
        self._on_stored = on_stored
        self._as_failed = as_failed  # what to store instead of an item that cannot be stored, if anything
        self._max_batch = max_batch
        self._pending: collections.deque[tuple[T, asyncio.Future]] = collections.deque()
        self._arrived: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rounds: set[asyncio.Task] = set()  # running rounds, held so they are not collected

    def _ensure_running(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop = loop
            self._arrived = asyncio.Event()
            self._task = loop.create_task(self._run(self._arrived), name=self._name)
        assert self._arrived is not None  # set with the task it wakes
        return self._arrived

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        arrived = self._ensure_running()
        self._pending.append((item, future))
        arrived.set()
        if self._timeout_s is None:
            return await future
        # a timer, not asyncio.wait_for: one heap entry per request on the hot path, and the future it fails
        # is this request's alone, so the round it is in carries on
        expiry = loop.call_later(self._timeout_s, _give_up, future, self._timeout_s)
        try:
            return await future
        finally:
            expiry.cancel()

    def _waiting(self) -> bool:
        """Whether a request waits, dropping those at the front that gave up while the last round was stuck.
        Called only while no round is taking (the last one began has taken), so nothing else pops. One
        that gives up later is dropped by the round's take, which may then return nothing."""
        while self._pending and self._pending[0][1].done():
            self._pending.popleft()
        return bool(self._pending)

    async def _run(self, arrived: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        slots = asyncio.Semaphore(IN_FLIGHT)
        previous: threading.Event | None = None
        while True:
            await arrived.wait()
            arrived.clear()
            while self._waiting():
                await slots.acquire()
                may_begin, finished = asyncio.Event(), threading.Event()
                task = loop.create_task(self._round(previous, finished, may_begin, slots))
                self._rounds.add(task)
                task.add_done_callback(self._rounds.discard)
                previous = finished
                await may_begin.wait()

    async def _round(
        self,
        previous: threading.Event | None,
        finished: threading.Event,
        may_begin: asyncio.Event,
        slots: asyncio.Semaphore,
    ) -> None:
        taken: list[tuple[T, asyncio.Future]] = []

        # called in the store's thread while the writer awaits `may_begin`, so no other round takes now;
        # deque pops are atomic
        def take() -> list[T]:
            while self._pending and len(taken) < self._max_batch:
                entry = self._pending.popleft()
                if not entry[1].done():  # its request has not given up waiting
                    taken.append(entry)
            return [item for item, _ in taken]

        loop = asyncio.get_running_loop()

        def begin_next() -> None:  # from the store's thread
            loop.call_soon_threadsafe(may_begin.set)

        order_wait_s = self._timeout_s if self._timeout_s is not None else ORDER_WAIT_S
        this_round = Round(take, begin_next=begin_next, previous=previous, order_wait_s=order_wait_s)
        try:
            try:
                results = await asyncio.to_thread(self._store, this_round)
            finally:
                finished.set()  # the round's transaction is over, committed or not
                may_begin.set()
        except Exception as exc:  # every waiting request must get an answer
            await self._failed(take, taken, exc)
            return
        finally:
            slots.release()
        for (_, future), result in zip(taken, results, strict=True):
            _answer(future, result=result)
        if self._on_stored is not None:
            self._on_stored()

    async def _failed(self, take: Callable[[], list[T]], taken: list[tuple[T, asyncio.Future]], exc: Exception) -> None:
        failed_with_items = bool(taken) and not _affects_everyone(exc)
        if not taken:  # it failed before taking (no database): these get the error
            take()
        if failed_with_items:
            await self._store_one_by_one(taken, exc)
        else:
            for _, future in taken:
                _answer(future, error=exc)

    async def _store_one_by_one(self, taken: list[tuple[T, asyncio.Future]], batch_error: Exception) -> None:
        """A batch failed for a reason one of its items may carry (a value the database refuses, a bug
        some input reaches): each item alone, so only the one at fault fails, and that one is stored as
        `as_failed` says."""
        if len(taken) > 1:
            logger.warning("a group commit of %d requests failed; storing them one by one", len(taken))
        result: R | None
        for item, future in taken:
            if future.done():  # its request was answered at its deadline; nothing was committed for it
                continue
            error = batch_error if len(taken) == 1 else None
            if error is None:
                try:
                    [result] = await asyncio.to_thread(self._store, _alone([item]))
                except Exception as exc:
                    error = exc
            if error is not None:
                logger.error("a request could not be stored", exc_info=error)
                result = await self._store_failed(item, error)
                if result is None:
                    _answer(future, error=error)
                    continue
            _answer(future, result=result)
        if self._on_stored is not None:
            self._on_stored()

    async def _store_failed(self, item: T, exc: Exception) -> R | None:
        """Stores `as_failed(item, exc)` in place of the item (the webhook: a rejection row, so the Event
        Log still shows the delivery); None when there is none or it cannot be stored either."""
        if self._as_failed is None:
            return None
        replacement = self._as_failed(item, exc)
        try:
            [result] = await asyncio.to_thread(self._store, _alone([replacement]))
        except Exception:
            logger.exception("not even the failure of a request could be stored")
            return None
        return result
