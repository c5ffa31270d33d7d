"""Warm-up caps and per-campaign send rates at the dispatcher, with the fake Resend and the one clock: what
a limit holds waits visibly, goes out later in due order, is never dropped or sent twice; two dispatchers
on PostgreSQL together keep the cap; a rate-limited campaign does not delay the others."""

import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlmodel import Session, select

from humanic_app import clock, migrations
from humanic_app.db import make_engine
from humanic_app.models import CampaignStatus, Domain, Message, MessageStatus
from humanic_app.services import diagnostics, warmup, workspace
from humanic_app.services.campaigns import store
from humanic_app.services.delivery import dispatcher
from humanic_app.services.delivery.senders import LocalOutboxSender, SendResult
from humanic_app.services.errors import ValidationFailed
from tests.support.dispatching import dispatch, resend_with_verified_domain

DAY1 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, monkeypatch, start):
        self.at = start
        monkeypatch.setattr(clock, "now", lambda: self.at)

    def set(self, at):
        self.at = at


def _campaign(session, name, **extra):
    document = {"name": name, "trigger": {"event": "x"}, "steps": [{"subject": "Hi", "html": "<p>Hi</p>"}], **extra}
    campaign = store.create_campaign(session=session, document=document)
    store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.active)
    session.commit()
    return campaign


def _queue(session, campaign, dues, prefix):
    """Outbox rows for `campaign`, one per due time, inserted in the order given (so ids need not follow
    due order); the recipient names the position: prefix-0, prefix-1…"""
    session.execute(
        insert(Message),
        [
            {
                "campaign_id": campaign.id,
                "to_email": f"{prefix}-{i}@example.com",
                "step_index": 0,
                "due_at": due,
                "status": MessageStatus.scheduled,
                "idempotency_key": f"{prefix}-{i}-{uuid.uuid4()}",
                "variables": {},
                "is_test": False,
                "attempts": 0,
                "last_error": "",
                "from_domain": "",
                "created_at": due,
            }
            for i, due in enumerate(dues)
        ],
    )
    session.commit()


def _workspace(session):
    workspace.update_workspace(
        session=session, changes={"from_email": "hello@acme.io", "from_name": "Acme", "physical_address": "1 Main St"}
    )
    session.commit()


def _rows(session, status=None):
    session.expire_all()
    stmt = select(Message).order_by(Message.id)
    if status is not None:
        stmt = stmt.where(Message.status == status)
    rows = list(session.exec(stmt))
    session.commit()
    return rows


def _warm(session, ladder, started):
    domain = session.exec(select(Domain).where(Domain.name == "acme.io")).one()
    domain.warmup_enabled, domain.warmup_ladder, domain.warmup_started_at = True, ladder, started
    session.add(domain)
    session.commit()
    return domain


def _finding(session, key):
    found = {f.key: f.problem for f in diagnostics.run_checks(session=session, resend_configured=True)}
    session.commit()
    return found.get(key, "")


def test_the_cap_holds_visibly_and_the_next_day_releases_in_due_order(session, engine, monkeypatch):
    moved = Clock(monkeypatch, DAY1)
    _workspace(session)
    campaign = _campaign(session, "Welcome")
    # ten emails, due one minute apart, inserted out of order: position i is the i-th due
    order = [3, 0, 7, 1, 9, 4, 2, 8, 5, 6]
    dues = {i: DAY1 - timedelta(hours=2) + timedelta(minutes=i) for i in order}
    _queue(session, campaign, list(dues.values()), "early")
    recipients = [f"early-{k}@example.com" for k in range(10)]
    by_due = [recipients[list(dues).index(i)] for i in range(10)]
    with resend_with_verified_domain(session) as (fake, sender):
        domain = _warm(session, [3, 5], DAY1 - timedelta(hours=8))

        assert dispatch(session, engine, sender).sent == 3
        assert [e["to"][0] for e in fake.sent] == by_due[:3]
        held = _rows(session, MessageStatus.scheduled)
        assert len(held) == 7
        assert {m.last_error for m in held} == {
            "waiting (warm-up): 3 of 3 sent today from acme.io; more from 00:00 UTC"
        }
        tomorrow = datetime(2026, 3, 3, tzinfo=UTC)
        assert all(tomorrow <= m.due_at < tomorrow + timedelta(seconds=1) for m in held)
        state = warmup.status(session=session, domain=domain)
        assert (state.day, state.cap, state.sent_today, state.held) == (1, 3, 3, 7)
        assert _finding(session, "warmup:acme.io").startswith("7 emails from acme.io wait for the domain's warm-up")

        moved.set(DAY1 + timedelta(hours=14, minutes=59))  # 23:59 the same day: still held
        assert dispatch(session, engine, sender).sent == 0 and len(fake.sent) == 3

        moved.set(tomorrow + timedelta(seconds=1))  # day 2: five more, the next five due
        assert dispatch(session, engine, sender).sent == 5
        assert [e["to"][0] for e in fake.sent] == by_due[:8]
        assert dispatch(session, engine, sender).sent == 0

        moved.set(tomorrow + timedelta(days=1, hours=1))  # day 3: past the ladder, no cap
        assert dispatch(session, engine, sender).sent == 2
        assert [e["to"][0] for e in fake.sent] == by_due
        assert set(fake.delivered().values()) == {1}
        assert {m.status for m in _rows(session)} == {MessageStatus.sent}


def test_without_warmup_nothing_is_held(session, engine, monkeypatch):
    Clock(monkeypatch, DAY1)
    _workspace(session)
    _queue(session, _campaign(session, "Welcome"), [DAY1 - timedelta(minutes=1)] * 8, "a")
    with resend_with_verified_domain(session) as (_fake, sender):
        domain = _warm(session, [3], DAY1)
        warmup.update(session=session, domain=domain, enabled=False, ladder=None)
        session.commit()
        assert dispatch(session, engine, sender).sent == 8


def test_test_sends_are_never_held_but_count(session, engine, monkeypatch):
    Clock(monkeypatch, DAY1)
    _workspace(session)
    campaign = _campaign(session, "Welcome")
    _queue(session, campaign, [DAY1 - timedelta(minutes=1)] * 2, "a")
    first = session.exec(select(Message).order_by(Message.id)).first()
    first.is_test = True
    session.add(first)
    session.commit()
    with resend_with_verified_domain(session) as (_fake, sender):
        domain = _warm(session, [1], DAY1)
        assert dispatch(session, engine, sender).sent == 1
        assert warmup.status(session=session, domain=domain).sent_today == 1
        [held] = _rows(session, MessageStatus.scheduled)
        assert not held.is_test and held.last_error.startswith("waiting (warm-up)")


def test_campaign_rate_spaces_its_sends_and_other_campaigns_go_on(session, engine, monkeypatch):
    moved = Clock(monkeypatch, DAY1)
    _workspace(session)
    big = _campaign(session, "Big launch", emails_per_minute=5)
    other = _campaign(session, "Welcome")
    _queue(session, big, [DAY1 - timedelta(minutes=10) + timedelta(seconds=i) for i in range(12)], "big")
    _queue(session, other, [DAY1 - timedelta(minutes=5)] * 3, "other")
    sender = LocalOutboxSender()

    report = dispatch(session, engine, sender)
    assert report.sent == 8 and report.held == 7  # five of Big launch, all three of Welcome
    held = _rows(session, MessageStatus.scheduled)
    assert {m.campaign_id for m in held} == {big.id}
    assert held[0].last_error == "waiting (campaign rate): 5 per minute for 'Big launch'; next at 09:01:00 UTC"
    assert (
        sorted(m.due_at.replace(microsecond=0) for m in held)
        == [DAY1 + timedelta(minutes=1)] * 5 + [DAY1 + timedelta(minutes=2)] * 2
    )

    assert _finding(session, f"campaign_rate:{big.id}") == (
        "7 emails of 'Big launch' wait for its send rate (5 per minute)."
    )
    _queue(session, other, [DAY1 + timedelta(seconds=20)], "later")  # a new Welcome email, not delayed
    moved.set(DAY1 + timedelta(seconds=30))
    assert dispatch(session, engine, sender).sent == 1
    for step in range(1, 4):
        moved.set(DAY1 + timedelta(minutes=step, seconds=1))
        dispatch(session, engine, sender)
    sent = _rows(session, MessageStatus.sent)
    assert len(sent) == 16
    big_times = sorted(m.sent_at for m in sent if m.campaign_id == big.id)
    assert all(sum(t <= u < t + timedelta(minutes=1) for u in big_times) <= 5 for t in big_times)
    in_due_order = [m.to_email for m in sorted(sent, key=lambda m: (m.sent_at, m.due_at)) if m.campaign_id == big.id]
    assert in_due_order == [f"big-{i}@example.com" for i in range(12)]


def test_a_ladder_is_validated():
    assert warmup.parse_ladder("50, 100\n250") == [50, 100, 250]
    for bad in ("", "50, x", "100, 50", "0", "50, 1.5"):
        with pytest.raises(ValidationFailed) as refused:
            warmup.parse_ladder(bad)
        assert "warmup_ladder" in refused.value.field_errors
    with pytest.raises(ValidationFailed):
        warmup.validate_ladder([50] * (warmup.MAX_STEPS + 1))
    with pytest.raises(ValidationFailed):
        warmup.validate_ladder([True])


def test_the_ladder_counts_utc_days_from_the_start():
    domain = Domain(name="acme.io", resend_id="d", status="verified", warmup_enabled=True)
    domain.warmup_started_at = datetime(2026, 3, 2, 23, 59, tzinfo=UTC)
    assert warmup.cap_today(domain, datetime(2026, 3, 2, 23, 59, 30, tzinfo=UTC)) == 50
    assert warmup.cap_today(domain, datetime(2026, 3, 3, 0, 0, tzinfo=UTC)) == 100
    assert warmup.cap_today(domain, datetime(2026, 3, 8, 12, tzinfo=UTC)) == 5_000
    assert warmup.cap_today(domain, datetime(2026, 3, 9, tzinfo=UTC)) is None
    domain.warmup_enabled = False
    assert warmup.cap_today(domain, datetime(2026, 3, 2, 23, 59, 30, tzinfo=UTC)) is None


# --- two dispatchers on PostgreSQL --------------------------------------------------------------------------


@pytest.fixture
def pg_engine(postgres_url):
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        migrations.upgrade(connection=conn)
    yield engine
    engine.dispose()


class SlowResend(LocalOutboxSender):
    """Stands for Resend (warm-up applies to it) with a round trip, so two dispatchers' passes overlap."""

    name = "resend"
    max_batch = 4

    def __init__(self):
        self.keys: Counter = Counter()
        self.lock = threading.Lock()
        self.in_call = threading.Barrier(2, timeout=0.05)

    def send(self, emails, *, batch_key=None):
        try:
            self.in_call.wait()  # both dispatchers mid-call at once, when both have something to send
        except threading.BrokenBarrierError:
            self.in_call.reset()
        with self.lock:
            self.keys.update(e.idempotency_key for e in emails)
        return [SendResult(message_id=e.message_id, ok=True, provider_message_id=str(uuid.uuid4())) for e in emails]


@pytest.mark.parametrize("cap", [37])
def test_two_dispatchers_on_postgresql_keep_the_cap_and_the_rate_together(pg_engine, cap, monkeypatch):
    now = clock.now()
    Clock(monkeypatch, now)  # stopped: however slow the machine, no minute frees a slot of the rate mid-test
    with Session(pg_engine, expire_on_commit=False) as session:
        _workspace(session)
        session.add(
            Domain(
                name="acme.io",
                resend_id="d-1",
                status="verified",
                warmup_enabled=True,
                warmup_ladder=[cap],
                warmup_started_at=now,
            )
        )
        rated = _campaign(session, "Rated", emails_per_minute=11)
        plain = _campaign(session, "Plain")
        _queue(session, rated, [now - timedelta(seconds=1)] * 60, "r")
        _queue(session, plain, [now - timedelta(seconds=1)] * 60, "p")

    sender = SlowResend()

    def run():
        while True:
            report = dispatcher.dispatch_due(engine=pg_engine, sender=sender, public_url="https://h.acme.io", limit=6)
            if not (report.sent or report.held):
                return  # nothing due any more: the rest waits for a later minute or day

    workers = [threading.Thread(target=run) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sum(sender.keys.values()) == cap and set(sender.keys.values()) == {1}
    with Session(pg_engine) as session:
        rows = list(session.exec(select(Message)))
    sent = [m for m in rows if m.status == MessageStatus.sent]
    assert len(sent) == cap and sum(m.campaign_id == rated.id for m in sent) == 11
    assert {m.status for m in rows} == {MessageStatus.sent, MessageStatus.scheduled}
