"""What /healthz reports: whether the database answers a query within a deadline."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

from sqlalchemy import text
from sqlalchemy.engine import Engine

from humanic_app.db import READ_ONLY


class _Probes:
    """At most one probe in flight per process: while the database does not answer, every check waits on
    the same stuck probe instead of starting a thread (and taking a pooled connection) of its own; the
    probe finishes when the database answers again or its connection fails."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: tuple[Engine, concurrent.futures.Future[None]] | None = None

    def start_or_join(self, engine: Engine) -> concurrent.futures.Future[None]:
        with self._lock:
            if self._current is None or self._current[0] is not engine or self._current[1].done():
                probe: concurrent.futures.Future[None] = concurrent.futures.Future()
                threading.Thread(target=_probe, args=(engine, probe), name="humanic-health-probe", daemon=True).start()
                self._current = (engine, probe)
            return self._current[1]


def _probe(engine: Engine, probe: concurrent.futures.Future[None]) -> None:
    try:
        # read-only: on SQLite a snapshot that does not wait for the write lock, which a check needs no more
        # than it needs the database's contents
        with engine.execution_options(**{READ_ONLY: True}).connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        probe.set_exception(exc)
    else:
        probe.set_result(None)


_probes = _Probes()


def _ignore_outcome(probe: asyncio.Future) -> None:
    """The check that waited for it answered already; a later check reads the database afresh."""
    if not probe.cancelled():
        probe.exception()


async def check_database(*, engine: Engine, timeout_s: float) -> tuple[bool, str]:
    probe = asyncio.wrap_future(_probes.start_or_join(engine))
    done, _ = await asyncio.wait({probe}, timeout=timeout_s)  # on timeout the probe goes on, for later checks
    if not done:
        probe.add_done_callback(_ignore_outcome)
        return False, f"no answer within {timeout_s:g} s"
    if (exc := probe.exception()) is not None:  # any driver error means "unreachable" to an operator
        return False, type(exc).__name__
    return True, "ok"
