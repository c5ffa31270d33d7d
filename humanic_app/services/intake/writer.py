"""The webhook's writer in the web process: judge each request on arrival, store them a round at a time.

Judging needs no database (the sources as last read); storing happens in one transaction per round of
concurrent requests (services/group_commit.py). This is where the webhook's transactions begin and end:
the round is the transaction. What happens after a round is stored is not its business: it calls the
`wake_processing` it was given.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from humanic_app.db import get_engine, session_scope
from humanic_app.services.group_commit import GroupCommitWriter, Round
from humanic_app.services.intake import inbox, judging, storing
from humanic_app.settings import get_settings

logger = logging.getLogger(__name__)


def _nothing() -> None:
    return None


def _no() -> bool:
    return False


class IntakeWriter:
    """Judges each request the moment it arrives, against the sources as last read (no database), and
    stores the judged requests in batches: one write transaction per round (group commit).

    `wake_processing` is called after each stored round, so processing starts at once instead of at its
    next poll. `inbox_moved_elsewhere` says whether a background worker moves SQLite's inbox into the
    event table; without one (the API under a test client, say) this writer moves it after each round.

    A request waits at most `timeout_s` (HUMANIC_DB_TIMEOUT_SECONDS) for its round to be stored, then
    `submit` raises `NotStoredInTime`."""

    def __init__(
        self,
        *,
        wake_processing: Callable[[], None] = _nothing,
        inbox_moved_elsewhere: Callable[[], bool] = _no,
        timeout_s: float | None = None,
    ) -> None:
        self._book = judging.SourceBook()
        self._inbox_moved_elsewhere = inbox_moved_elsewhere
        self._writer = GroupCommitWriter(
            store=self._store,
            on_stored=wake_processing,
            as_failed=judging.as_failed,
            name="humanic-ingest-writer",
            timeout_s=get_settings().db_timeout_seconds if timeout_s is None else timeout_s,
        )

    async def submit(self, request: judging.WebhookRequest) -> judging.WebhookAnswer:
        judged = await self._writer.submit(judging.judge(book=self._book, request=request))
        return judged.answer

    def _store(self, take: Round[judging.Judged]) -> list[judging.Judged]:
        engine = get_engine()
        box = inbox.for_engine(engine)
        if box is None:  # PostgreSQL: the next round begins while this one commits
            with session_scope(engine) as session:
                session.connection()  # the write turn first, then take everything that came in meanwhile
                judged = take()
                self._book = judging.store_judged(session=session, judged=judged, overlap=take)
        else:  # SQLite: into the inbox file, whose lock processing never holds
            with box.append_turn() as (appending, snapshot):
                judged = take()
                self._book = judging.store_judged(
                    session=snapshot,
                    judged=judged,
                    store=lambda deliveries: storing.append_to_inbox(
                        box=box, session=appending, main=snapshot, deliveries=deliveries
                    ),
                )
            if not self._inbox_moved_elsewhere():
                try:  # the deliveries are committed: a failure here must not fail (or re-store) them
                    with session_scope(engine) as session:
                        storing.move_all_from_inbox(box=box, session=session)
                except Exception:
                    logger.exception("moving stored deliveries out of the inbox failed; they stay there")
        if logger.isEnabledFor(logging.INFO):
            _log_answers(judged)
        return judged


def _log_answers(judged: list[judging.Judged]) -> None:
    done = time.perf_counter()
    for item in judged:
        answer, source_id, ids = item.answer, item.delivery.source_id, item.answer.event_ids
        error = answer.body.get("error")
        logger.info(
            "webhook %s source=%s events=%s %.1f ms%s",
            answer.status,
            source_id,
            ",".join(f"evt-{i}" for i in ids) or "-",
            1000 * (done - item.request.arrived) if item.request.arrived else 0.0,
            f": {error}" if error else "",
            extra={
                "correlation_id": f"evt-{ids[0]}" if ids else "-",
                "event_ids": ids,
                "status": answer.status,
                "source_id": source_id,
            },
        )
