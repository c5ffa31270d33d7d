"""Resend delivery events through Svix signatures; suppressions by API; the outbox honours them."""

import json
import time
from datetime import UTC

import pytest
from sqlmodel import Session, select

from humanic_app.models import DeliveryEvent, Message, MessageStatus, Suppression
from humanic_app.services import signing
from humanic_app.settings import get_settings

SECRET = signing.new_secret()


@pytest.fixture(autouse=True)
def resend_secret(monkeypatch):
    monkeypatch.setenv("RESEND_WEBHOOK_SECRET", SECRET)


def post_event(client, payload: dict, svix_id: str, secret: str = SECRET, stamp: int | None = None):
    body = json.dumps(payload).encode()
    stamp = stamp or int(time.time())
    headers = {
        "svix-id": svix_id,
        "svix-timestamp": str(stamp),
        "svix-signature": signing.sign(secret=secret, msg_id=svix_id, timestamp=stamp, body=body),
    }
    return client.post("/api/webhooks/resend", content=body, headers=headers)


def _message(engine, provider_id="re-1", to="ada@example.com") -> int:
    from datetime import datetime

    with Session(engine) as s:
        m = Message(
            to_email=to,
            due_at=datetime.now(UTC),
            idempotency_key=f"k-{provider_id}",
            status=MessageStatus.sent,
            provider_message_id=provider_id,
        )
        s.add(m)
        s.commit()
        return m.id


def event(kind: str, email_id="re-1", to="ada@example.com", **extra) -> dict:
    return {"type": kind, "created_at": "2026-11-26T10:00:00.000Z", "data": {"email_id": email_id, "to": [to], **extra}}


def test_signature_is_checked_on_the_raw_body(client, engine):
    assert post_event(client, event("email.delivered"), "msg_1", secret=signing.new_secret()).status_code == 401
    stale = post_event(client, event("email.delivered"), "msg_1", stamp=int(time.time()) - 301)
    assert stale.status_code == 401
    assert client.post("/api/webhooks/resend", content=b"{}").status_code == 401


def test_statuses_only_move_forward_and_retries_are_deduped(client, engine, authed):
    message_id = _message(engine)
    assert post_event(client, event("email.clicked"), "msg_c").json() == {"result": "recorded"}
    delivered = dict(event("email.delivered"), created_at="2026-11-26T09:59:00.000Z")
    assert post_event(client, delivered, "msg_d").status_code == 200  # late, out of order
    assert post_event(client, event("email.clicked"), "msg_c").json() == {"result": "duplicate"}
    with Session(engine) as s:
        assert s.get(Message, message_id).delivery_status == "clicked"
        assert len(s.exec(select(DeliveryEvent)).all()) == 2
    detail = authed.get(f"/api/v1/messages/{message_id}").json()
    assert [e["type"] for e in detail["delivery_events"]] == ["email.delivered", "email.clicked"]


@pytest.mark.parametrize(
    "payload,reason",
    [
        (event("email.bounced", bounce={"type": "Permanent", "message": "mailbox does not exist"}), "bounced"),
        (event("email.complained"), "complained"),
        (event("email.suppressed"), "provider"),
    ],
)
def test_permanent_bounce_complaint_and_suppressed_suppress_the_address(client, engine, authed, payload, reason):
    _message(engine)
    assert post_event(client, payload, f"msg_{reason}").status_code == 200
    assert authed.get("/api/v1/suppressions").json()[0] | {"created_at": None} == {
        "email": "ada@example.com",
        "reason": reason,
        "note": f"Resend {payload['type']}",
        "created_at": None,
    }


def test_transient_bounce_does_not_suppress(client, engine):
    _message(engine)
    post_event(client, event("email.bounced", bounce={"type": "Transient"}), "msg_t")
    with Session(engine) as s:
        assert s.exec(select(Suppression)).all() == []


def test_manual_suppression_list_and_the_outbox_honours_it(authed, engine):
    from datetime import datetime, timedelta

    from humanic_app.services import workspace
    from humanic_app.services.delivery import dispatcher
    from humanic_app.services.delivery.senders import LocalOutboxSender

    assert (
        authed.post("/api/v1/suppressions", json={"email": "Bo@Example.com", "note": "asked by phone"}).status_code
        == 201
    )
    assert authed.post("/api/v1/suppressions", json={"email": "nope"}).status_code == 422
    with Session(engine) as s:
        workspace.update_workspace(session=s, changes={"from_email": "hello@acme.io"})
        s.add(
            Message(
                to_email="bo@example.com",
                due_at=datetime.now(UTC) - timedelta(seconds=1),
                idempotency_key="k-bo",
                is_test=True,
                test_step={"subject": "Hi", "html": "<p>Hi</p>", "text": None, "delay": 0},
            )
        )
        s.commit()
    dispatcher.dispatch_due(engine=engine, sender=LocalOutboxSender(), public_url="https://h.acme.io")
    with Session(engine) as s:
        m = s.exec(select(Message).where(Message.idempotency_key == "k-bo")).one()
        assert m.status == MessageStatus.suppressed and m.last_error == "address suppressed (manual)"
    assert authed.delete("/api/v1/suppressions/bo@example.com").status_code == 204
    assert authed.delete("/api/v1/suppressions/bo@example.com").status_code == 404
    assert authed.get("/api/v1/suppressions").json() == []


def test_not_configured_is_404(client, monkeypatch):
    monkeypatch.delenv("RESEND_WEBHOOK_SECRET")
    get_settings.cache_clear()
    response = client.post("/api/webhooks/resend", content=b"{}")
    assert response.status_code == 404 and "RESEND_WEBHOOK_SECRET" in response.json()["error"]
