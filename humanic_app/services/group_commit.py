"""Group commit: many concurrent requests, one transaction per round.

Each request awaits its own result while the writer hands a whole round of items to one `store` call.
It knows nothing of what the items are; the webhook's intake is its user.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError

logger = logging.getLogger(__name__)

MAX_BATCH = 500
T = TypeVar("T")
R = TypeVar("R")


def _affects_everyone(exc: Exception) -> bool:
    """The database is unreachable or busy: storing the items one by one would fail the same way, slower."""
    return isinstance(exc, (OperationalError, InterfaceError))


class GroupCommitWriter(Generic[T, R]):
    """Collects items from concurrent requests and hands them to `store` in one call (one transaction)
    per round; each request gets its own result back.

    `store` is given `take`, not the items: it takes the write lock first and calls `take()` after, so
    the requests that arrived while it waited for the lock join this commit instead of the next one."""

    def __init__(
        self,
        *,
        store: Callable[[Callable[[], list[T]]], list[R]],
        on_stored: Callable[[], None] | None = None,
        max_batch: int = MAX_BATCH,
        as_failed: Callable[[T, Exception], T] | None = None,
        name: str = "humanic-group-commit",
    ):
        self._store = store
        self._name = name  # of its asyncio task
        self._on_stored = on_stored
        self._as_failed = as_failed  # what to store instead of an item that cannot be stored, if anything
        self._max_batch = max_batch
        self._pending: collections.deque[tuple[T, asyncio.Future]] = collections.deque()
        self._arrived: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _ensure_running(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop = loop
            self._arrived = asyncio.Event()
            self._task = loop.create_task(self._run(self._arrived), name=self._name)
        assert self._arrived is not None  # set with the task it wakes
        return self._arrived

    async def submit(self, item: T) -> R:
        future = asyncio.get_running_loop().create_future()
        arrived = self._ensure_running()
        self._pending.append((item, future))
        arrived.set()
        return await future

    async def _run(self, arrived: asyncio.Event) -> None:
        while True:
            await arrived.wait()
            arrived.clear()
            while self._pending:
                taken: list[tuple[T, asyncio.Future]] = []

                # take() runs in the store's thread within this iteration (awaited just below), so it sees
                # this iteration's `taken`; deque pops are atomic
                def take() -> list[T]:
                    while self._pending and len(taken) < self._max_batch:  # noqa: B023
                        taken.append(self._pending.popleft())  # noqa: B023
                    return [item for item, _ in taken]  # noqa: B023

                try:
                    results = await asyncio.to_thread(self._store, take)
                except Exception as exc:  # every waiting request must get an answer
                    failed_with_items = bool(taken) and not _affects_everyone(exc)
                    if not taken:  # it failed before taking (no database): these get the error
                        take()
                    if failed_with_items:
                        await self._store_one_by_one(taken, exc)
                    else:
                        for _, future in taken:
                            if not future.done():
                                future.set_exception(exc)
                    continue
                for (_, future), result in zip(taken, results, strict=True):
                    if not future.done():
                        future.set_result(result)
                if self._on_stored is not None:
                    self._on_stored()

    async def _store_one_by_one(self, taken: list[tuple[T, asyncio.Future]], batch_error: Exception) -> None:
        """A batch failed for a reason one of its items may carry (a value the database refuses, a bug
        some input reaches): each item alone, so only the one at fault fails, and that one is stored as
        `as_failed` says."""
        if len(taken) > 1:
            logger.warning("a group commit of %d requests failed; storing them one by one", len(taken))
        result: R | None
        for item, future in taken:
            error = batch_error if len(taken) == 1 else None
            if error is None:
                try:
                    [result] = await asyncio.to_thread(self._store, functools.partial(list, [item]))
                except Exception as exc:
                    error = exc
            if error is not None:
                logger.error("a request could not be stored", exc_info=error)
                result = await self._store_failed(item, error)
                if result is None:
                    future.set_exception(error)
                    continue
            future.set_result(result)
        if self._on_stored is not None:
            self._on_stored()

    async def _store_failed(self, item: T, exc: Exception) -> R | None:
        """Stores `as_failed(item, exc)` in place of the item (the webhook: a rejection row, so the Event
        Log still shows the delivery); None when there is none or it cannot be stored either."""
        if self._as_failed is None:
            return None
        replacement = self._as_failed(item, exc)
        try:
            [result] = await asyncio.to_thread(self._store, lambda: [replacement])
        except Exception:
            logger.exception("not even the failure of a request could be stored")
            return None
        return result
