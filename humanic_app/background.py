"""The background worker process: processing and the outbox dispatcher, beside the web server.

The web process only answers HTTP: it stores each webhook delivery and returns. Mapping, contact matching,
campaigns and sending run in one child process per web worker, so they never compete with the webhook for
the GIL. The child is started and restarted by the web process's lifespan, is woken through its stdin
("p" = events stored, "d" = a message is due now), and exits when that pipe closes, so it cannot outlive
the web worker that started it. All pending work lives in the database: the child may die at any moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading

from humanic_app import workers

logger = logging.getLogger(__name__)

RESTART_DELAY_SECONDS = 1.0
WAKE_PROCESSING = b"p"
WAKE_DISPATCHER = b"d"

_child: subprocess.Popen | None = None
supervising = False  # this process keeps a worker child running (it may be restarting right now)


def wake(signal_byte: bytes) -> None:
    """Nudge the child. Without one (it is restarting) nothing is lost: it polls the database on start."""
    child = _child
    if child is None or child.stdin is None or child.poll() is not None:
        return
    with contextlib.suppress(BlockingIOError, BrokenPipeError, OSError):
        os.write(child.stdin.fileno(), signal_byte)  # a full pipe already holds a pending wake-up


def wake_processing() -> None:
    """From the web process: events were stored, the child's processing loop should start now."""
    wake(WAKE_PROCESSING)


def wake_dispatcher() -> None:
    """From the web process: a message is due now, the child's dispatcher should run now."""
    wake(WAKE_DISPATCHER)


def is_supervising() -> bool:
    """Whether this process keeps a worker child, which moves SQLite's inbox into the event table."""
    return supervising


def _spawn() -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-m", "humanic_app", "worker"], stdin=subprocess.PIPE)
    assert child.stdin is not None
    os.set_blocking(child.stdin.fileno(), False)
    return child


def _stop(child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@contextlib.asynccontextmanager
async def background_worker():
    """Lifespan task of the web process: keep one worker child running while the app serves."""
    global _child, supervising
    stopping = asyncio.Event()
    supervising = True

    async def supervise() -> None:
        global _child
        while not stopping.is_set():
            _child = await asyncio.to_thread(_spawn)
            code = await asyncio.to_thread(_child.wait)
            if not stopping.is_set():
                logger.warning("background worker exited with code %s; restarting it", code)
                await asyncio.sleep(RESTART_DELAY_SECONDS)

    task = asyncio.create_task(supervise(), name="humanic-background-supervisor")
    try:
        yield
    finally:
        stopping.set()
        supervising = False
        child, _child = _child, None
        if child is not None:
            await asyncio.to_thread(_stop, child)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _read_wakeups(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Runs in a thread of the child: turns bytes from the parent into wake-ups; EOF means the parent is gone."""
    while chunk := os.read(sys.stdin.fileno(), 256):
        if WAKE_PROCESSING in chunk:
            loop.call_soon_threadsafe(workers.wake_processing)
        if WAKE_DISPATCHER in chunk:
            loop.call_soon_threadsafe(workers.wake_dispatcher)
    loop.call_soon_threadsafe(stop.set)


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    threading.Thread(target=_read_wakeups, args=(loop, stop), daemon=True, name="humanic-wakeups").start()
    async with workers.dispatcher_ticker():
        processing = asyncio.create_task(workers.processing_loop(wake_dispatcher=workers.wake_dispatcher),
                                         name="humanic-processing")
        await stop.wait()
        processing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await processing


def run_worker() -> int:
    """Entry point of the child (`python -m humanic_app worker`)."""
    from humanic_app import logs, runtime

    logs.configure(process="worker")
    runtime.tune_garbage_collector()
    asyncio.run(_serve())
    return 0
