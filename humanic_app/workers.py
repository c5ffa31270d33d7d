"""Background work inside the app process: the ingest writer (group commit) and the processing loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from humanic_app.db import get_engine, session_scope
from humanic_app.services import ingest, processing, webhook_intake

logger = logging.getLogger(__name__)

PROCESS_BATCH = 500
IDLE_POLL_SECONDS = 1.0

_wake = asyncio.Event()


def wake_processing() -> None:
    """Called after each stored batch so processing starts at once instead of at the next poll."""
    with contextlib.suppress(RuntimeError):
        _wake.set()


def _handle(requests: list[webhook_intake.WebhookRequest]) -> list[webhook_intake.WebhookAnswer]:
    with session_scope(get_engine()) as session:
        return webhook_intake.handle_requests(session=session, requests=requests)


webhook_writer = ingest.GroupCommitWriter(store=_handle, on_stored=wake_processing)


def process_available(limit: int = PROCESS_BATCH) -> int:
    with session_scope(get_engine()) as session:
        return processing.process_pending(session=session, limit=limit)


async def processing_loop() -> None:
    """Lifespan task: drain pending events whenever woken, and poll in case another worker stored them."""
    global _wake
    _wake = asyncio.Event()
    while True:
        try:
            done = await asyncio.to_thread(process_available)
        except Exception:
            logger.exception("processing pass failed; retrying")
            done = 0
        if done:
            continue
        _wake.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(_wake.wait(), timeout=IDLE_POLL_SECONDS)
