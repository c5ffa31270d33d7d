"""The send-time gates apply to a journey's emails written later (when a wait times out, further down a
path) as to any: the frequency cap holds one, an unsubscribe or a suppression refuses it. And an event from a
paused source or a paused workspace resumes no wait, as it enrols no one."""

from datetime import timedelta

import pytest
from sqlmodel import select

from humanic_app.models import Contact, Message, SourceStatus, SuppressionReason
from humanic_app.services import sources, suppression, topics, workspace
from humanic_app.services.delivery.senders import LocalOutboxSender
from tests.support.campaign_world import T0
from tests.support.dispatching import dispatch
from tests.support.journey_world import JourneyWorld

H = timedelta(hours=1)

JOURNEY = {
    "name": "Gated",
    "trigger": {"event": "started"},
    "reentry": "every_time",
    "steps": [
        {"id": "first", "delay": "0", "subject": "First", "html": "<p>1</p>"},
        {"id": "w", "type": "wait_for", "event": "b", "timeout": "1h", "on_event": "done"},
        {"id": "later", "delay": "0", "subject": "Later", "html": "<p>2</p>"},
        {"id": "done", "type": "exit"},
    ],
}


@pytest.fixture
def j(session, monkeypatch):
    world = JourneyWorld(session, monkeypatch)
    world.campaign(JOURNEY)
    return world


def _rows(j) -> list[tuple[int, str, str]]:
    j.session.expire_all()
    rows = j.session.exec(select(Message).order_by(Message.step_index))
    return [(m.step_index, m.status.value, m.last_error) for m in rows]


def _first_sent_then_timed_out(j, engine) -> None:
    """The first email goes; then the wait times out and the later email is written, due now."""
    j.send("started", T0)
    assert dispatch(j.session, engine, LocalOutboxSender()).sent == 1
    j.at(T0 + H)
    assert _rows(j) == [(0, "sent", ""), (2, "scheduled", "")]


def test_an_email_written_when_a_wait_times_out_is_held_by_the_frequency_cap(j, engine):
    workspace.update_workspace(session=j.session, changes={"frequency_cap": 1})
    j.session.commit()
    _first_sent_then_timed_out(j, engine)
    report = dispatch(j.session, engine, LocalOutboxSender())
    assert report.sent == 0 and report.held == 1
    [(_, status, reason)] = _rows(j)[1:]
    assert status == "scheduled" and reason.startswith("frequency cap (1 per 24 h): waits until")


@pytest.mark.parametrize("refused", ["unsubscribed", "suppressed"])
def test_an_email_written_when_a_wait_times_out_is_refused_after_an_unsubscribe_or_a_suppression(j, engine, refused):
    j.send("started", T0)
    assert dispatch(j.session, engine, LocalOutboxSender()).sent == 1
    if refused == "unsubscribed":
        contact = j.session.exec(select(Contact).where(Contact.email == "ada@example.com")).one()
        topics.unsubscribe_from_all(session=j.session, contact=contact, note="one-click unsubscribe")
    else:
        suppression.add(session=j.session, email="ada@example.com", reason=SuppressionReason.bounced)
    j.session.commit()
    j.at(T0 + H)
    assert [(step, status) for step, status, _ in _rows(j)] == [(0, "sent"), (2, "scheduled")]
    report = dispatch(j.session, engine, LocalOutboxSender())
    assert report.sent == 0 and report.cancelled == 1
    expected = "recipient unsubscribed" if refused == "unsubscribed" else "address suppressed (bounced)"
    assert _rows(j)[1] == (2, "suppressed", expected)


@pytest.mark.parametrize("paused", ["source", "workspace"])
def test_an_event_from_a_paused_source_or_workspace_does_not_resume_a_wait(j, paused):
    j.send("started", T0)
    if paused == "source":
        sources.set_status(session=j.session, source_id=j.source.id, status=SourceStatus.paused)
    else:
        workspace.update_workspace(session=j.session, changes={"status": "paused"})
    j.session.commit()
    j.send("b", T0 + H / 2)
    assert not any(d.get("resumed") for d in j.decisions()[-1])
    if paused == "source":
        sources.set_status(session=j.session, source_id=j.source.id, status=SourceStatus.active)
    else:
        workspace.update_workspace(session=j.session, changes={"status": "active"})
    j.session.commit()
    j.at(T0 + H)
    assert [(step, status) for step, status, _ in _rows(j)] == [(0, "scheduled"), (2, "scheduled")]
    [enrolment] = j.enrolments()
    assert [s["took"] for s in enrolment.trail] == ["timed out", "exit"]
