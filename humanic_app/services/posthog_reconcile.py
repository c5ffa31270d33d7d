"""Reconciliation: once an hour per deployment (the worker's `posthog-reconcile` job, under its lease),
PostHog's count of each event name the active campaigns read (campaigns.schema.event_names: the names the
destination is meant to send) over the last WINDOW is compared with what Humanic received of those names
with an event time in the same window, whatever the source (webhook, backfill, pull). The window ends LAG
ago, so events still on their way (PostHog's ingestion, the destination's retries) are not counted as
missing. A name short by more than MIN_SHARE of PostHog's count and at least MIN_GAP events is a gap,
kept on the connection (`reconcile_gaps`) and shown as a finding whose `backfill` holds the body of
POST /api/v1/posthog/backfill that imports the window (a dry run first, firing nothing)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from humanic_app.models import Event, EventOutcome
from humanic_app.services.campaigns import engine
from humanic_app.services.errors import Conflict, ValidationFailed
from humanic_app.services.posthog import connection, query
from humanic_app.services.rate_limit import RateLimiter

PERIOD = timedelta(hours=1)
WINDOW = timedelta(hours=1)
LAG = timedelta(minutes=10)
MIN_GAP, MIN_SHARE = 5, 0.01
FAILURES = (ValidationFailed, Conflict)
_COUNT = (
    "SELECT event, count() FROM events WHERE event IN {events} AND timestamp >= toDateTime({since}) "
    "AND timestamp < toDateTime({until}) GROUP BY event"
)


@dataclasses.dataclass(frozen=True)
class Plan:
    client: query.Client
    events: list[str]
    since: datetime
    until: datetime


def plan(*, session: Session, limiter: RateLimiter, now: datetime) -> Plan | None:
    """What to compare now, or None: no query key and project set, or no campaign reads any event."""
    found = connection.row(session=session)
    if found is None or not found.project_id or connection.personal_api_key(found) is None:
        return None
    names = engine.used_event_names(session)
    if not names:
        return None
    until = now - LAG
    client = query.client(session=session, limiter=limiter)
    return Plan(client=client, events=names, since=until - WINDOW, until=until)


def posthog_counts(found: Plan) -> dict[str, int]:
    """PostHog's count per name in the window (no transaction should be open). Raises FAILURES."""
    values = {"events": found.events, "since": found.since.isoformat(), "until": found.until.isoformat()}
    rows = found.client.hogql(_COUNT, values)["results"]
    return {str(r[0]): int(r[1]) for r in rows if isinstance(r, list) and len(r) >= 2 and str(r[1]).isdigit()}


def received_counts(*, session: Session, events: list[str], since: datetime, until: datetime) -> dict[str, int]:
    """Humanic's events per name with an event time in the window, every source, repeats not counted."""
    rows = session.exec(
        select(Event.event_name, func.count())
        .where(
            col(Event.event_name).in_(events),
            col(Event.timestamp) >= since,
            col(Event.timestamp) < until,
            col(Event.outcome).not_in([EventOutcome.duplicate, EventOutcome.rejected]),
        )
        .group_by(col(Event.event_name))
    ).all()
    return {str(name): int(n) for name, n in rows}


def gaps(posthog: dict[str, int], humanic: dict[str, int]) -> list[dict[str, Any]]:
    """The names PostHog counted more of than Humanic received, by more than the thresholds."""
    found: list[dict[str, Any]] = []
    for name, recorded in sorted(posthog.items()):
        missing = recorded - humanic.get(name, 0)
        if missing >= MIN_GAP and missing > MIN_SHARE * recorded:
            found.append({"event": name, "posthog": recorded, "humanic": humanic.get(name, 0)})
    return found


def record(*, session: Session, plan: Plan, posthog: dict[str, int], now: datetime) -> list[dict[str, Any]]:
    """Compares and keeps the result on the connection; returns the gaps, each with its window."""
    humanic = received_counts(session=session, events=plan.events, since=plan.since, until=plan.until)
    window = {"since": plan.since.isoformat(), "until": plan.until.isoformat()}
    found_gaps = [{**gap, **window} for gap in gaps(posthog, humanic)]
    found = connection.row(session=session)
    if found is not None:
        found.reconciled_at, found.reconcile_gaps = now, found_gaps
        found.reconcile_error, found.reconcile_failed_at = "", None
        session.add(found)
    return found_gaps


def record_failure(*, session: Session, error: Exception, now: datetime) -> None:
    """Keeps why the check could not run; the last gaps found stay as they were."""
    found = connection.row(session=session)
    if found is not None:
        found.reconcile_error, found.reconcile_failed_at = str(error)[:1000], now
        session.add(found)


def problem(*, session: Session) -> str | None:
    """Pipeline health's line when the last check could not run."""
    found = connection.row(session=session)
    if found is None or not found.reconcile_error or found.reconcile_failed_at is None:
        return None
    return (
        f"The hourly check of PostHog's counts could not run at {found.reconcile_failed_at:%H:%M} UTC: "
        f"{found.reconcile_error}"
    )


def findings(*, session: Session) -> list[tuple[str, str, dict[str, Any]]]:
    """(key, problem, backfill request body) for each gap of the last reconciliation."""
    found = connection.row(session=session)
    if found is None:
        return []
    return [(f"posthog_gap:{g['event']}", describe(g), backfill_body(g)) for g in found.reconcile_gaps]


def describe(gap: dict[str, Any]) -> str:
    return (
        f"PostHog recorded {gap['posthog']:,} {gap['event']} in the last hour (to {gap['until'][11:16]} UTC); "
        f"Humanic received {gap['humanic']:,}."
    )


def backfill_body(gap: dict[str, Any]) -> dict[str, Any]:
    """The body of POST /api/v1/posthog/backfill that imports the gap's window: a dry run, firing nothing."""
    return {
        "events": [gap["event"]],
        "since": gap["since"],
        "until": gap["until"],
        "dry_run": True,
        "fire_emails": False,
    }
