"""Retry over the API: an email that may have reached Resend past its idempotency window is sent anew
only with confirm=true."""

from datetime import UTC, datetime, timedelta

from humanic_app.db import session_scope
from humanic_app.models import Message, MessageStatus
from humanic_app.services.delivery.dispatcher import NEEDS_A_PERSON


def test_retry_of_an_email_that_may_have_been_sent_needs_confirmation(authed, engine):
    long_ago = datetime.now(UTC) - timedelta(days=2)
    with session_scope(engine) as session:
        message = Message(
            to_email="ada@example.com",
            due_at=long_ago,
            idempotency_key="k-1",
            status=MessageStatus.failed,
            maybe_sent_since=long_ago,
            batch_key="humanic-batch/x",
            last_error=NEEDS_A_PERSON,
        )
        session.add(message)
        session.flush()
        message_id = message.id
    listed = authed.get(f"/api/v1/messages/{message_id}").json()
    assert listed["maybe_sent"] is True
    refused = authed.post(f"/api/v1/messages/{message_id}/retry")
    assert refused.status_code == 422 and "Emails log" in refused.text
    retried = authed.post(f"/api/v1/messages/{message_id}/retry", params={"confirm": "true"})
    assert retried.status_code == 200 and retried.json()["status"] == "scheduled"
    assert retried.json()["maybe_sent"] is False
