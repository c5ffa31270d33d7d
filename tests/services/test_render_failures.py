"""A template that cannot render fails its own email at send time, and nothing else: every other due
email keeps going out, and no exception in one message or call stops the dispatcher."""

import time
from datetime import timedelta

from sqlmodel import select

from humanic_app import clock
from humanic_app.models import Campaign, CampaignStatus, Message, MessageStatus
from humanic_app.services import dashboard, metrics, workspace
from humanic_app.services.delivery import dispatcher
from humanic_app.services.delivery.senders import LocalOutboxSender, SendResult
from tests.support.campaign_world import T0, World

# Each kind of template that saved before templates were checked, and the reason its email fails with.
POISONS = {
    "unknown filter": ("{{ name | capitalise }}", "No filter named 'capitalise'"),
    "division by zero": ("{{ 1 / 0 }}", "division by zero"),
    "forbidden call": ("{{ name.__class__.mro() }}", "sandbox forbids"),
    "range past the limit": ("{% for i in range(10 ** 7) %}.{% endfor %}", "too large for the sandbox"),
    "unknown filter in a branch": ("Hi{% if name %}{{ name | capitalise }}{% endif %}", "No filter named"),
}


def _campaign(session, name: str, html: str) -> Campaign:
    """Stored as an older version saved it: no template check on the way in."""
    campaign = Campaign(
        name=name,
        trigger_event="user_signed_up",
        status=CampaignStatus.active,
        definition={
            "name": name,
            "trigger": {"event": "user_signed_up"},
            "steps": [{"delay": 0, "subject": "Hello", "html": html}],
        },
    )
    session.add(campaign)
    session.flush()
    return campaign


def _due(session, campaign: Campaign, n: int, prefix: str) -> None:
    for i in range(n):
        session.add(
            Message(
                campaign_id=campaign.id,
                to_email=f"{prefix}{i}@example.com",
                step_index=0,
                due_at=T0,
                idempotency_key=f"{prefix}-{campaign.id}-{i}",
                variables={"name": "ada"},
            )
        )


def _drain(engine, sender) -> float:
    """Runs dispatcher passes the way the ticker does until nothing is due; returns how long it took."""
    started = time.monotonic()
    while True:
        report = dispatcher.dispatch_due(engine=engine, sender=sender, public_url="https://h.acme.io")
        if report.sent + report.failed + report.retried + report.cancelled + report.held == 0:
            return time.monotonic() - started


def _world(session, monkeypatch):
    World(session)
    workspace.update_workspace(session=session, changes={"from_name": "Acme", "physical_address": "1 Main St"})
    monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(minutes=1))


def test_each_poisoned_template_fails_alone_and_healthy_mail_keeps_going(session, engine, monkeypatch):
    _world(session, monkeypatch)
    healthy = _campaign(session, "Healthy", "<p>Hi {{ name | capitalize }}</p>")
    poisoned = {kind: _campaign(session, kind, html) for kind, (html, _) in POISONS.items()}
    for campaign in poisoned.values():
        _due(session, campaign, 200, "p")  # 1,000 poisoned emails, due before the healthy ones
    _due(session, healthy, 100, "h")
    session.commit()

    elapsed = _drain(engine, LocalOutboxSender())

    session.expire_all()
    sent = session.exec(select(Message).where(Message.campaign_id == healthy.id)).all()
    assert [m.status for m in sent] == [MessageStatus.sent] * 100
    assert all(m.subject == "Hello" and "Hi Ada" in m.html for m in sent)
    for kind, campaign in poisoned.items():
        # each poisoned email that was tried failed with its reason; once its step had failed often enough
        # the campaign paused itself, and the rest wait for the fix instead of failing one by one
        rows = session.exec(select(Message).where(Message.campaign_id == campaign.id)).all()
        failed = [m for m in rows if m.status == MessageStatus.failed]
        assert len(failed) >= dispatcher.PAUSE_AFTER, kind
        assert all(m.last_error.startswith("render error: ") and POISONS[kind][1] in m.last_error for m in failed), (
            kind,
            failed[0].last_error,
        )
        assert all(
            m.status == MessageStatus.scheduled and m.last_error == "campaign paused" for m in rows if m not in failed
        ), kind
        session.refresh(campaign)
        assert campaign.status == CampaignStatus.paused and POISONS[kind][1] in campaign.paused_reason
    exported = metrics.render(session=session)
    for campaign in poisoned.values():
        failed = len(
            session.exec(
                select(Message).where(Message.campaign_id == campaign.id, Message.status == MessageStatus.failed)
            ).all()
        )
        assert f'humanic_render_errors_total{{campaign_id="{campaign.id}"}} {failed}' in exported
    assert dashboard.health(session=session, since=T0)["render_errors"] == sum(
        1 for m in session.exec(select(Message).where(Message.status == MessageStatus.failed))
    )
    assert elapsed < 30, elapsed


def test_an_exception_in_one_call_does_not_stop_the_others(session, engine, monkeypatch):
    _world(session, monkeypatch)
    campaign = _campaign(session, "Healthy", "<p>Hi</p>")
    _due(session, campaign, 3, "h")
    session.commit()

    class OneCallBreaks(LocalOutboxSender):
        max_batch = 1
        calls = 0

        def send(self, emails, *, batch_key=None):
            OneCallBreaks.calls += 1
            if OneCallBreaks.calls == 1:
                raise RuntimeError("sender bug")
            return [SendResult(message_id=e.message_id, ok=True, provider_message_id="x") for e in emails]

    report = dispatcher.dispatch_due(engine=engine, sender=OneCallBreaks(), public_url="x")
    assert report.sent == 2
    session.expire_all()
    statuses = sorted(m.status.value for m in session.exec(select(Message)))
    assert statuses == ["sending", "sent", "sent"]  # the broken call waits for its lease, then is replayed
    session.commit()
    health = dashboard.health(session=session, since=T0)
    assert health["dispatcher_errors"] == 1
    assert 'humanic_dispatcher_errors_total{where="send"} 1' in metrics.render(session=session)


def _render_failures_from(session, engine, monkeypatch, recipients: int):
    _world(session, monkeypatch)
    campaign = _campaign(session, "Poisoned", "{{ name | capitalise }}")
    for i in range(dispatcher.PAUSE_AFTER):
        session.add(
            Message(
                campaign_id=campaign.id,
                to_email=f"p{i % recipients}@example.com",
                step_index=0,
                due_at=T0,
                idempotency_key=f"p-{i}",
                variables={"name": "ada"},
            )
        )
    session.add(
        Message(
            campaign_id=campaign.id,
            to_email="p0@example.com",
            step_index=0,
            due_at=T0 + timedelta(hours=1),
            idempotency_key="later",
            variables={},
        )
    )
    session.commit()
    _drain(engine, LocalOutboxSender())
    monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(hours=2))
    _drain(engine, LocalOutboxSender())
    session.expire_all()
    return session.get(Campaign, campaign.id), session.exec(
        select(Message).where(Message.idempotency_key == "later")
    ).one()


def test_a_step_that_keeps_failing_pauses_its_campaign_with_a_finding(session, engine, monkeypatch):
    from humanic_app.services import diagnostics

    campaign, later = _render_failures_from(session, engine, monkeypatch, recipients=dispatcher.PAUSE_ACROSS)
    assert campaign.status == CampaignStatus.paused
    assert f"step 1 failed to render for {dispatcher.PAUSE_AFTER} emails" in campaign.paused_reason
    assert "No filter named 'capitalise'" in campaign.paused_reason
    assert later.status == MessageStatus.scheduled and later.last_error == "campaign paused"
    findings = {f.key: f for f in diagnostics.run_checks(session=session, resend_configured=False)}
    assert campaign.paused_reason in findings[f"campaign_auto_paused:{campaign.id}"].problem


def test_failures_for_too_few_recipients_do_not_pause(session, engine, monkeypatch):
    campaign, later = _render_failures_from(session, engine, monkeypatch, recipients=dispatcher.PAUSE_ACROSS - 1)
    assert campaign.status == CampaignStatus.active and campaign.paused_reason == ""
    assert later.status == MessageStatus.failed
