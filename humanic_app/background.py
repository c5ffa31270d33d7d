"""The background worker process: processing, the outbox dispatcher and the periodic jobs, beside the
web server, so they never compete with the webhook for the GIL.

HUMANIC_WORKERS chooses who runs it. `embedded` (the default): each web process starts one child
(`worker --attached`), restarts it, wakes it through its stdin ("p" = events stored, "d" = a message is
due now), and the child exits when that pipe closes, so it cannot outlive the web worker that started it.
`external`: web processes start none; `python -m humanic_app worker` runs as its own service, any number
of them, wherever the database (and Redis) can be reached. A standalone worker is woken by nobody: it
polls the database (processing every IDLE_POLL_SECONDS, the dispatcher every DISPATCH_INTERVAL_SECONDS)
and exits on SIGTERM. Either way, stopping finishes the work in hand (the current processing pass and
send batch) and exits within workers.SHUTDOWN_GRACE_SECONDS. Several workers are safe together:
processing takes an advisory lock on PostgreSQL, the dispatcher claims rows with SKIP LOCKED, and periodic
jobs run under a lease (workers.run_periodic). All pending work lives in the database: any worker may die
at any moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import stat
import subprocess
import sys
import threading

from humanic_app import workers

logger = logging.getLogger(__name__)

RESTART_DELAY_SECONDS = 1.0
STOP_MARGIN_SECONDS = 5.0  # beyond the child's own grace: its interpreter exiting
WAKE_PROCESSING = b"p"
WAKE_DISPATCHER = b"d"

_child: subprocess.Popen | None = None
supervising = False  # processing runs elsewhere: in this process's child (maybe restarting now), or external workers


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
    child = subprocess.Popen([sys.executable, "-m", "humanic_app", "worker", "--attached"], stdin=subprocess.PIPE)
    assert child.stdin is not None
    os.set_blocking(child.stdin.fileno(), False)
    return child


def _stop(child: subprocess.Popen) -> None:
    """SIGTERM, then as long as the child may take to finish its work in hand, then SIGKILL."""
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=workers.SHUTDOWN_GRACE_SECONDS + STOP_MARGIN_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@contextlib.asynccontextmanager
async def background_worker():
    """Lifespan task of the web process: keep one worker child running while the app serves, unless
    HUMANIC_WORKERS=external says standalone workers do the background work."""
    global _child, supervising
    from humanic_app.settings import get_settings

    supervising = True
    if get_settings().workers == "external":
        logger.info(
            "HUMANIC_WORKERS=external: this web process starts no background worker; "
            "run `python -m humanic_app worker` as a service of its own"
        )
        try:
            yield
        finally:
            supervising = False
        return
    stopping = asyncio.Event()

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


async def _serve(*, attached: bool) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if attached:
        threading.Thread(target=_read_wakeups, args=(loop, stop), daemon=True, name="humanic-wakeups").start()
    async with workers.dispatcher_ticker():
        processing = asyncio.create_task(
            workers.processing_loop(wake_dispatcher=workers.wake_dispatcher), name="humanic-processing"
        )
        await stop.wait()
        logger.info(
            "background worker %s stopping: finishing the work in hand (at most %g s)",
            os.getpid(),
            workers.SHUTDOWN_GRACE_SECONDS,
        )
        finished = await asyncio.to_thread(workers.stop_and_wait)
        processing.cancel()  # nothing in hand: it waits for a wake-up or its next poll
        with contextlib.suppress(asyncio.CancelledError):
            await processing
    if not finished:
        _exit_now()


def _exit_now() -> None:
    """The work in hand outlived the grace period (a provider call that does not answer): exit without
    waiting for its thread. Nothing is lost: a transaction not committed rolls back, and a provider call
    left unanswered keeps its rows `sending` under their lease, replayed under the same key (never sent twice)."""
    logger.warning(
        "background worker %s: work still running after %g s; exiting without it (its emails stay `sending` and "
        "are replayed under their key when the lease runs out)",
        os.getpid(),
        workers.SHUTDOWN_GRACE_SECONDS,
    )
    logging.shutdown()
    os._exit(1)


def _stdin_is_a_parent_pipe() -> bool:
    """Neither --attached nor --standalone given: a pipe on stdin is a parent's wake-up pipe, unless
    HUMANIC_WORKERS=external (then no web process starts workers). /dev/null, a terminal or a closed
    stdin — how service managers and containers start a process — mean a service of its own."""
    from humanic_app.settings import get_settings

    if get_settings().workers == "external":
        return False
    try:
        return stat.S_ISFIFO(os.fstat(sys.stdin.fileno() if sys.stdin else 0).st_mode)
    except (OSError, ValueError):
        return False


def run_worker(*, attached: bool | None = None) -> int:
    """Entry point of `python -m humanic_app worker`. Attached: a web process's child, woken through
    stdin, gone when stdin closes. Standalone: polls the database until SIGTERM or SIGINT."""
    from humanic_app import logs, runtime

    attached = _stdin_is_a_parent_pipe() if attached is None else attached
    logs.configure(process="worker")
    runtime.tune_garbage_collector()
    logger.info(
        "background worker %s started (%s)",
        os.getpid(),
        "attached to its web process" if attached else "standalone: polls the database",
    )
    asyncio.run(_serve(attached=attached))
    logger.info("background worker %s stopped", os.getpid())
    return 0
