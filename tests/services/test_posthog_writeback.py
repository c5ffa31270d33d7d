"""Writing engagement back to PostHog: captured in the fact's own transaction, drained through the batch
endpoint (tests/support/fake_posthog.py), exactly once as PostHog counts even across a crash, with backoff."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlmodel import select

from humanic_app import clock, db, workers
from humanic_app.models import Contact, Message, MessageStatus, PosthogCapture, PosthogConnection
from humanic_app.services import diagnostics, suppression, topics
from humanic_app.services.dashboard import health
from humanic_app.services.delivery.senders import LocalOutboxSender
from humanic_app.services.posthog import capture, connection, writeback
from tests.support.campaign_world import T0
from tests.support.dispatching import dispatch, setup_world

pytestmark = pytest.mark.usefixtures("operator_secret_in_tmp")


@pytest.fixture
def app_engine(engine):
    db.use_engine(engine)
    yield engine
    db.use_engine(None)


def _connect(session, fake, kinds=None):
    connection.save(session=session, host=fake.url, api_key=fake.api_key, kinds=kinds)
    session.commit()


def _captures(session):
    session.expire_all()
    rows = list(session.exec(select(PosthogCapture).order_by(PosthogCapture.id)))
    session.commit()
    return rows


def _sent_world(session, engine, monkeypatch, fake, kinds=None):
    """A contact enrolled in onboarding with write-back on, and its first email sent."""
    _connect(session, fake, kinds)
    world = setup_world(session, monkeypatch)
    dispatch(session, engine, LocalOutboxSender(), "https://h.acme.io")
    return world


def test_nothing_is_captured_until_posthog_is_connected(session, engine, monkeypatch):
    setup_world(session, monkeypatch)
    dispatch(session, engine, LocalOutboxSender(), "x")
    assert _captures(session) == []


def test_enrolment_and_send_are_written_once_even_when_a_batch_is_replayed_after_a_crash(
    session, app_engine, monkeypatch, posthog
):
    _sent_world(session, app_engine, monkeypatch, posthog)
    rows = _captures(session)
    assert [r.event for r in rows] == ["humanic campaign enrolled", "humanic email sent"]
    assert len({r.uuid for r in rows}) == 2

    # The same facts enqueued again (a replayed transaction, a second code path) add nothing.
    again = [
        capture.Fact(r.kind, f, r.contact_id, r.timestamp) for r, f in zip(rows, ["enrolled:1", "sent:1"], strict=True)
    ]
    capture.enqueue(session=session, facts=again)
    session.commit()
    assert len(_captures(session)) == 2

    # A crash between PostHog accepting the batch and marking it: the rows stay unsent...
    batch = writeback.next_batch(session=session)
    session.commit()
    assert writeback.send(batch).ok
    assert all(r.sent_at is None for r in _captures(session))
    # ...so the next run sends the same uuids again, and PostHog counts each once.
    assert workers.drain_to_posthog() == 2
    assert sorted(posthog.uuids_sent()) == sorted([r.uuid for r in rows] * 2)
    assert sorted(posthog.events) == sorted(r.uuid for r in rows)
    assert [r.outcome for r in _captures(session)] == ["sent", "sent"]
    shown = writeback.for_contact(session=session, contact_id=rows[0].contact_id)  # the contact dialog's list
    assert [(w.event, w.state) for w in shown] == [
        ("humanic email sent", "sent"),
        ("humanic campaign enrolled", "sent"),
    ]
    assert workers.drain_to_posthog() == 0  # nothing left

    sent = posthog.received("humanic email sent")[0]
    assert sent["distinct_id"] == "u1"  # the contact's distinct_id from PostHog
    assert sent["properties"]["humanic_writeback"] is True and sent["properties"]["$lib"] == "humanic"
    assert sent["properties"]["campaign"] and sent["properties"]["step"] == 1
    assert sent["properties"]["subject"] == "Welcome to Acme, Ada"
    assert "humanic_last_email_at" in posthog.persons[sent["distinct_id"]]


def _job(name: str) -> workers.PeriodicJob:
    return next(job for job in workers.PERIODIC_JOBS if job.name == name)


def _logged(caplog, text: str) -> list[int]:
    return [record.levelno for record in caplog.records if text in record.getMessage()]


def test_the_write_back_logs_what_it_wrote_and_its_five_second_runs_only_at_debug(
    session, app_engine, monkeypatch, posthog, caplog
):
    caplog.set_level(logging.DEBUG, logger="humanic_app.workers")
    _sent_world(session, app_engine, monkeypatch, posthog)
    assert workers.run_periodic(_job("posthog-writeback"))
    assert _logged(caplog, "wrote events back to PostHog: 2") == [logging.INFO]
    assert _logged(caplog, "periodic job posthog-writeback ran") == [logging.DEBUG]

    caplog.clear()
    workers.write_back_to_posthog()  # nothing left to write: nothing to say
    assert not [r for r in caplog.records if r.levelno >= logging.INFO]

    assert workers.run_periodic(_job("session-purge"))  # an hourly job's run is still worth a line
    assert _logged(caplog, "periodic job session-purge ran") == [logging.INFO]


def test_every_job_that_runs_more_than_once_a_minute_logs_its_runs_only_at_debug():
    frequent = [job for job in workers.PERIODIC_JOBS if job.period < timedelta(minutes=1)]
    assert {job.name for job in frequent} >= {"posthog-writeback", "planner-statistics"}
    assert [job.name for job in frequent if job.log_runs] == []
    assert all(job.log_runs for job in workers.PERIODIC_JOBS if job.period >= timedelta(minutes=5))


def test_only_the_kinds_switched_on_are_captured(session, engine, monkeypatch, posthog):
    _sent_world(session, engine, monkeypatch, posthog, kinds=["email_sent"])
    assert [r.event for r in _captures(session)] == ["humanic email sent"]


def test_delivery_events_and_unsubscribes_are_captured_with_their_details(session, engine, monkeypatch, posthog):
    _sent_world(session, engine, monkeypatch, posthog)
    sent = session.exec(select(Message).where(Message.status == MessageStatus.sent)).one()
    payload = {
        "type": "email.clicked",
        "created_at": "2026-03-02T10:05:00Z",
        "data": {"email_id": sent.provider_message_id, "to": [sent.to_email], "click": {"link": "https://acme.io/x"}},
    }
    assert suppression.record_resend_event(session=session, svix_id="msg_1", payload=payload) == "recorded"
    suppression.record_resend_event(session=session, svix_id="msg_1", payload=payload)  # Svix's retry
    contact = session.get(Contact, sent.contact_id)
    topics.unsubscribe_from_all(session=session, contact=contact, note="test")
    session.commit()
    clicked, unsubscribed = _captures(session)[2:]
    assert clicked.event == "humanic email clicked" and clicked.properties["link"] == "https://acme.io/x"
    assert clicked.properties["message_id"] == sent.id
    assert unsubscribed.event == "humanic unsubscribed"
    batch = writeback.next_batch(session=session)
    unsub = next(e for e in batch.events if e["event"] == "humanic unsubscribed")
    assert unsub["properties"]["$set"] == {"humanic_unsubscribed": True}


def _row(session) -> PosthogConnection:
    session.expire_all()
    found = session.get(PosthogConnection, capture.CONNECTION_ROW)
    session.commit()
    return found


def test_failures_back_off_show_in_health_and_as_a_finding_then_recover(session, app_engine, monkeypatch, posthog):
    _sent_world(session, app_engine, monkeypatch, posthog)
    now = T0 + timedelta(minutes=1)
    posthog.inject(503)
    assert workers.drain_to_posthog() == 0
    found = _row(session)
    assert found.failures == 1 and found.next_attempt_at == now + timedelta(seconds=2)
    assert "503" in found.last_error
    calls = len(posthog.requests)
    assert workers.drain_to_posthog() == 0 and len(posthog.requests) == calls  # backing off: no call

    monkeypatch.setattr(clock, "now", lambda: now + timedelta(seconds=3))
    posthog.inject(429, {"Retry-After": "30"})
    assert workers.drain_to_posthog() == 0
    found = _row(session)
    assert found.failures == 2 and found.next_attempt_at == now + timedelta(seconds=33)
    findings = {f.key: f for f in diagnostics.run_checks(session=session, resend_configured=False)}
    assert "2 calls in a row" in findings["posthog_writeback"].problem
    assert health(session=session, since=T0)["posthog_failed"] == 2
    assert health(session=session, since=T0)["posthog_backlog"] == 2
    session.commit()

    monkeypatch.setattr(clock, "now", lambda: now + timedelta(seconds=40))
    assert workers.drain_to_posthog() == 2
    assert _row(session).failures == 0
    assert "posthog_writeback" not in {f.key for f in diagnostics.run_checks(session=session, resend_configured=False)}
    session.commit()


def test_a_batch_posthog_refuses_as_malformed_is_dropped_not_retried_forever(session, app_engine, monkeypatch, posthog):
    _sent_world(session, app_engine, monkeypatch, posthog)
    posthog.inject(400)
    assert workers.drain_to_posthog() == 0
    assert all(r.outcome.startswith("dropped: PostHog refused the batch (400") for r in _captures(session))
    findings = {f.key: f for f in diagnostics.run_checks(session=session, resend_configured=False)}
    assert "posthog_writeback" in findings
    session.commit()


def test_a_wrong_key_is_an_error_with_what_to_do(session, app_engine, monkeypatch, posthog):
    _sent_world(session, app_engine, monkeypatch, posthog)
    connection.save(session=session, api_key="phc_not_the_right_key")
    session.commit()
    assert workers.drain_to_posthog() == 0
    assert "paste it again in Settings → PostHog" in _row(session).last_error
    assert not posthog.events


def test_erasing_a_contact_erases_what_was_captured_about_it(session, engine, monkeypatch, posthog):
    from humanic_app.services import erasure

    _sent_world(session, engine, monkeypatch, posthog)
    contact_id = _captures(session)[0].contact_id
    erasure.erase_contact(session=session, contact_id=contact_id, actor="test")
    session.commit()
    assert _captures(session) == []


def test_removing_the_connection_stops_capturing_and_forgets_what_waits(session, engine, monkeypatch, posthog):
    _sent_world(session, engine, monkeypatch, posthog)
    connection.remove(session=session)
    session.commit()
    assert _captures(session) == []
    assert capture.enabled_kinds(session=session) == frozenset()
