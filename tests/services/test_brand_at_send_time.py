"""A block email renders from the brand as it is when it is sent: a change made after an email was scheduled
reaches it, while raw-HTML steps keep rendering as they always did."""

from datetime import timedelta

import pytest
from sqlmodel import select

from humanic_app import clock
from humanic_app.models import Message, MessageStatus
from humanic_app.services import workspace
from humanic_app.services.delivery.senders import LocalOutboxSender
from humanic_app.services.design import brand
from humanic_app.services.errors import ValidationFailed
from tests.support.campaign_world import T0, World
from tests.support.dispatching import dispatch

WELCOME = {
    "name": "Welcome",
    "trigger": {"event": "user_signed_up"},
    "steps": [
        {
            "subject": "Welcome, {{ name }}",
            "delay": "1h",
            "blocks": [
                {"type": "heading", "text": "Welcome, {{ name }}"},
                {"type": "button", "label": "Start", "url": "https://acme.io/start"},
            ],
        },
        {"subject": "Old style", "delay": "1h", "html": "<p>Hand-written for {{ name }}</p>"},
    ],
}


def _sent(session) -> dict[str, Message]:
    rows = session.exec(select(Message).where(Message.status == MessageStatus.sent)).all()
    return {m.subject: m for m in rows}


def test_a_brand_change_reaches_emails_already_scheduled(session, engine, monkeypatch):
    world = World(session)
    workspace.update_workspace(session=session, changes={"name": "Acme", "from_name": "Acme"})
    world.campaign(WELCOME)
    monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(minutes=1))
    world.send("user_signed_up", T0, email="ada@example.com")
    session.commit()
    assert [m.status for m in session.exec(select(Message))] == [MessageStatus.scheduled] * 2

    brand.update(
        session=session,
        changes={
            "logo_url": "https://cdn.acme.io/logo-2026.png",
            "primary_colour": "#7a1fd0",
            "footer_text": "Acme GmbH",
        },
    )
    session.commit()
    monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(hours=2))
    assert dispatch(session, engine, LocalOutboxSender(), "https://h.acme.io").sent == 2

    sent = _sent(session)
    block_email = sent["Welcome, Ada"]
    assert "https://cdn.acme.io/logo-2026.png" in block_email.html and "background:#7a1fd0" in block_email.html
    assert "Acme GmbH<br />1 Main St<br />" in block_email.html and "https://h.acme.io/unsubscribe/" in block_email.html
    assert (
        "Start (https://acme.io/start)" in block_email.text
        and "Acme GmbH\n1 Main St\nUnsubscribe: " in block_email.text
    )
    old = sent["Old style"]
    assert old.html.startswith("<p>Hand-written for Ada</p><hr>") and "logo-2026" not in old.html


def test_brand_refusals_name_their_field(session):
    with pytest.raises(ValidationFailed) as refused:
        brand.update(
            session=session,
            changes={"logo_url": "/logo.png", "primary_colour": "blue", "logo_width": 10, "font_stack": "x;}"},
        )
    assert set(refused.value.field_errors) == {"logo_url", "primary_colour", "logo_width", "font_stack"}
    assert "absolute" in refused.value.field_errors["logo_url"]
    assert brand.read(session=session) == brand.Brand()  # nothing was stored
