"""The work behind the webhook, run by the background worker process (background.py): the processing
loop and the dispatcher ticker. It wakes nothing outside this process: what it should call when work
appears is passed in (`processing_loop(wake_dispatcher=...)`), and other processes reach the loops here
through background.py's pipe.

Stopping (`stop_and_wait`) refuses new work and waits for the work in hand — a processing pass, the
dispatcher's current batch, a periodic job (retention stops after its current batch) — for at most
SHUTDOWN_GRACE_SECONDS."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, timedelta

from sqlalchemy.exc import OperationalError

from humanic_app.db import get_engine, read_scope, session_scope
from humanic_app.services import posthog_pull, processing
from humanic_app.services.intake import inbox, storing

logger = logging.getLogger(__name__)

PROCESS_BATCH = 200  # the webhook never waits for these (SQLite: it writes to the inbox); the dispatcher may
YIELD_SECONDS = 0.001
GATHER_SECONDS = 0.05  # after a partial pass: the webhook never waits for processing, so let a batch fill
IDLE_POLL_SECONDS = 1.0

_wake = asyncio.Event()
_processing_here = False

# Long enough for a dispatcher batch (a provider call answers in well under a second, and a rate-limit slot
# is seconds away at most) and a processing pass; short of Docker's and Kubernetes' 30 s grace beyond it.
# A call still unanswered then stays `sending` under its lease and is replayed under the same key.
SHUTDOWN_GRACE_SECONDS = 20.0
_stopping = threading.Event()
_in_hand = threading.Condition()
_running = 0


@contextlib.contextmanager
def _work() -> Iterator[bool]:
    """A piece of work this process has in hand while it runs, so stopping can wait for it. Yields False
    (do nothing) once the worker is stopping."""
    global _running
    with _in_hand:
        go = not _stopping.is_set()
        _running += go
    try:
        yield go
    finally:
        if go:
            with _in_hand:
                _running -= 1
                _in_hand.notify_all()


def stop_and_wait(timeout_s: float | None = None) -> bool:
    """Refuses new work from now on and waits for the work in hand to finish (at most `timeout_s`, by
    default SHUTDOWN_GRACE_SECONDS); whether it did in time."""
    with _in_hand:
        _stopping.set()
        return _in_hand.wait_for(lambda: _running == 0, timeout=timeout_s or SHUTDOWN_GRACE_SECONDS)


def wake_processing() -> None:
    """Start this process's processing loop now (events were stored) instead of at its next poll."""
    if _processing_here:
        with contextlib.suppress(RuntimeError):
            _wake.set()


def process_available(
    limit: int = PROCESS_BATCH, *, ask_first: bool = True, wake: Callable[[], None] | None = None
) -> int:
    """Moves what waits in the SQLite inbox into the event table, then processes a batch of pending events.
    `ask_first`: look from snapshots before taking SQLite's write turn (an idle poll, a wake-up that
    another pass already served); a pass right after a full one skips the question. Calls `wake` (by
    default this process's `wake_dispatcher`) when the pass scheduled an email that is due now. Returns
    how many events it processed (none once the worker is stopping)."""
    with _work() as go:
        if not go:
            return 0
        result = _process_pass(limit, ask_first)
    if result.emails_due_now:
        (wake or wake_dispatcher)()
    return result.work


def _process_pass(limit: int, ask_first: bool) -> processing.ProcessingResult:
    engine = get_engine()
    box = inbox.for_engine(engine)
    if ask_first and not (box is not None and box.has_unmoved()):
        with read_scope(engine) as snapshot:
            if not processing.anything_pending(session=snapshot):
                return processing.ProcessingResult(processed=0, emails_due_now=False)
    if box is not None:
        with session_scope(engine) as session:
            storing.move_from_inbox(box=box, session=session)
        _trim_now_and_then(box)
    with session_scope(engine) as session:
        return processing.run_pass(session=session, limit=limit)


TRIM_EVERY_SECONDS = 1.0
_last_trim = 0.0


def _trim_now_and_then(box: inbox.Inbox) -> None:
    """Deleting moved rows takes the inbox's write lock, which the webhook waits for: once a second is enough."""
    global _last_trim
    if time.monotonic() - _last_trim >= TRIM_EVERY_SECONDS:
        _last_trim = time.monotonic()
        box.trim(upto=box.moved_upto)


async def processing_loop(*, wake_dispatcher: Callable[[], None]) -> None:
    """Lifespan task: drain pending events whenever woken, and poll in case another worker stored them;
    `wake_dispatcher` is called after a pass that scheduled an email due now.
    Short of a full batch it gathers for GATHER_SECONDS first: a pass has fixed costs (queries, commits),
    and taking an event or two at a time spent ~40% more CPU per event under load."""
    global _wake, _processing_here
    _wake = asyncio.Event()
    _processing_here = True
    done = 0
    while not _stopping.is_set():
        try:
            done = await asyncio.to_thread(process_available, ask_first=done < PROCESS_BATCH, wake=wake_dispatcher)
        except Exception:
            logger.exception("processing pass failed; retrying")
            done = 0
        if done >= PROCESS_BATCH:
            await asyncio.sleep(YIELD_SECONDS)
            continue
        if not done:
            _wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(_wake.wait(), timeout=IDLE_POLL_SECONDS)
        await asyncio.sleep(GATHER_SECONDS)


DISPATCH_INTERVAL_SECONDS = 1.0
_scheduler = None
_DISPATCH_JOB = "humanic-dispatcher"


@functools.lru_cache(maxsize=4)
def _rate_limiter(redis_url: str | None):
    """One limiter per process; with Redis, one for every worker of the deployment."""
    from humanic_app.services import rate_limit

    return rate_limit.RedisRateLimiter(redis_url) if redis_url else rate_limit.LocalRateLimiter()


def posthog_limiter():
    """The deployment's PostHog query budget (services/posthog/query.py): in Redis when it is configured,
    so every process's backfill, polling and reconciliation share it; otherwise this process's own."""
    from humanic_app.settings import get_settings

    return _posthog_limiter(get_settings().redis_url)


@functools.lru_cache(maxsize=4)
def _posthog_limiter(redis_url: str | None):
    from humanic_app.services.posthog import query

    return query.budget(redis_url)


def current_sender():
    """Resend when a key is in effect (the environment's, or the one set in Settings → Sending), otherwise
    the local outbox (nothing leaves the machine). Asked on every dispatcher pass, so a key set or removed
    in the UI takes effect without a restart; the Resend sender is rebuilt only when the key changes."""
    from humanic_app.services.sending import credentials

    with read_scope(get_engine()) as session:
        found = credentials.in_effect(session=session)
    return _sender_for(found.api_key, found.api_url)


@functools.lru_cache(maxsize=1)
def _sender_for(api_key: str | None, api_url: str | None):
    from humanic_app.services.delivery.senders import LocalOutboxSender
    from humanic_app.settings import get_settings

    if api_key is None:
        return LocalOutboxSender()
    from humanic_app.services.delivery.resend_sender import ResendSender

    return ResendSender(api_key=api_key, api_url=api_url, limiter=_rate_limiter(get_settings().redis_url))


def _public_url() -> str:
    from humanic_app.services import workspace

    with read_scope(get_engine()) as session:
        return workspace.links_base_url(workspace=workspace.read_workspace(session=session))


def dispatch_once() -> None:
    """One dispatcher pass: send everything due, batch after batch; a stopping worker finishes its
    current batch and starts no other."""
    with _work() as go:
        if go:
            _dispatch_batches()


def _dispatch_batches() -> None:
    from humanic_app.services.delivery import dispatcher

    try:
        sender, public_url = current_sender(), _public_url()
        while not _stopping.is_set():
            report = dispatcher.dispatch_due(engine=get_engine(), sender=sender, public_url=public_url)
            if report.sent + report.failed + report.retried + report.cancelled + report.held == 0:
                return  # nothing due: every row a pass holds back is moved later, so this loop ends
    except Exception:
        # counted and logged; the next tick tries again (a claim's rows are back under their lease or unclaimed)
        dispatcher.note_error(engine=get_engine(), where="pass")
        logger.exception("dispatcher pass failed; the next tick runs again")
    finally:
        report_pacing()


_pacing_reported: tuple[bool, float] = (False, 0.0)  # (pacing locally, monotonic time reported)


def report_pacing() -> None:
    """Tells Pipeline health whether this process paces its sends locally (Redis unreachable): when that
    changes, and every pacing.RENEW_EVERY while it lasts. Best effort: the database may be down too."""
    global _pacing_reported
    from humanic_app.services.delivery import pacing
    from humanic_app.settings import get_settings

    redis_url = get_settings().redis_url
    if not redis_url:
        return
    limiter = _rate_limiter(redis_url)
    if limiter.unreachable_since is not None:
        limiter.time_to_next()  # asks Redis again once its back-off is over: an idle worker notices it is back
    local = limiter.unreachable_since is not None
    was_local, at = _pacing_reported
    if local == was_local and not (local and time.monotonic() - at >= pacing.RENEW_EVERY.total_seconds()):
        return
    try:
        with session_scope(get_engine()) as session:
            pacing.report(session=session, holder=_lease_holder(), local=local)
    except Exception:
        logger.exception("could not record whether sends are paced locally")
        return
    _pacing_reported = (local, time.monotonic())


def recheck_domains() -> None:
    """Periodic re-check of domains that are not verified yet (or lost verification)."""
    from humanic_app.services import domains

    with session_scope(get_engine()) as session:
        if domains.configure_in_effect(session=session):
            domains.recheck_all(session=session)


def sweep_reputation() -> None:
    """The reputation guardrail's periodic look (services/reputation.py `sweep`)."""
    from humanic_app.services import reputation

    with session_scope(get_engine()) as session:
        for pause in reputation.sweep(session=session):
            logger.warning("reputation guardrail: %s", pause)


def refresh_planner_statistics() -> None:
    """Where PostgreSQL's autovacuum is off: analyzes each table that changed enough, a transaction each,
    so prepared statements are planned again for the data as it is now (services/planner_statistics.py).
    A table that cannot be analyzed now (locked) waits for the next period."""
    from humanic_app.services import planner_statistics

    engine = get_engine()
    with session_scope(engine) as session:
        tables = planner_statistics.stale_tables(session=session)
    analyzed = []
    for table in tables:
        try:
            with session_scope(engine) as session:
                planner_statistics.analyze(session=session, table=table)
        except OperationalError:
            logger.warning("could not analyze %s now; the next period tries again", table, exc_info=True)
        else:
            analyzed.append(table)
    if analyzed:
        logger.info("analyzed %s: autovacuum is off for them", ", ".join(analyzed))


def purge_sessions() -> None:
    """Deletes sign-ins that expired and failed-attempt counts that delay nothing any more: nothing else
    removes them."""
    from humanic_app.services import auth, sign_in_throttle

    with session_scope(get_engine()) as session:
        purged = auth.purge_expired_sessions(session=session)
        sign_in_throttle.purge_forgotten(session=session)
    if purged:
        logger.info("purged %d expired sign-in sessions", purged)


# Between batches the job rests at least as long as the batch took (and PRUNE_PAUSE_SECONDS): on SQLite the
# webhook's processing takes the write turn meanwhile, and on a small machine pruning takes at most about
# half of a core. At ~7,000 rows/s flat out, half speed still prunes an hour of 100 events/s in ~100 s.
PRUNE_PAUSE_SECONDS = 0.02


def prune_old_data(keep_going: Callable[[], bool] = lambda: not _stopping.is_set()) -> None:
    """Retention: prunes old payloads and delivery events a batch per transaction (services/retention.py),
    each batch taking and giving back the write turn like any other writer, with a rest in between.
    `keep_going` is asked between batches (by default: until the worker stops; the bench stops a run
    early with it)."""
    from humanic_app import clock
    from humanic_app.services import retention

    events = delivery_events = 0
    while True:
        started = time.monotonic()
        with session_scope(get_engine()) as session:
            batch = retention.prune_batch(session=session, now=clock.now())
        events, delivery_events = events + batch.events, delivery_events + batch.delivery_events
        if not batch.more or not keep_going():
            break
        time.sleep(max(PRUNE_PAUSE_SECONDS, time.monotonic() - started))
    with session_scope(get_engine()) as session:
        retention.record_run(session=session, now=clock.now(), events=events, delivery_events=delivery_events)
    if events or delivery_events:
        logger.info("retention pruned %d event payloads and %d delivery events", events, delivery_events)


def write_back_to_posthog() -> None:
    """The periodic job: the write-back's drain (`drain_to_posthog`)."""
    written = drain_to_posthog()
    if written:
        logger.info("wrote events back to PostHog: %d", written)


def drain_to_posthog(post=None) -> int:
    """Drains the PostHog capture outbox, a batch per call, until it is empty, write-back is off, or a call
    failed (services/posthog/writeback.py backs off). No transaction is open during a call. Returns how
    many events PostHog accepted. `post` replaces the HTTP call (tests, bench)."""
    from humanic_app.services.posthog import writeback

    written = 0
    while True:
        with read_scope(get_engine()) as snapshot:
            if not writeback.anything_due(session=snapshot):
                return written
        with session_scope(get_engine()) as session:
            batch = writeback.next_batch(session=session)
        if batch is None:
            return written
        answer = writeback.send(batch, post=post or writeback.http_post)
        with session_scope(get_engine()) as session:
            writeback.record(session=session, batch=batch, answer=answer)
        if not answer.ok:
            return written
        written += len(batch.ids)


def poll_posthog() -> None:
    """The periodic job: pull-only mode's poll (`pull_from_posthog`)."""
    stored = pull_from_posthog()
    if stored:
        logger.info("pulled new events from PostHog: %d", stored)


def pull_from_posthog(sleep: Callable[[float], None] = time.sleep) -> int:
    """The periodic job of pull-only mode (services/posthog_pull.py): when a poll is due, reads PostHog's
    new events within the deployment's query budget, outside any transaction, and stores the new ones.
    Returns how many it stored."""
    from humanic_app import clock

    pull = posthog_pull
    with session_scope(get_engine()) as session:
        try:
            plan = pull.plan(session=session, limiter=posthog_limiter(), now=clock.now(), sleep=sleep)
        except pull.FAILURES as exc:
            _pull_failed(session, exc)
            return 0
    if plan is None:
        return 0
    try:
        fetched = pull.fetch(plan)
    except pull.FAILURES as exc:
        with session_scope(get_engine()) as session:
            _pull_failed(session, exc)
        return 0
    with session_scope(get_engine()) as session:
        stored = pull.record(session=session, plan=plan, fetched=fetched, now=clock.now())
    if stored:
        wake_processing()
    return stored


def _pull_failed(session, exc: Exception) -> None:
    """Recorded for Pipeline health and logged: the cursor stays, so the next poll reads the same events."""
    from humanic_app import clock

    posthog_pull.record_failure(session=session, error=exc, now=clock.now())
    logger.warning("pulling events from PostHog failed: %s; the next poll reads them again", posthog_pull.describe(exc))


def reconcile_with_posthog() -> None:
    """The periodic job of reconciliation (services/posthog_reconcile.py): PostHog's hourly counts of the
    names campaigns read against what Humanic received, the query outside any transaction."""
    from humanic_app import clock
    from humanic_app.services import posthog_reconcile as reconcile

    with session_scope(get_engine()) as session:
        plan = reconcile.plan(session=session, limiter=posthog_limiter(), now=clock.now())
    if plan is None:
        return
    try:
        counts = reconcile.posthog_counts(plan)
    except reconcile.FAILURES as exc:
        logger.warning("reconciliation with PostHog failed (%s); it runs again next hour", type(exc).__name__)
        with session_scope(get_engine()) as session:
            reconcile.record_failure(session=session, error=exc, now=clock.now())
        return
    with session_scope(get_engine()) as session:
        gaps = reconcile.record(session=session, plan=plan, posthog=counts, now=clock.now())
    for gap in gaps:
        logger.warning(
            "PostHog recorded %s %s in the last hour; Humanic received %s", gap["posthog"], gap["event"], gap["humanic"]
        )


def keep_cohorts_in_sync() -> None:
    """The periodic job: the cohort sync (`sync_posthog_cohorts`)."""
    sync_posthog_cohorts()


def sync_posthog_cohorts(sleep: Callable[[float], None] = time.sleep) -> int:
    """The periodic job: re-imports each kept-in-sync PostHog cohort whose hour is up, one transaction each
    (services/posthog_cohorts.py); a failure is recorded on its cohort, which is tried again next period.
    Returns how many synced."""
    from humanic_app.services import posthog_cohorts as cohorts
    from humanic_app.services.errors import ServiceError, ValidationFailed

    with read_scope(get_engine()) as snapshot:
        due = [(c.id, c.posthog_id) for c in cohorts.due(session=snapshot)]
    synced = 0
    for cohort_id, posthog_id in due:
        assert cohort_id is not None  # stored rows have ids
        try:
            with session_scope(get_engine()) as session:
                cohorts.sync(session=session, posthog_id=posthog_id, limiter=posthog_limiter(), sleep=sleep)
            synced += 1
        except ServiceError as exc:
            said = " ".join(exc.field_errors.values()) if isinstance(exc, ValidationFailed) else str(exc)
            with session_scope(get_engine()) as session:
                cohorts.record_failure(session=session, cohort_id=cohort_id, error=said)
    return synced


@dataclasses.dataclass(frozen=True)
class PeriodicJob:
    name: str  # also the name of its lease
    period: timedelta
    run: Callable[[], None]
    # False for a job that runs every few seconds: a line per run would bury the log (thousands a day), so
    # its runs are logged at DEBUG; what it did and its failures are logged as any job's
    log_runs: bool = True


PERIODIC_JOBS = [
    PeriodicJob("domain-recheck", timedelta(minutes=10), recheck_domains),
    PeriodicJob("session-purge", timedelta(hours=1), purge_sessions),
    PeriodicJob("planner-statistics", timedelta(seconds=15), refresh_planner_statistics, log_runs=False),
    PeriodicJob("reputation-sweep", timedelta(minutes=5), sweep_reputation),
    PeriodicJob("retention", timedelta(hours=1), prune_old_data),
    PeriodicJob("posthog-writeback", timedelta(seconds=5), write_back_to_posthog, log_runs=False),
    PeriodicJob("posthog-pull", posthog_pull.TICK, poll_posthog, log_runs=False),
    PeriodicJob("posthog-reconcile", timedelta(hours=1), reconcile_with_posthog),
    PeriodicJob("posthog-cohort-sync", timedelta(minutes=5), keep_cohorts_in_sync),
]


@functools.lru_cache(maxsize=1)
def _lease_holder() -> str:
    from humanic_app.services import leases

    return leases.process_holder()


def run_periodic(job: PeriodicJob) -> bool:
    """Runs the job if this process takes its lease for the coming period: every worker ticks every job
    once per period, and only the first to ask once the last lease ran out (or its holder, renewing) gets
    it, so however many workers run, the job runs once per period. The lease is committed before the job:
    a job that fails waits for the next period like one that succeeded."""
    with _work() as go:
        return go and _run_under_lease(job)


def _run_under_lease(job: PeriodicJob) -> bool:
    from humanic_app.services import leases

    with session_scope(get_engine()) as session:
        if not leases.try_acquire(session=session, name=job.name, holder=_lease_holder(), ttl=job.period):
            return False
    try:
        job.run()
    except Exception:
        logger.exception("periodic job %s failed; it runs again next period", job.name)
    else:
        level = logging.INFO if job.log_runs else logging.DEBUG
        logger.log(level, "periodic job %s ran (lease holder %s)", job.name, _lease_holder())
    return True


def wake_dispatcher() -> None:
    """Run this process's dispatcher now (a zero-delay message was just written) instead of at the next
    tick. Other processes wake it through the background worker's pipe (background.wake_dispatcher)."""
    from datetime import datetime

    if _scheduler is not None:
        with contextlib.suppress(Exception):
            _scheduler.modify_job(_DISPATCH_JOB, next_run_time=datetime.now(UTC))


@contextlib.asynccontextmanager
async def dispatcher_ticker():
    """Lifespan task: APScheduler ticks the outbox dispatcher and the periodic jobs. It only wakes the
    dispatcher; pending sends live in the database, so nothing is lost while the app is down (due messages
    go out on start). Periodic jobs run through their leases (`run_periodic`)."""
    global _scheduler
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    _scheduler = AsyncIOScheduler(timezone="UTC")
    _scheduler.add_job(
        dispatch_once,
        "interval",
        seconds=DISPATCH_INTERVAL_SECONDS,
        id=_DISPATCH_JOB,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    for job in PERIODIC_JOBS:
        _scheduler.add_job(
            run_periodic,
            "interval",
            args=(job,),
            seconds=job.period.total_seconds(),
            id=f"humanic-{job.name}",
            coalesce=True,
            max_instances=1,
        )
    _scheduler.start()
    try:
        yield
    finally:
        _scheduler.shutdown(wait=False)
        _scheduler = None
