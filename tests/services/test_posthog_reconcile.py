"""Reconciliation (services/posthog_reconcile.py, the worker's `posthog-reconcile` job) against the fake
PostHog's count queries: a gap over the threshold becomes a finding with the backfill that recovers it,
a small or no gap does not, every source counts as received, and the backfill it offers closes it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from humanic_app import clock, db, workers
from humanic_app.services import (
    diagnostics,
    posthog_backfill as backfill,
    posthog_reconcile as reconcile,
    processing,
    rate_limit,
)
from humanic_app.services.intake import payloads, storing
from humanic_app.services.posthog import connection, query
from humanic_app.services.samples import posthog_event
from tests.support.campaign_world import T0, World, linear

NOW = T0 + timedelta(hours=2)
UNTIL = NOW - reconcile.LAG
SINCE = UNTIL - reconcile.WINDOW


@pytest.fixture
def world(session, engine, posthog, operator_secret_in_tmp, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    db.use_engine(engine)
    found = World(session)
    found.campaign(linear("onboarding-activation"))  # reads user_signed_up and subscription_upgraded
    connection.save(
        session=session,
        host=posthog.url,
        api_key=posthog.api_key,
        personal_api_key=posthog.personal_api_key,
        project_id=posthog.project_id,
    )
    session.commit()
    yield found
    db.use_engine(None)


def _in_posthog(posthog, n: int, event: str = "user_signed_up", at: datetime = SINCE + timedelta(minutes=1)) -> list:
    uuids = [f"0190d5a4-0000-7000-8000-{event[:4].encode().hex()}{i:04d}" for i in range(n)]
    for i, uuid in enumerate(uuids):
        posthog.add_event(
            uuid=uuid,
            event=event,
            distinct_id=f"u{i}",
            timestamp=(at + timedelta(seconds=i)).astimezone(UTC).isoformat(),
            properties={"email": f"p{i}@example.com"},
        )
    return uuids


def _delivered(world, uuids: list[str], event: str = "user_signed_up") -> None:
    """Those events, as the webhook delivered them (the same PostHog uuid)."""
    events = []
    for i, uuid in enumerate(uuids):
        at = SINCE + timedelta(minutes=1, seconds=i)
        body = posthog_event(event=event, distinct_id=f"u{i}", email=f"p{i}@example.com", timestamp=at, event_uuid=uuid)
        events += payloads.parse_body(json.dumps(body).encode(), None)
    delivery = storing.Delivery(source_id=world.source.id, headers={}, events=events)
    storing.store_deliveries(session=world.session, deliveries=[delivery])
    while processing.process_pending(session=world.session):
        pass


def _reconcile(session) -> list:
    session.commit()
    workers.reconcile_with_posthog()
    session.expire_all()
    return diagnostics.run_checks(session=session, resend_configured=False)


def _gap_findings(findings) -> list:
    return [f for f in findings if f.key.startswith("posthog_gap:")]


def test_a_gap_is_a_finding_with_the_backfill_that_recovers_it(session, world, posthog):
    _delivered(world, _in_posthog(posthog, 20)[:12])
    (gap,) = _gap_findings(_reconcile(session))
    assert gap.key == "posthog_gap:user_signed_up"
    assert gap.problem.startswith("PostHog recorded 20 user_signed_up in the last hour")
    assert gap.problem.endswith("Humanic received 12.")
    assert gap.backfill == {
        "events": ["user_signed_up"],
        "since": SINCE.isoformat(),
        "until": UNTIL.isoformat(),
        "dry_run": True,
        "fire_emails": False,
    }
    assert diagnostics.finding_as_dict(gap)["backfill"] == gap.backfill
    link = urlsplit(gap.href)  # the one click: the backfill panel filled in with the gap's window
    assert (link.path, link.fragment) == ("/settings", "posthog-backfill")
    assert parse_qs(link.query) == {
        "backfill_events": ["user_signed_up"],
        "since": [SINCE.isoformat()],
        "until": [UNTIL.isoformat()],
    }
    asked = backfill.Asked(**{**gap.backfill, "since": SINCE, "until": UNTIL, "dry_run": False})
    limiter = rate_limit.LocalRateLimiter(query.REQUESTS_PER_SECOND)
    assert backfill.run(session=session, asked=asked, limiter=limiter, sleep=lambda s: None)["imported"] == 8
    assert _gap_findings(_reconcile(session)) == []  # the backfilled events count as received


@pytest.mark.parametrize(("recorded", "received"), [(20, 16), (20, 20)])
def test_a_gap_under_five_events_is_no_finding(session, world, posthog, recorded, received):
    _delivered(world, _in_posthog(posthog, recorded)[:received])
    assert _gap_findings(_reconcile(session)) == []


def test_a_gap_must_be_over_one_percent_and_at_least_five_events():
    assert reconcile.gaps({"a": 600, "b": 600, "c": 10}, {"a": 595, "b": 593, "c": 5}) == [
        {"event": "b", "posthog": 600, "humanic": 593},
        {"event": "c", "posthog": 10, "humanic": 5},
    ]


def test_only_names_campaigns_read_are_counted_in_the_window(session, world, posthog):
    _in_posthog(posthog, 10, event="page_viewed")  # no campaign reads it
    _in_posthog(posthog, 10, at=UNTIL + timedelta(minutes=1))  # after the window: maybe still on its way
    _in_posthog(posthog, 10, event="subscription_upgraded", at=SINCE - timedelta(minutes=30))  # before it
    assert _gap_findings(_reconcile(session)) == []
    (counted,) = posthog.queries
    assert counted["values"]["events"] == ["subscription_upgraded", "user_signed_up"]


def test_posthog_failing_keeps_the_last_result_raises_nothing_and_says_why_until_it_runs(session, world, posthog):
    _in_posthog(posthog, 20)
    assert len(_gap_findings(_reconcile(session))) == 1
    posthog.inject(500)
    findings = _reconcile(session)
    assert len(_gap_findings(findings)) == 1  # as last known; the job tries again next hour
    (failed,) = [f for f in findings if f.key == "posthog_reconcile"]  # and Pipeline health says why
    assert failed.problem.startswith("The hourly check of PostHog's counts could not run at ")
    assert "500" in failed.problem
    assert [f.key for f in _reconcile(session) if f.key == "posthog_reconcile"] == []  # it ran: no failure left
