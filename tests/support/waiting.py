"""Waiting for a condition: polled until it holds or a deadline passes."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import make_url

T = TypeVar("T")

# Long enough for the slowest legitimate case (a process starting on a machine whose cores are busy);
# a passing test never waits it out.
DEFAULT_TIMEOUT_S = 30.0


def wait_until(
    predicate: Callable[[], T],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    interval_s: float = 0.05,
    what: str = "the condition",
) -> T:
    """Returns the predicate's first truthy value; AssertionError when it stays falsy past the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        if value := predicate():
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s:.0f}s")
        time.sleep(interval_s)


def has_database_open(pid: int, database_url: str) -> bool:
    """Whether process `pid` holds its database open: the SQLite file, or a TCP connection to PostgreSQL's port."""
    targets = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                targets.add(os.readlink(fd))
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return str(Path(url.database or "").resolve()) in targets
    port = f":{url.port or 5432:04X}"
    sockets = {t[len("socket:[") : -1] for t in targets if t.startswith("socket:[")}
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                if fields[2].endswith(port) and fields[9] in sockets:
                    return True
    return False
