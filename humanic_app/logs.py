"""Logging: one line per webhook request, per enrolment and per send, each carrying the correlation id of
the PostHog event behind it (`evt-<event id>`), so one grep follows webhook → event → enrolment → message →
provider id. Plain text by default; one JSON object per line with HUMANIC_LOG_FORMAT=json."""

from __future__ import annotations

import faulthandler
import json
import logging
import os
import signal
import sys
from datetime import UTC, datetime
from typing import IO

_FIELDS = (
    "correlation_id",
    "event_ids",
    "source_id",
    "status",
    "duration_ms",
    "enrolment_id",
    "campaign_id",
    "contact_id",
    "message_id",
    "provider_message_id",
    "outcome",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": self._process,
            "message": record.getMessage(),
        }
        data.update({key: getattr(record, key) for key in _FIELDS if hasattr(record, key)})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)

    def __init__(self, process: str):
        super().__init__()
        self._process = process


def configure(*, process: str, stream: IO[str] | None = None, fmt: str | None = None) -> None:
    """Sends humanic_app's own log lines to stderr (or `stream`), whatever the web server did to the root logger."""
    fmt = (fmt or os.environ.get("HUMANIC_LOG_FORMAT", "text")).lower()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter(process)
        if fmt == "json"
        else logging.Formatter(f"%(asctime)s %(levelname)s [{process}] %(name)s: %(message)s")
    )
    logger = logging.getLogger("humanic_app")
    for old in list(logger.handlers):
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line per one-second tick
    dump_stacks_on_sigusr1()


def dump_stacks_on_sigusr1() -> None:
    """`kill -USR1 <pid>` writes every thread's Python stack to stderr (the log) and the process goes on:
    how an operator sees what a process that stopped answering is waiting for. faulthandler writes from
    the signal handler itself, so it works even while the event loop or the GIL holder is stuck."""
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)


def correlation(event_id: int | None) -> str:
    return f"evt-{event_id}" if event_id else "-"
