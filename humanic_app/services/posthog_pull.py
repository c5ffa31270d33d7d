"""Pull-only mode: for teams that cannot add a webhook destination (no public URL, a self-hosted PostHog
behind a firewall), the worker polls PostHog's query API for new events instead.

Every `pull_interval_s` (Settings → PostHog), the periodic job `posthog-pull` reads the events of every
name the active campaigns read (campaigns.schema.event_names) from the stored cursor less OVERLAP up to
now, so events PostHog ingests late (up to OVERLAP after they happened) are still read; what was read
before is skipped by PostHog uuid, whatever the source, exactly as backfill skips it. New events are
stored through intake's `store_deliveries` as a delivery of no webhook source, the header PULLED_HEADER
saying where they came from, and flow on exactly as webhook events do: they enrol, resume and send.

The worker runs it in three steps so no transaction is open during PostHog's answers: `plan` (when due),
`fetch`, then `record` or `record_failure`. A failed poll keeps the cursor (the next one reads the same
window again), counts in Pipeline health and shows as a finding (`problem`)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Session

from humanic_app.services import posthog_backfill as backfill, stats
from humanic_app.services.campaigns import engine
from humanic_app.services.errors import Conflict, ValidationFailed
from humanic_app.services.intake import storing
from humanic_app.services.posthog import connection, query
from humanic_app.services.rate_limit import RateLimiter

OVERLAP = timedelta(minutes=5)  # how late PostHog may ingest an event and the next poll still read it
TICK = timedelta(seconds=connection.PULL_MIN_S)  # the job's period; each poll waits its own interval out
PULLED_HEADER = "x-humanic-pulled"  # in the stored event's headers: polled from PostHog, not delivered
FAILURES = (ValidationFailed, Conflict)  # PostHog refused, limited or did not answer


@dataclasses.dataclass(frozen=True)
class Plan:
    client: query.Client
    asked: backfill.Asked


def plan(
    *, session: Session, limiter: RateLimiter, now: datetime, sleep: Callable[[float], None] = time.sleep
) -> Plan | None:
    """The window to read now, or None: pulling off, not due yet, or no campaign reads any event (then
    the cursor moves to now, so a campaign activated later is not fed what happened before). Notes the
    poll's start either way, so a failing poll waits its interval too. Raises FAILURES when the
    connection lacks what the query API needs."""
    found = connection.row(session=session)
    if found is None or not found.pull_enabled or not _due(found.pull_last_at, found.pull_interval_s, now):
        return None
    found.pull_last_at = now
    names = engine.used_event_names(session)
    if not names:
        found.pull_cursor = now
        return None
    client = query.client(session=session, limiter=limiter, sleep=sleep)
    since = (found.pull_cursor or now) - OVERLAP
    return Plan(client, backfill.Asked(events=names, since=since, until=now, fire_emails=True, dry_run=False))


def _due(last_at: datetime | None, interval_s: int, now: datetime) -> bool:
    return last_at is None or now - last_at >= timedelta(seconds=interval_s)


def fetch(found: Plan) -> backfill.Fetched:
    """PostHog's events in the window (no transaction should be open). Raises FAILURES."""
    return backfill.fetch(found.client, found.asked)


def record(*, session: Session, plan: Plan, fetched: backfill.Fetched, now: datetime) -> int:
    """Stores the events not received before (storing commits, as the webhook's does) and moves the
    cursor: to the window's end, or where an incomplete read stopped. Returns how many were new."""
    _, fresh = backfill.sorted_out(session=session, rows=fetched.rows)
    if fresh:
        delivery = storing.Delivery(source_id=None, headers={PULLED_HEADER: "1"}, events=fresh)
        storing.store_deliveries(session=session, deliveries=[delivery])
    found = connection.row(session=session)
    if found is not None:
        found.pull_cursor = _cursor(plan.asked, fetched)
        found.pull_failures, found.pull_last_error, found.pull_last_pulled = 0, "", len(fresh)
        session.add(found)
    if fresh:
        stats.count(session, name="posthog_pulled", at=now, n=len(fresh))
    return len(fresh)


def _cursor(asked: backfill.Asked, fetched: backfill.Fetched) -> datetime:
    """The next poll starts OVERLAP before the cursor: where an incomplete read stopped, it starts there."""
    if fetched.complete or fetched.resume_since is None:
        return asked.until
    return min(datetime.fromisoformat(fetched.resume_since) + OVERLAP, asked.until)


def record_failure(*, session: Session, error: Exception, now: datetime) -> None:
    found = connection.row(session=session)
    if found is None:
        return
    found.pull_failures += 1
    found.pull_last_error, found.pull_last_error_at = describe(error)[:1000], now
    session.add(found)
    stats.count(session, name="posthog_pull_failed", key=type(error).__name__, at=now)


def describe(error: Exception) -> str:
    if isinstance(error, ValidationFailed):
        return " ".join(error.field_errors.values())
    return str(error)


def problem(*, session: Session) -> str | None:
    """Why polling fails now; None when it is off or well."""
    found = connection.row(session=session)
    if found is None or not found.pull_enabled or not found.pull_failures:
        return None
    since = f" since {found.pull_cursor:%Y-%m-%d %H:%M} UTC" if found.pull_cursor else ""
    return (
        f"Pulling events from PostHog is failing ({found.pull_failures} polls in a row): {found.pull_last_error} "
        f"Nothing is lost: the next poll reads again every event{since}."
    )
