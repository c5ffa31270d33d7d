"""`make run` in a subprocess on a free port with a fresh data dir, for the benchmarks that need the real app."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def post_json(url: str, body: dict) -> None:
    """One webhook delivery as PostHog sends it; raises on a non-2xx answer."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app_processes(base: str) -> list[tuple[int, str, int]]:
    """(pid, command line, CPU ticks) of every process of the app served at `base` (web workers,
    background worker): they share one process group."""
    port = base.rsplit(":", 1)[1]
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                found.append((int(entry.name), cmdline, int(fields[2]), int(fields[11]) + int(fields[12])))
    groups = {pgid for _, cmdline, pgid, _ in found if f"--backend-port {port}" in cmdline}
    return [(pid, cmdline, ticks) for pid, cmdline, pgid, ticks in found if pgid in groups]


def server_cpu_seconds(base: str, *, only: str = "") -> float:
    """CPU time used so far by the app's processes (`only`: those whose command line contains it).
    Steadier than throughput on a machine whose speed drifts."""
    return sum(ticks for _, cmdline, ticks in _app_processes(base) if only in cmdline) / os.sysconf("SC_CLK_TCK")


def wait_for_background_worker(base: str, workdir: Path, timeout_s: float = 120.0) -> None:
    """Returns once the app's background worker (started by the web process after it answers) holds
    its SQLite database open: from then on deliveries are processed as they arrive."""
    from tests.support.waiting import has_database_open, wait_until

    database_url = f"sqlite:///{workdir / 'data' / 'humanic.db'}"

    def ready() -> bool:
        return any(
            has_database_open(pid, database_url)
            for pid, cmdline, _ in _app_processes(base)
            if "humanic_app worker" in cmdline
        )

    wait_until(ready, timeout_s=timeout_s, interval_s=0.1, what="the background worker")


def signal_app(base: str, signum: int, *, only: str) -> int:
    """Sends `signum` to the app's processes whose command line contains `only`; returns how many."""
    pids = [pid for pid, cmdline, _ in _app_processes(base) if only in cmdline]
    for pid in pids:
        os.kill(pid, signum)
    return len(pids)


@contextlib.contextmanager
def served_app(extra_env: dict[str, str] | None = None, *, before_start=None) -> Iterator[tuple[str, Path]]:
    """Yields (base URL, work dir). The database is migrated first; `before_start(base)` may set it up;
    this process's environment points at the same data dir, so services called here see the app's data."""
    workdir = Path(tempfile.mkdtemp(prefix="humanic-bench-"))
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "HUMANIC_DATA_DIR": str(workdir / "data"),
        "REFLEX_WEB_WORKDIR": str(PROJECT / ".test-runs" / "bench" / ".web"),
        **(extra_env or {}),
    }
    subprocess.run(
        [sys.executable, "-m", "humanic_app", "migrate"], cwd=PROJECT, env=env, check=True, capture_output=True
    )
    os.environ["HUMANIC_DATA_DIR"] = env["HUMANIC_DATA_DIR"]
    if "DATABASE_URL" in env:
        os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    base = f"http://127.0.0.1:{port}"
    if before_start is not None:
        before_start(base)
    server = subprocess.Popen(
        ["make", "-s", "run"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/ping", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        yield base, workdir
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
