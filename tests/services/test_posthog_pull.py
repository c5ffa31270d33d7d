"""Pull-only mode (services/posthog_pull.py, the worker's `posthog-pull` job) against the fake PostHog
(tests/support/fake_posthog.py): an event in PostHog is polled, processed like a webhook event and its
email sent once; overlapping polls and a late-ingested event; failures kept visible; the one list of a
campaign's event names."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from humanic_app import clock, db, workers
from humanic_app.models import Contact, Event, Message, MessageStatus, PosthogConnection
from humanic_app.services import diagnostics, posthog_pull, processing
from humanic_app.services.campaigns import engine as campaign_engine
from humanic_app.services.campaigns.schema import CampaignDocument, event_names
from humanic_app.services.dashboard import health
from humanic_app.services.delivery.senders import LocalOutboxSender
from humanic_app.services.errors import ValidationFailed
from humanic_app.services.posthog import connection
from tests.support.campaign_world import T0, World, linear
from tests.support.dispatching import dispatch

A = "0190d5a4-0000-7000-8000-0000000000a1"
B = "0190d5a4-0000-7000-8000-0000000000b2"


class Clock:
    def __init__(self, monkeypatch):
        self.now = T0 + timedelta(minutes=1)
        monkeypatch.setattr(clock, "now", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def moment(operator_secret_in_tmp, monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def world(session, engine, posthog, moment):
    """Onboarding (trigger user_signed_up, goal subscription_upgraded) active, PostHog connected in
    pull-only mode; the worker's jobs use the test's database."""
    db.use_engine(engine)
    found = World(session)
    found.campaign(linear("onboarding-activation"))
    connection.save(
        session=session,
        host=posthog.url,
        api_key=posthog.api_key,
        personal_api_key=posthog.personal_api_key,
        project_id=posthog.project_id,
        pull_enabled=True,
    )
    session.commit()
    yield found
    db.use_engine(None)


def _signed_up(posthog, uuid: str, email: str, at: datetime) -> None:
    posthog.add_event(
        uuid=uuid,
        event="user_signed_up",
        distinct_id=email.split("@")[0],
        timestamp=at.astimezone(UTC).isoformat(),
        properties={"email": email},
    )


def _poll(session) -> int:
    """One tick of the job, then processing, as the worker would run them."""
    session.commit()
    stored = workers.pull_from_posthog(sleep=lambda s: None)
    while processing.process_pending(session=session):
        pass
    session.commit()
    return stored


def _count(session, model, *where) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def _row(session) -> PosthogConnection:
    session.expire_all()
    found = connection.row(session=session)
    assert found is not None
    return found


def test_an_event_in_posthog_is_pulled_processed_and_emailed_once(session, engine, world, posthog, moment):
    _signed_up(posthog, A, "ada@example.com", moment.now - timedelta(seconds=30))
    assert _poll(session) == 1
    event = session.exec(select(Event).where(Event.event_uuid == A)).one()
    assert event.source_id is None and event.headers == {posthog_pull.PULLED_HEADER: "1"}
    assert any(d["fired"] for d in event.decisions)  # it enrols, unlike a quiet backfill
    assert dispatch(session, engine, LocalOutboxSender()).sent == 1
    ada = session.exec(select(Contact).where(Contact.email == "ada@example.com")).one()
    moment.advance(30)  # the next poll re-reads the overlap: Ada's event again, and nothing new
    assert _poll(session) == 0
    assert _count(session, Event, Event.event_uuid == A) == 1
    assert dispatch(session, engine, LocalOutboxSender()).sent == 0
    assert _count(session, Message, Message.contact_id == ada.id, Message.status == MessageStatus.sent) == 1
    assert [q["values"]["since"] for q in posthog.queries][-1] == (
        moment.now - timedelta(seconds=30) - posthog_pull.OVERLAP
    ).isoformat()


def test_a_poll_logs_what_it_stored_and_nothing_when_it_stored_nothing(session, world, posthog, moment, caplog):
    caplog.set_level(logging.DEBUG, logger="humanic_app.workers")
    _signed_up(posthog, A, "ada@example.com", moment.now - timedelta(seconds=30))
    session.commit()
    workers.poll_posthog()
    assert [r.levelno for r in caplog.records if "pulled new events from PostHog: 1" in r.getMessage()] == [
        logging.INFO
    ]
    caplog.clear()
    moment.advance(30)
    workers.poll_posthog()  # the overlap again: nothing new
    assert len(posthog.queries) == 2
    assert not [r for r in caplog.records if r.levelno >= logging.INFO]


def test_a_poll_waits_its_interval_and_a_late_ingested_event_is_still_read(session, world, posthog, moment):
    assert _poll(session) == 0 and len(posthog.queries) == 1
    moment.advance(10)
    assert _poll(session) == 0 and len(posthog.queries) == 1  # 30 s by default: not due yet
    _signed_up(posthog, B, "bob@example.com", moment.now - timedelta(minutes=2))  # ingested two minutes late
    moment.advance(20)
    assert _poll(session) == 1
    assert _row(session).pull_last_pulled == 1
    assert _count(session, Event, Event.event_uuid == B) == 1


def test_only_the_names_campaigns_read_are_asked_for(session, world, posthog, moment):
    _poll(session)
    assert posthog.queries[0]["values"]["events"] == campaign_engine.used_event_names(session)
    assert set(posthog.queries[0]["values"]["events"]) == {"user_signed_up", "subscription_upgraded"}


def test_failures_keep_the_cursor_show_in_health_and_as_a_finding_then_recover(session, world, posthog, moment, caplog):
    _poll(session)
    cursor = _row(session).pull_cursor
    posthog.inject(500)
    moment.advance(30)
    assert _poll(session) == 0
    found = _row(session)
    assert (found.pull_failures, found.pull_cursor) == (1, cursor)
    assert "500" in found.pull_last_error
    [logged] = [r for r in caplog.records if "pulling events from PostHog failed" in r.getMessage()]
    assert logged.levelno == logging.WARNING and "500" in logged.getMessage()
    assert posthog.personal_api_key not in caplog.text
    findings = diagnostics.run_checks(session=session, resend_configured=False)
    assert any(f.key == "posthog_pull" and "failing (1 polls in a row)" in f.problem for f in findings)
    assert health(session=session, since=T0)["posthog_pull_failed"] == 1
    _signed_up(posthog, A, "ada@example.com", moment.now - timedelta(seconds=20))
    moment.advance(30)
    assert _poll(session) == 1
    assert _row(session).pull_failures == 0
    findings = diagnostics.run_checks(session=session, resend_configured=False)
    assert not any(f.key == "posthog_pull" for f in findings)


def test_turning_pull_on_needs_the_query_key_and_an_interval_of_at_least_ten_seconds(session, posthog, moment):
    with pytest.raises(ValidationFailed) as refused:
        connection.save(session=session, host=posthog.url, api_key=posthog.api_key, pull_enabled=True)
    assert set(refused.value.field_errors) == {"personal_api_key", "project_id"}
    with pytest.raises(ValidationFailed) as refused:
        connection.save(session=session, host=posthog.url, api_key=posthog.api_key, pull_interval_seconds=5)
    assert "10 to 3600" in refused.value.field_errors["pull_interval_seconds"]


def test_the_api_access_is_saved_before_any_host_and_turning_pull_on_asks_only_for_it(session, posthog, moment):
    with pytest.raises(ValidationFailed) as refused:
        connection.save(session=session, host=posthog.url, pull_enabled=True)
    assert set(refused.value.field_errors) == {"personal_api_key", "project_id"}  # no project key asked for
    connection.save(session=session, personal_api_key=posthog.personal_api_key, project_id=posthog.project_id)
    found = connection.status(session=session)
    assert found.personal_api_key_set and found.project_id == posthog.project_id
    assert found.host == "" and not found.enabled
    with pytest.raises(ValidationFailed) as refused:
        connection.save(session=session, kinds=["email_sent"])
    assert set(refused.value.field_errors) == {"host"}  # anything else still needs the host


def test_nothing_is_pulled_while_pull_is_off(session, world, posthog, moment):
    connection.save(session=session, pull_enabled=False)
    _signed_up(posthog, A, "ada@example.com", moment.now)
    assert _poll(session) == 0 and posthog.queries == []


def test_a_campaigns_event_names_are_every_one_it_reads():
    doc = CampaignDocument.model_validate(
        {
            "name": "All of them",
            "trigger": {"event": "signed_up"},
            "unless": {"event": "deleted_account", "within": "7d"},
            "exit_on": ["upgraded"],
            "steps": [
                {"type": "wait_for", "event": "invited_teammate", "timeout": "2d"},
                {"type": "branch", "paths": [{"when": [{"did": "created_project"}]}]},
                {"type": "email", "subject": "Hi", "html": "<p>Hello</p>"},
            ],
        }
    )
    assert event_names(doc) == {"signed_up", "deleted_account", "upgraded", "invited_teammate", "created_project"}
