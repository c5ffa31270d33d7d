"""Start the real Humanic app (`reflex run --env prod`, one port) in a subprocess for browser tests."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
RUNS_DIR = PROJECT / ".test-runs"
START_TIMEOUT_S = 420


def run_dir(name: str) -> Path:
    """Where `running_app(name)` keeps its data and build: one per pytest-xdist worker, which run at once."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return RUNS_DIR / (f"{name}-{worker}" if worker else name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, log_path: Path, *, pages: bool = True) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            with (
                urllib.request.urlopen(url + "/ping", timeout=2) as r,
                urllib.request.urlopen(url + ("/" if pages else "/ping"), timeout=5) as page,
            ):
                if r.status == 200 and page.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the app did not answer within {START_TIMEOUT_S}s:\n{log_path.read_text()[-4000:]}")


@dataclasses.dataclass(frozen=True)
class RunningApp:
    url: str
    pid: int
    log_path: Path
    process: subprocess.Popen = dataclasses.field(compare=False, repr=False)

    def process_count(self) -> int:
        """Web processes in the app's session: the supervisor plus its workers (not the background workers)."""
        count = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ")
                if int(fields[3]) == self.pid and b"humanic_app worker" not in cmdline:
                    count += 1
        return count

    def background_workers(self) -> list[int]:
        """Pids of the background worker processes (one per web worker)."""
        pids = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            with contextlib.suppress(OSError):
                stat = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[3]) == self.pid and b"humanic_app worker" in cmdline.read_bytes().replace(b"\0", b" "):
                    pids.append(int(cmdline.parent.name))
        return pids


@contextlib.contextmanager
def running_app(
    name: str,
    extra_env: dict[str, str] | None = None,
    *,
    backend_only: bool = False,
    before_start: Callable[[Path], None] | None = None,
) -> Iterator[RunningApp]:
    """Yields the running app. Each run gets its own data dir and Reflex build dir under `run_dir(name)`.
    `backend_only`: the API, webhooks and background worker without building the pages (starts in seconds).
    `before_start` is given the migrated data dir before the app starts."""
    runs = run_dir(name)
    shutil.rmtree(runs / "data", ignore_errors=True)
    runs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REFLEX_REDIS_URL", "HUMANIC_PUBLIC_URL")}
    env.update(
        {
            "HUMANIC_DATA_DIR": str(runs / "data"),
            "REFLEX_WEB_WORKDIR": str(runs / ".web"),
            "REFLEX_STATES_WORKDIR": str(runs / ".states"),
            "REFLEX_USE_SYSTEM_BUN": "1",
            "REFLEX_DIR": str(PROJECT / ".reflex"),
            "REFLEX_CHECK_LATEST_VERSION": "0",
            "PORT": str(port),
            "PATH": f"{PROJECT / '.tools' / 'node_modules' / '.bin'}:{os.environ.get('PATH', '')}",
        }
    )
    env.update(extra_env or {})
    subprocess.run(
        [sys.executable, "-m", "humanic_app", "migrate"], cwd=PROJECT, env=env, check=True, capture_output=True
    )
    if before_start is not None:
        before_start(runs / "data")
    log_path = runs / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "reflex"),
                "run",
                "--env",
                "prod",
                *(["--backend-only"] if backend_only else ["--frontend-port", str(port)]),
                "--backend-port",
                str(port),
                "--loglevel",
                "info",
            ],
            cwd=PROJECT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, log_path, pages=not backend_only)
        yield RunningApp(url=url, pid=proc.pid, log_path=log_path, process=proc)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def create_owner(name: str, owner: tuple[str, str]) -> tuple[str, str]:
    """Creates the owner of the app `running_app(name)` started, through the CLI as an operator would."""
    env = {**os.environ, "HUMANIC_DATA_DIR": str(run_dir(name) / "data")}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "humanic_app", "create-user", "--email", owner[0], "--password", owner[1]],
        cwd=PROJECT,
        env=env,
        check=True,
        capture_output=True,
    )
    return owner
