"""Provider faults against the local Resend double: answers lost after acceptance, 429s on replays, long
runs of 429s, a budget shared with another client of the same team, and 1–2 s latency. Every recipient
gets exactly one email (counted by the double, which deduplicates keys as Resend does), none ends
`failed` for a rate limit, and no call is made inside a retry-after."""

import uuid
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from humanic_app import clock
from humanic_app.models import Message, MessageStatus
from humanic_app.services import dashboard, diagnostics, outbox, rate_limit
from humanic_app.services.delivery import dispatcher
from humanic_app.services.errors import ValidationFailed
from tests.support.campaign_world import T0
from tests.support.dispatching import dispatch, resend_with_verified_domain, setup_world
from tests.support.frozen_proxy import FrozenProxy


class Clock:
    """The one clock, moved by the test."""

    def __init__(self, monkeypatch, start):
        self.at = start
        monkeypatch.setattr(clock, "now", lambda: self.at)

    def advance(self, **delta):
        self.at += timedelta(**delta)


def _welcome(session, monkeypatch, recipients: int):
    world, _ = setup_world(session, monkeypatch)
    for i in range(1, recipients):
        world.send("user_signed_up", T0, user=f"u{i + 1}", email=f"user{i + 1}@example.com")
    session.commit()
    return Clock(monkeypatch, T0 + timedelta(minutes=1))


def _first_steps(session) -> list[Message]:
    session.expire_all()
    rows = list(session.exec(select(Message).where(Message.step_index == 0).order_by(Message.id)))
    session.commit()
    return rows


def _drain(session, engine, sender, moved: Clock, passes: int = 80) -> None:
    """Dispatcher passes until every first step is settled, moving the clock past each hold; the real
    time spent is only what the rate limiter makes the sender wait."""
    for _ in range(passes):
        dispatch(session, engine, sender)
        if all(m.status in (MessageStatus.sent, MessageStatus.failed) for m in _first_steps(session)):
            return
        moved.advance(seconds=30)
    raise AssertionError([(m.status, m.last_error) for m in _first_steps(session)])


def test_a_replay_answered_429_keeps_its_key_and_never_sends_twice(session, engine, monkeypatch):
    moved = _welcome(session, monkeypatch, 3)
    with resend_with_verified_domain(session) as (fake, sender):
        fake.lose_answers = ["500"]  # the batch is accepted, its answer lost
        fake.limit_replays = 1  # and its first replay is rate limited
        _drain(session, engine, sender, moved)
        rows = _first_steps(session)
        assert [m.status for m in rows] == [MessageStatus.sent] * 3
        assert fake.delivered() == {m.to_email: 1 for m in rows}
        assert len({r["key"] for r in fake.requests}) == 1 and len(fake.requests) == 3
        assert fake.calls_inside_a_retry_after() == []


def test_rate_limiting_is_waiting_never_failure(session, engine, monkeypatch):
    moved = _welcome(session, monkeypatch, 1)
    with resend_with_verified_domain(session) as (fake, sender):
        fake.inject(429, "rate_limit_exceeded", {"retry-after": "0.5"}, times=dispatcher.MAX_ATTEMPTS + 2)
        dispatch(session, engine, sender)
        [waiting] = _first_steps(session)
        assert waiting.status == MessageStatus.scheduled and "429 rate_limit_exceeded" in waiting.last_error
        _drain(session, engine, sender, moved)
        [sent] = _first_steps(session)
        assert sent.status == MessageStatus.sent and sent.attempts == 1
        assert fake.delivered() == {sent.to_email: 1}
        assert len(fake.requests) == dispatcher.MAX_ATTEMPTS + 3
        assert fake.calls_inside_a_retry_after() == []


def test_retry_after_attempts_ran_out_replays_under_the_original_key(session, engine, monkeypatch):
    moved = _welcome(session, monkeypatch, 3)
    with resend_with_verified_domain(session) as (fake, sender):
        sender._limiter = rate_limit.LocalRateLimiter(1000)
        fake.lose_answers = ["500"]
        fake.inject(500, "internal_server_error", times=dispatcher.MAX_ATTEMPTS - 1)
        _drain(session, engine, sender, moved)
        failed = _first_steps(session)
        assert [m.status for m in failed] == [MessageStatus.failed] * 3
        assert all("may have been sent" in m.last_error and m.maybe_sent_since for m in failed)
        outbox.retry(session=session, message_id=failed[0].id)
        session.commit()
        _drain(session, engine, sender, moved)
        rows = _first_steps(session)
        assert [m.status for m in rows] == [MessageStatus.sent] * 3
        assert fake.delivered() == {m.to_email: 1 for m in rows}
        assert len({r["key"] for r in fake.requests}) == 1


def test_past_the_idempotency_window_a_person_decides(session, engine, monkeypatch):
    moved = _welcome(session, monkeypatch, 1)
    with resend_with_verified_domain(session) as (fake, sender):
        fake.lose_answers = ["drop"]
        dispatch(session, engine, sender)
        [unsure] = _first_steps(session)
        assert unsure.status == MessageStatus.sending and unsure.maybe_sent_since is not None
        moved.advance(hours=24)
        dispatch(session, engine, sender)
        [unsure] = _first_steps(session)
        assert unsure.status == MessageStatus.failed and "24 h idempotency window" in unsure.last_error
        assert len(fake.requests) == 1
        findings = {f.key for f in diagnostics.run_checks(session=session, resend_configured=True)}
        assert "maybe_sent" in findings
        with pytest.raises(ValidationFailed):
            outbox.retry(session=session, message_id=unsure.id)
        outbox.retry(session=session, message_id=unsure.id, confirm=True)
        session.commit()
        _drain(session, engine, sender, moved)
        assert _first_steps(session)[0].status == MessageStatus.sent


def test_an_unreachable_rate_limiter_leaves_nothing_sending(session, engine, monkeypatch):
    _welcome(session, monkeypatch, 2)
    with resend_with_verified_domain(session) as (fake, sender):

        class Down(rate_limit.LocalRateLimiter):
            def reserve(self):
                raise ConnectionError("redis is down")

        sender._limiter = Down()
        report = dispatch(session, engine, sender)
        rows = _first_steps(session)
        assert report.retried == 2 and fake.requests == []
        assert all(m.status == MessageStatus.scheduled and m.attempts == 0 and m.batch_key is None for m in rows)
        assert all("rate limiter unreachable" in m.last_error for m in rows)


def test_busy_team_lossy_slow_provider_delivers_each_email_exactly_once(session, engine, monkeypatch):
    moved = _welcome(session, monkeypatch, 8)
    with resend_with_verified_domain(session) as (fake, sender):
        sender.max_batch = 3
        fake.rate_limit_per_second = 2
        fake.share_budget(1.5)
        fake.latency_s = (1.0, 2.0)
        fake.lose_answers = ["500", "drop"]
        fake.limit_replays = 2
        _drain(session, engine, sender, moved)
        rows = _first_steps(session)
        assert [m.status for m in rows] == [MessageStatus.sent] * 8
        assert fake.delivered() == {m.to_email: 1 for m in rows}
        assert fake.rate_limited > 0 and fake.calls_inside_a_retry_after() == []  # limited, and waited it out


@pytest.fixture
def redis_proxy():
    """Real Redis reached through a proxy the test can freeze: Redis hung, never the shared server itself."""
    proxy = FrozenProxy(upstream=("127.0.0.1", 6379))
    yield proxy
    proxy.close()


@pytest.mark.parametrize("outage", ["refused", "hung mid-send"])
def test_emails_claimed_while_redis_is_away_go_out_in_the_same_pass_each_once(
    session, engine, monkeypatch, redis_proxy, outage
):
    _welcome(session, monkeypatch, 6)  # the clock stands still: a row left `sending` would wait for its lease
    with resend_with_verified_domain(session) as (fake, sender):
        fake.rate_limit_per_second = 50  # answers carry `ratelimit-limit`: every send tells the limiter
        sender.max_batch = 1  # one call per email, each asking the limiter
        port = 1 if outage == "refused" else redis_proxy.port
        limiter = rate_limit.RedisRateLimiter(f"redis://127.0.0.1:{port}/9", namespace=f"humanic-test:{uuid.uuid4()}")
        sender._limiter = limiter
        redis_proxy.freeze_on(b"$3\r\nSET\r\n")  # Redis stops answering after the first call, before its answer is fed
        report = dispatch(session, engine, sender)
        rows = _first_steps(session)
        assert report.sent == 6 and [m.status for m in rows] == [MessageStatus.sent] * 6
        assert fake.delivered() == {m.to_email: 1 for m in rows} and len(fake.requests) == 6
        assert {m.attempts for m in rows} == {1} and limiter.unreachable_since is not None


@pytest.fixture
def worker_on_redis(engine, monkeypatch, redis_proxy):
    """workers.py's dispatcher side on this test's database, its rate limiter on Redis through the proxy."""
    from humanic_app import workers
    from humanic_app.settings import get_settings

    redis_url = f"redis://127.0.0.1:{redis_proxy.port}/9"
    monkeypatch.setenv("REFLEX_REDIS_URL", redis_url)
    get_settings.cache_clear()
    monkeypatch.setattr(workers, "get_engine", lambda: engine)
    monkeypatch.setattr(workers, "_pacing_reported", (False, 0.0))
    yield workers, workers._rate_limiter(redis_url)
    get_settings.cache_clear()


def test_pipeline_health_says_so_while_sends_are_paced_locally(engine, worker_on_redis, redis_proxy):
    workers, limiter = worker_on_redis

    def pacing_said() -> str:
        workers.report_pacing()
        with Session(engine) as session:
            return dashboard.health(session=session, since=T0)["pacing"]

    limiter.reserve()
    assert pacing_said() == ""
    redis_proxy.freeze()
    limiter.reserve()
    assert pacing_said().startswith("Redis is unreachable: 1 worker paces its sends with a local rate limiter")
    redis_proxy.resume()
    limiter._ask_again_at = 0.0  # as when REDIS_RETRY_S has passed
    # no send needed: an idle worker's report asks Redis again itself
    assert pacing_said() == "" and limiter.unreachable_since is None
