"""The Resend sender against a local fake of Resend's HTTP API (never the real one)."""

import pytest

from humanic_app.services import rate_limit
from humanic_app.services.delivery.resend_sender import ResendSender
from humanic_app.services.delivery.senders import OutgoingEmail
from tests.support.fake_resend import FakeResend


def email(i: int, to: str = "ada@example.com", sender: str = "Acme <hello@acme.io>") -> OutgoingEmail:
    return OutgoingEmail(
        message_id=i,
        idempotency_key=f"enrolment-1-step-{i}",
        from_address=sender,
        to=to,
        subject=f"Hello {i}",
        html="<p>Hi</p>",
        text="Hi",
        headers={"List-Unsubscribe": "<https://h.acme.io/u/x>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        tags=[{"name": "campaign", "value": "1"}],
    )


@pytest.fixture
def fake():
    with FakeResend() as server:
        yield server


@pytest.fixture
def sender(fake):
    import resend

    before = resend.api_url
    yield ResendSender(api_key=fake.api_key, api_url=fake.url)
    resend.api_url = before


def test_sends_with_idempotency_key_headers_and_tags(fake, sender):
    [result] = sender.send([email(1)])
    assert result.ok and result.provider_message_id == fake.sent[0]["id"]
    sent = fake.sent[0]
    assert sent["idempotency_key"] == "enrolment-1-step-1" and sent["to"] == ["ada@example.com"]
    assert sent["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert sent["tags"] == [{"name": "campaign", "value": "1"}]


def test_replayed_key_returns_the_same_email_not_a_second_one(fake, sender):
    first = sender.send([email(1)])[0]
    again = sender.send([email(1)])[0]
    assert again.ok and again.provider_message_id == first.provider_message_id and len(fake.sent) == 1


def test_rate_limit_is_retryable_and_known_unsent_and_pushes_every_sender_back(fake, sender):
    fake.inject(429, "rate_limit_exceeded", {"retry-after": "2"})
    [limited] = sender.send([email(1)])
    assert not limited.ok and limited.retryable and not limited.maybe_sent and limited.retry_after_s == 2.0
    assert sender._limiter.reserve() > 1.5  # the next call waits out the retry-after
    assert fake.sent == []


@pytest.mark.parametrize("status,name", [(500, "internal_server_error"), (409, "concurrent_idempotent_requests")])
def test_server_errors_are_retryable_and_may_have_been_sent(fake, status, name):
    sender = ResendSender(api_key=fake.api_key, api_url=fake.url, limiter=rate_limit.LocalRateLimiter(1000))
    fake.inject(status, name)
    [broken] = sender.send([email(1)])
    assert not broken.ok and broken.retryable and broken.maybe_sent
    [again] = sender.send([email(1)])
    assert again.ok and len(fake.sent) == 1


def test_several_due_emails_go_in_one_batch_call_under_the_batch_key(fake):
    sender = ResendSender(api_key=fake.api_key, api_url=fake.url, limiter=rate_limit.LocalRateLimiter(1000))
    results = sender.send(
        [email(1), email(2, to="bob@example.com"), email(3, to="cy@example.com")], batch_key="humanic-batch/1"
    )
    assert [r.ok for r in results] == [True, True, True]
    assert [r["path"] for r in fake.requests] == ["/emails/batch"]
    assert fake.requests[0]["key"] == "humanic-batch/1"
    assert [s["to"] for s in fake.sent] == [["ada@example.com"], ["bob@example.com"], ["cy@example.com"]]
    assert [r.provider_message_id for r in results] == [s["id"] for s in fake.sent]
    assert all(s["tags"] == [{"name": "campaign", "value": "1"}] for s in fake.sent)
    replayed = sender.send(
        [email(1), email(2, to="bob@example.com"), email(3, to="cy@example.com")], batch_key="humanic-batch/1"
    )
    assert [r.provider_message_id for r in replayed] == [r.provider_message_id for r in results]
    assert len(fake.sent) == 3


def test_one_invalid_email_fails_alone_in_a_batch(fake):
    sender = ResendSender(api_key=fake.api_key, api_url=fake.url, limiter=rate_limit.LocalRateLimiter(1000))
    good, bad = sender.send([email(1), email(2, sender="no address")], batch_key="humanic-batch/2")
    assert good.ok and not bad.ok and not bad.retryable and "validation_error" in bad.error
    assert len(fake.sent) == 1


def test_quota_errors_stop_sending_instead_of_retrying(fake, sender):
    fake.inject(429, "daily_quota_exceeded")
    [result] = sender.send([email(1)])
    assert not result.ok and not result.retryable and result.quota_exceeded == "daily"


@pytest.mark.parametrize(
    "status,name", [(422, "validation_error"), (409, "invalid_idempotent_request"), (429, "monthly_quota_exceeded")]
)
def test_permanent_errors_are_not_retried(fake, sender, status, name):
    fake.inject(status, name)
    [result] = sender.send([email(1)])
    assert not result.ok and not result.retryable and name in result.error


def test_network_error_is_retryable():
    sender = ResendSender(api_key="re_x", api_url="http://127.0.0.1:9")
    [result] = sender.send([email(1)])
    assert not result.ok and result.retryable and result.maybe_sent  # the SDK reports refused connections as a 500
