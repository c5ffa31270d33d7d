"""The Resend sender against a local fake of Resend's HTTP API (never the real one)."""


import pytest

from humanic_app.services.delivery.resend_sender import ResendSender
from humanic_app.services.delivery.senders import OutgoingEmail
from tests.support.fake_resend import FakeResend


def email(i: int, to: str = "ada@example.com", sender: str = "Acme <hello@acme.io>") -> OutgoingEmail:
    return OutgoingEmail(message_id=i, idempotency_key=f"enrolment-1-step-{i}", from_address=sender, to=to,
                         subject=f"Hello {i}", html="<p>Hi</p>", text="Hi",
                         headers={"List-Unsubscribe": "<https://h.acme.io/u/x>",
                                  "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
                         tags=[{"name": "campaign", "value": "1"}])


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


def test_rate_limit_and_server_errors_are_retryable_with_retry_after(fake, sender):
    fake.inject(429, "rate_limit_exceeded", {"retry-after": "2"})
    fake.inject(500, "internal_server_error")
    limited, broken = sender.send([email(1), email(2)])
    assert not limited.ok and limited.retryable and limited.retry_after_s == 2.0
    assert not broken.ok and broken.retryable
    assert all(r.ok for r in sender.send([email(1), email(2)])) and len(fake.sent) == 2


@pytest.mark.parametrize("status,name", [(422, "validation_error"), (409, "invalid_idempotent_request"),
                                         (429, "daily_quota_exceeded")])
def test_permanent_errors_are_not_retried(fake, sender, status, name):
    fake.inject(status, name)
    [result] = sender.send([email(1)])
    assert not result.ok and not result.retryable and name in result.error


def test_network_error_is_retryable():
    sender = ResendSender(api_key="re_x", api_url="http://127.0.0.1:9")
    [result] = sender.send([email(1)])
    assert not result.ok and result.retryable  # the SDK reports refused connections as a 500
