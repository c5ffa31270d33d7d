"""The outbox module: what it schedules (and under which idempotency key), what it cancels, what it
releases, and how a sent email's delivery status moves."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from humanic_app import clock
from humanic_app.models import Enrolment, Message, MessageStatus
from humanic_app.services import outbox
from humanic_app.services.errors import ValidationFailed
from tests.support.campaign_world import World, linear

T0 = datetime(2025, 4, 10, 14, 0, tzinfo=UTC)


@pytest.fixture
def enrolled(session) -> tuple[World, Enrolment, list[Message]]:
    world = World(session)
    world.campaign(linear("onboarding-activation"))  # four steps
    world.send("user_signed_up", T0)
    enrolment = session.exec(select(Enrolment)).one()
    messages = list(session.exec(select(Message).order_by(Message.step_index)))
    return world, enrolment, messages


def test_campaign_steps_are_keyed_by_enrolment_its_time_and_step(enrolled):
    _, enrolment, messages = enrolled
    micros = int(T0.timestamp()) * 1_000_000  # the enrolment's time: an id SQLite reuses after erasure still differs
    assert [m.idempotency_key for m in messages] == [f"enrolment-{enrolment.id}-{micros}-step-{i}" for i in range(4)]
    assert {(m.status, m.attempts, m.is_test) for m in messages} == {(MessageStatus.scheduled, 0, False)}


def test_cancel_pending_leaves_what_may_have_reached_the_provider(session, enrolled):
    _, enrolment, messages = enrolled
    messages[0].status = MessageStatus.sending
    messages[1].status = MessageStatus.sent
    session.commit()
    outbox.cancel_pending(session=session, enrolment_ids=[enrolment.id], reason="reached goal paid")
    session.commit()
    session.expire_all()
    assert [(m.status.value, m.last_error) for m in session.exec(select(Message).order_by(Message.step_index))] == [
        ("sending", ""),
        ("sent", ""),
        ("cancelled", "reached goal paid"),
        ("cancelled", "reached goal paid"),
    ]


def test_cancel_by_hand_only_takes_scheduled_emails(session, enrolled):
    _, _, messages = enrolled
    assert outbox.cancel(session=session, message_id=messages[3].id).status == MessageStatus.cancelled
    assert messages[3].last_error == "cancelled by hand"
    messages[2].status = MessageStatus.sent
    with pytest.raises(ValidationFailed, match="Only scheduled messages can be cancelled; this one is sent"):
        outbox.cancel(session=session, message_id=messages[2].id)


def test_release_held_makes_what_a_quota_block_postponed_due_now(session, enrolled, monkeypatch):
    _, _, messages = enrolled
    until, now = T0 + timedelta(days=1), clock.now()
    monkeypatch.setattr(clock, "now", lambda: now)
    messages[0].due_at = until  # held by the block
    messages[1].status, messages[1].lease_until = MessageStatus.sending, until  # a replay held by the block
    session.commit()
    later = [m.due_at for m in messages[2:]]
    outbox.release_held(session=session, held_until=until)
    session.commit()
    session.expire_all()
    rows = list(session.exec(select(Message).order_by(Message.step_index)))
    assert rows[0].due_at == now and rows[1].lease_until == now
    assert [m.due_at for m in rows[2:]] == later


def test_delivery_status_only_moves_forward(session, enrolled):
    _, _, messages = enrolled
    message = messages[0]
    for status in ("delivered", "opened", "delivered", "sent"):
        outbox.note_delivery(session=session, message=message, status=status)
    assert message.delivery_status == "opened"
    outbox.note_delivery(session=session, message=message, status="bounced")
    assert message.delivery_status == "bounced"


def test_the_key_reads_a_naive_time_as_utc_and_keeps_microseconds():
    aware = datetime(2025, 4, 10, 14, 0, 0, 123456, tzinfo=UTC)
    key = outbox.campaign_key(enrolment_id=7, enrolled_at=aware, step_index=2)
    assert key == f"enrolment-7-{int(T0.timestamp()) * 1_000_000 + 123456}-step-2"
    assert outbox.campaign_key(enrolment_id=7, enrolled_at=aware.replace(tzinfo=None), step_index=2) == key
