"""The outbox dispatcher with the local sender and a scripted one: gate, render, retry, recovery."""

import contextlib
from datetime import timedelta

from sqlmodel import select

from humanic_app import clock
from humanic_app.models import CampaignStatus, Message, MessageStatus
from humanic_app.services import outbox as messages, workspace
from humanic_app.services.campaigns import store
from humanic_app.services.campaigns.preview import queue_test_send
from humanic_app.services.delivery.senders import LocalOutboxSender, SendResult
from tests.support.campaign_world import T0
from tests.support.dispatching import dispatch, resend_with_verified_domain, setup_world, statuses


class ScriptedSender(LocalOutboxSender):
    """Answers from a script per call; records what it was asked to send."""

    name = "scripted"

    def __init__(self, *script):
        self.script = list(script)
        self.calls = []

    def send(self, emails, *, batch_key=None):
        self.calls.append([e.idempotency_key for e in emails])
        outcome = self.script.pop(0) if self.script else "ok"
        return [
            SendResult(
                message_id=e.message_id,
                ok=outcome == "ok",
                provider_message_id=f"p-{e.message_id}",
                error="" if outcome == "ok" else outcome,
                retryable=outcome in ("429", "500"),
                maybe_sent=outcome == "500",
                quota_exceeded="daily" if outcome == "quota" else "",
            )
            for e in emails
        ]


def test_due_message_is_rendered_and_sent_once(session, engine, monkeypatch):
    _world, _ = setup_world(session, monkeypatch)
    report = dispatch(session, engine, LocalOutboxSender(), "https://h.acme.io")
    assert report.sent == 1
    assert statuses(session) == ["sent", "scheduled", "scheduled", "scheduled"]
    sent = session.exec(select(Message).where(Message.status == MessageStatus.sent)).one()
    assert sent.subject == "Welcome to Acme, Ada" and sent.from_address == "Acme <hello@acme.io>"
    assert "1 Main St" in sent.html and "https://h.acme.io/unsubscribe/" in sent.html
    assert sent.provider_message_id == f"local-{sent.id}" and sent.sent_via == "local"
    assert dispatch(session, engine, LocalOutboxSender(), "x").sent == 0


def test_gate_holds_paused_and_cancels_archived(session, engine, monkeypatch):
    _world, campaign = setup_world(session, monkeypatch)
    store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.paused)
    session.commit()
    report = dispatch(session, engine, LocalOutboxSender(), "x")
    assert report.held == 1 and statuses(session)[0] == "scheduled"
    assert session.exec(select(Message).where(Message.step_index == 0)).one().last_error == "campaign paused"
    store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.archived)
    session.commit()
    assert statuses(session) == ["cancelled"] * 4


def test_workspace_paused_holds_everything(session, engine, monkeypatch):
    setup_world(session, monkeypatch)
    workspace.update_workspace(session=session, changes={"status": "paused"})
    session.commit()
    assert dispatch(session, engine, LocalOutboxSender(), "x").held == 1
    assert statuses(session)[0] == "scheduled"


def test_frequency_cap_makes_steps_wait_not_drop(session, engine, monkeypatch):
    world, _ = setup_world(session, monkeypatch)
    ws = workspace.get_workspace(session=session)
    ws.frequency_cap = 1
    session.add(ws)
    session.commit()
    world.campaign("feature-adoption")
    world.send("dashboard_first_viewed", T0, email="ada@example.com")
    report = dispatch(session, engine, LocalOutboxSender(), "x")
    assert report.sent == 1 and report.held == 1
    waiting = session.exec(
        select(Message).where(Message.status == MessageStatus.scheduled, Message.last_error.like("frequency cap%"))
    ).one()
    assert waiting.due_at > T0 + timedelta(minutes=1)


def test_retryable_error_retries_with_the_same_key_then_succeeds(session, engine, monkeypatch):
    setup_world(session, monkeypatch)
    sender = ScriptedSender("429", "ok")
    assert dispatch(session, engine, sender, "x").retried == 1
    later = T0 + timedelta(hours=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    world_report = dispatch(session, engine, sender, "x")
    assert world_report.sent == 1 and world_report.retried == 0
    assert sender.calls[0][0] == sender.calls[1][0]


def test_permanent_error_fails_and_can_be_retried_by_hand(session, engine, monkeypatch):
    setup_world(session, monkeypatch)
    dispatch(session, engine, ScriptedSender("422 validation_error"), "x")
    failed = session.exec(select(Message).where(Message.status == MessageStatus.failed)).one()
    assert failed.last_error == "422 validation_error"
    messages.retry(session=session, message_id=failed.id)
    session.commit()
    assert dispatch(session, engine, LocalOutboxSender(), "x").sent == 1


def test_crashed_dispatch_is_resent_after_the_lease_with_the_same_key(session, engine, monkeypatch):
    """A dispatcher died between claiming (status sending) and recording the result."""
    setup_world(session, monkeypatch)

    class Crash(Exception):
        pass

    class DyingSender(LocalOutboxSender):
        name = "dying"

        def send(self, emails, *, batch_key=None):
            raise Crash

    with contextlib.suppress(Crash):
        dispatch(session, engine, DyingSender(), "x")
    assert statuses(session)[0] == "sending"
    sender = ScriptedSender()
    assert dispatch(session, engine, sender, "x").sent == 0  # lease still held
    monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(minutes=4))
    assert dispatch(session, engine, sender, "x").sent == 1
    key = session.exec(select(Message).where(Message.step_index == 0)).one().idempotency_key
    assert sender.calls == [[key]]


def test_test_send_goes_through_the_outbox(session, engine, monkeypatch):
    _world, campaign = setup_world(session, monkeypatch)
    message = queue_test_send(
        session=session,
        document=campaign.definition,
        step_index=1,
        to="Me@Acme.io",
        variables={"name": "Tester"},
        campaign_id=campaign.id,
    )
    session.commit()
    store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.paused)
    session.commit()
    dispatch(session, engine, LocalOutboxSender(), "x")
    session.expire_all()
    sent = session.get(Message, message.id)
    assert sent.status == MessageStatus.sent and sent.is_test and sent.to_email == "me@acme.io"
    assert sent.subject == "[Test] Finish setting up your workspace"


def test_dispatcher_with_resend_sends_exactly_once_across_a_crash(session, engine, monkeypatch):
    """Crash after the provider accepted but before the result was recorded: the re-send after the lease
    carries the same Idempotency-Key, so Resend returns the same email instead of sending a second."""
    setup_world(session, monkeypatch)
    with resend_with_verified_domain(session) as (fake, real):

        class CrashAfterSend(LocalOutboxSender):
            name = "resend"

            def send(self, emails, *, batch_key=None):
                real.send(emails, batch_key=batch_key)
                raise RuntimeError("process killed")

        with contextlib.suppress(RuntimeError):
            dispatch(session, engine, CrashAfterSend())
        monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(minutes=4))
        assert dispatch(session, engine, real).sent == 1
        assert len(fake.sent) == 1 and len(fake.requests) == 2
        assert (
            session.exec(select(Message).where(Message.status == MessageStatus.sent)).one().provider_message_id
            == fake.sent[0]["id"]
        )


def test_every_email_carries_rfc8058_headers_and_a_visible_link(session, engine, monkeypatch):
    setup_world(session, monkeypatch)

    class Capture(LocalOutboxSender):
        name = "capture"
        emails = []

        def send(self, emails, *, batch_key=None):
            Capture.emails.extend(emails)
            return [SendResult(message_id=e.message_id, ok=True, provider_message_id="x") for e in emails]

    dispatch(session, engine, Capture(), "https://h.acme.io")
    [email] = Capture.emails
    url = email.headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://h.acme.io/unsubscribe/") and url in email.html and url in email.text
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert {t["name"] for t in email.tags} == {"campaign", "step", "message"}


def test_resend_sending_waits_for_a_verified_domain(session, engine, monkeypatch):
    setup_world(session, monkeypatch)

    class ResendLike(ScriptedSender):
        name = "resend"

    report = dispatch(session, engine, ResendLike())
    assert report.held == 1 and report.sent == 0
    held = session.exec(select(Message).where(Message.step_index == 0)).one()
    assert held.status == MessageStatus.scheduled and "acme.io is not added" in held.last_error


def _three_welcome_emails(session, monkeypatch):
    world, _campaign = setup_world(session, monkeypatch)
    for name in ("bob", "cy"):
        world.send("user_signed_up", T0, user=name, email=f"{name}@example.com")
    session.commit()
    return world


def test_several_due_messages_go_in_one_batch_call(session, engine, monkeypatch):
    _three_welcome_emails(session, monkeypatch)
    sender = ScriptedSender("ok")
    assert dispatch(session, engine, sender).sent == 3
    assert len(sender.calls) == 1 and len(sender.calls[0]) == 3
    keys = {m.batch_key for m in session.exec(select(Message).where(Message.status == MessageStatus.sent))}
    assert len(keys) == 1 and next(iter(keys)).startswith("humanic-batch/")


def test_a_batch_that_may_have_been_accepted_is_replayed_exactly(session, engine, monkeypatch):
    """A 5xx or timeout after Resend accepted the batch: the replay must carry the same members, payload
    and key, even though the contacts changed meanwhile, so Resend dedupes it instead of answering 409."""
    from humanic_app.models import Contact

    _three_welcome_emails(session, monkeypatch)
    with resend_with_verified_domain(session) as (fake, real):

        class AnswerLost(LocalOutboxSender):
            name = "resend"

            def send(self, emails, *, batch_key=None):
                real.send(emails, batch_key=batch_key)
                return [
                    SendResult(
                        message_id=e.message_id, ok=False, error="network: ReadTimeout", retryable=True, maybe_sent=True
                    )
                    for e in emails
                ]

        assert dispatch(session, engine, AnswerLost()).retried == 3
        assert statuses(session)[:3] == ["sending"] * 3
        for contact in session.exec(select(Contact)):
            contact.properties = {**contact.properties, "name": "Changed"}
            session.add(contact)
        session.commit()
        monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(minutes=10))
        assert dispatch(session, engine, real).sent == 3
        assert len(fake.sent) == 3 and [r["path"] for r in fake.requests] == ["/emails/batch"] * 2
        assert fake.requests[0]["key"] == fake.requests[1]["key"]
        sent = session.exec(select(Message).where(Message.status == MessageStatus.sent)).all()
        assert sorted(m.provider_message_id for m in sent) == sorted(s["id"] for s in fake.sent)
        assert all("Changed" not in m.subject for m in sent)


def test_a_rate_limited_batch_is_gated_and_batched_afresh(session, engine, monkeypatch):
    _three_welcome_emails(session, monkeypatch)
    sender = ScriptedSender("429", "ok")
    assert dispatch(session, engine, sender).retried == 3
    waiting = session.exec(
        select(Message).where(Message.status == MessageStatus.scheduled, Message.step_index == 0)
    ).all()
    assert len(waiting) == 3 and all(m.batch_key is None for m in waiting)
    monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(minutes=10))
    assert dispatch(session, engine, sender).sent == 3


def test_quota_exhausted_pauses_all_sending_until_it_resets(session, engine, monkeypatch):
    _three_welcome_emails(session, monkeypatch)
    assert dispatch(session, engine, ScriptedSender("quota")).held == 3
    ws = workspace.get_workspace(session=session)
    assert ws.sending_blocked_until == (T0 + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert "daily sending quota" in ws.sending_blocked_reason
    until = ws.sending_blocked_until
    session.commit()
    monkeypatch.setattr(clock, "now", lambda: until - timedelta(minutes=1))
    assert dispatch(session, engine, ScriptedSender("ok")).sent == 0
    monkeypatch.setattr(clock, "now", lambda: until + timedelta(minutes=1))
    assert dispatch(session, engine, ScriptedSender("ok")).sent == 3
