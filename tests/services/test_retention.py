"""Retention: old payloads cleared (event rows, decisions and counters kept), old delivery events deleted,
a batch at a time; on SQLite and PostgreSQL."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, func, select

from humanic_app import clock
from humanic_app.models import DeliveryEvent, Event, EventOutcome, Stat
from humanic_app.services import event_log, retention, stats, workspace
from humanic_app.services.campaigns import journeys
from humanic_app.services.errors import ValidationFailed

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
DECISIONS = [{"campaign": "Welcome", "fired": True, "reason": "trigger matched"}]


def _event(session, days_old: float, *, outcome=EventOutcome.processed, name="signed_up") -> Event:
    at = NOW - timedelta(days=days_old)
    event = Event(
        received_at=at,
        timestamp=at,
        outcome=outcome,
        event_name=name,
        distinct_id="u1",
        payload={"event": name, "properties": {"plan": "pro", "email": "ada@example.com"}},
        headers={"user-agent": "PostHog"},
        mapped={"email": "ada@example.com"},
        decisions=DECISIONS,
    )
    session.add(event)
    session.flush()
    return event


def _delivery(session, days_old: float, n: int) -> DeliveryEvent:
    row = DeliveryEvent(
        svix_id=f"msg_{n}",
        type="email.delivered",
        payload={"to": "ada@example.com"},
        received_at=NOW - timedelta(days=days_old),
    )
    session.add(row)
    session.flush()
    return row


def _prune_all(session, limit=retention.BATCH) -> tuple[int, int]:
    events = deliveries = 0
    while True:
        batch = retention.prune_batch(session=session, now=NOW, limit=limit)
        events, deliveries = events + batch.events, deliveries + batch.delivery_events
        if not batch.more:
            return events, deliveries


def test_old_payloads_and_delivery_events_go_recent_ones_and_counters_stay(session):
    old, recent = _event(session, 91), _event(session, 89)
    _delivery(session, 120, 1), _delivery(session, 91, 2)
    kept = _delivery(session, 10, 3)
    stats.bump(session, Counter({(stats.hour_of(NOW - timedelta(days=91)), "received", "1"): 5}))

    assert _prune_all(session) == (1, 2)
    session.expire_all()

    pruned = session.get(Event, old.id)
    assert (pruned.payload, pruned.headers, pruned.mapped) == (None, None, None)
    assert pruned.pruned_at == NOW
    assert (pruned.event_name, pruned.timestamp, pruned.outcome, pruned.decisions) == (
        "signed_up",
        NOW - timedelta(days=91),
        EventOutcome.processed,
        DECISIONS,
    )
    assert "Pruned on 2026-12-02" in event_log.pruned_note(pruned)
    # SQL NULL, not JSON null: "latest event with a payload" lookups skip pruned rows
    assert session.exec(select(func.count()).select_from(Event).where(col(Event.payload).is_(None))).one() == 1
    fresh = session.get(Event, recent.id)
    assert fresh.payload["properties"]["plan"] == "pro" and fresh.pruned_at is None
    assert event_log.pruned_note(fresh) == ""
    assert [d.id for d in session.exec(select(DeliveryEvent))] == [kept.id]
    assert stats.totals(session=session, name="received") == {"1": 5}
    assert stats.totals(session=session, name="pruned") == {"events": 1, "delivery_events": 2}


def test_pruned_events_still_count_for_journeys(session):
    old = _event(session, 100)
    _prune_all(session)
    seen = journeys.seen(session, {}, name="signed_up", since=NOW - timedelta(days=365), until=NOW, contact_id=None)
    assert [(s.event_id, s.properties) for s in seen] == [(old.id, {})]


def test_batches_respect_the_limit_and_resume_where_they_ended(session):
    for _ in range(7):
        _event(session, 95)
    for n in range(4):
        _delivery(session, 95, n)
    _event(session, 5)

    first = retention.prune_batch(session=session, now=NOW, limit=3)
    assert (first.events, first.delivery_events, first.more) == (3, 3, True)
    second = retention.prune_batch(session=session, now=NOW, limit=3)
    assert (second.events, second.delivery_events, second.more) == (3, 1, True)
    third = retention.prune_batch(session=session, now=NOW, limit=3)
    assert (third.events, third.delivery_events, third.more) == (1, 0, False)
    assert session.exec(select(func.count()).select_from(Event).where(col(Event.pruned_at).is_not(None))).one() == 7
    upto = retention.state(session=session).events_pruned_upto
    assert retention.prune_batch(session=session, now=NOW, limit=3).events == 0
    assert retention.state(session=session).events_pruned_upto == upto


def test_an_unprocessed_event_is_never_pruned_and_stops_the_walk(session):
    waiting = _event(session, 95, outcome=EventOutcome.pending)
    later = _event(session, 94)
    assert _prune_all(session) == (0, 0)
    session.expire_all()
    assert session.get(Event, waiting.id).payload is not None
    assert session.get(Event, later.id).payload is not None


def test_the_window_follows_the_setting(session):
    old = _event(session, 40)
    assert _prune_all(session) == (0, 0)
    workspace.update_workspace(session=session, changes={"retention_days": 30})
    assert _prune_all(session) == (1, 0)
    session.expire_all()
    assert session.get(Event, old.id).pruned_at == NOW


def test_record_run_is_what_health_shows(session):
    assert retention.state(session=session).last_run_at is None
    retention.record_run(session=session, now=NOW, events=12, delivery_events=3)
    found = retention.state(session=session)
    assert (found.last_run_at, found.last_run_events, found.last_run_delivery_events) == (NOW, 12, 3)
    assert session.exec(select(func.count()).select_from(Stat)).one() == 0  # the run itself counts nothing


@pytest.mark.parametrize("days", [0, -1, 3651, "ten", "", None, True, 1.5])
def test_the_setting_is_validated(session, days):
    with pytest.raises(ValidationFailed) as err:
        workspace.update_workspace(session=session, changes={"retention_days": days})
    assert set(err.value.field_errors) == {"retention_days"}
    assert workspace.get_workspace(session=session).retention_days == 90


@pytest.mark.parametrize("days", [1, 90, 3650])
def test_the_setting_accepts_a_day_to_ten_years(session, days):
    assert workspace.update_workspace(session=session, changes={"retention_days": days}).retention_days == days


def test_the_worker_job_prunes_batch_after_batch_and_records_its_run(engine, monkeypatch):
    from humanic_app import workers

    monkeypatch.setattr(workers, "get_engine", lambda: engine)
    monkeypatch.setattr(workers, "PRUNE_PAUSE_SECONDS", 0)  # it still rests as long as each batch took
    monkeypatch.setattr(clock, "now", lambda: NOW)
    with Session(engine) as session:
        for _ in range(retention.BATCH * 2 + 100):
            _event(session, 100)
        session.commit()

    asked = []
    workers.prune_old_data(keep_going=lambda: asked.append(1) is None and len(asked) < 2)
    with Session(engine) as session:
        run = retention.state(session=session)
        assert (run.last_run_at, run.last_run_events) == (NOW, retention.BATCH * 2)  # stopped when told

    workers.prune_old_data()
    with Session(engine) as session:
        assert retention.state(session=session).last_run_events == 100
        assert session.exec(select(func.count()).select_from(Event).where(col(Event.pruned_at).is_(None))).one() == 0
