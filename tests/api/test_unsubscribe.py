"""One-click unsubscribe: signed links, GET asks, POST unsubscribes without cookies, and the outbox
suppresses what is still scheduled."""

import re
from datetime import timedelta

from sqlmodel import Session, select

from humanic_app import clock
from humanic_app.models import Contact, Message, MessageStatus
from humanic_app.services import workspace
from humanic_app.services.delivery import dispatcher
from humanic_app.services.delivery.senders import LocalOutboxSender
from tests.support.campaign_world import T0, World, linear


def _sent_welcome(engine, monkeypatch, *, workspace_name: str | None = None) -> str:
    """The onboarding campaign's first email sent to ada@example.com; returns its unsubscribe link's path."""
    with Session(engine, expire_on_commit=False) as session:
        if workspace_name:
            workspace.get_workspace(session=session).name = workspace_name
        world = World(session)
        world.campaign(linear("onboarding-activation"))
        monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(minutes=1))
        world.send("user_signed_up", T0, email="ada@example.com")
        session.commit()
    dispatcher.dispatch_due(engine=engine, sender=LocalOutboxSender(), public_url="https://h.acme.io")
    with Session(engine) as session:
        sent = session.exec(select(Message).where(Message.status == MessageStatus.sent)).one()
        link = sent.html.split('href="https://h.acme.io')[1].split('"')[0]
    assert link.startswith("/unsubscribe/") and str(sent.id) in link
    return link


def test_unsubscribe_flow(client, engine, monkeypatch):
    link = _sent_welcome(engine, monkeypatch)

    page = client.get(link)
    assert page.status_code == 200 and "sends to <strong>ada@example.com</strong>." in page.text
    with Session(engine) as session:
        assert session.exec(select(Contact)).one().unsubscribed_at is None  # GET never unsubscribes
    assert client.get(link[:-2] + "xx").status_code == 404
    assert client.post("/unsubscribe/999.forged").status_code == 404

    done = client.post(link, data={"List-Unsubscribe": "One-Click"}, follow_redirects=False)
    assert done.status_code == 200 and "unsubscribed" in done.text
    with Session(engine) as session:
        assert session.exec(select(Contact)).one().unsubscribed_at is not None

    monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(days=3))
    report = dispatcher.dispatch_due(engine=engine, sender=LocalOutboxSender(), public_url="https://h.acme.io")
    assert report.sent == 0
    with Session(engine) as session:
        statuses = [m.status for m in session.exec(select(Message).order_by(Message.step_index))]
    assert statuses == [MessageStatus.sent, MessageStatus.suppressed, MessageStatus.scheduled, MessageStatus.scheduled]


def test_unsubscribe_page_speaks_in_the_workspaces_name_and_reads_on_a_phone(client, engine, monkeypatch):
    link = _sent_welcome(engine, monkeypatch, workspace_name="Lumen & Co")

    asked = client.get(link).text
    assert re.search(r"<title>[^<]*Lumen &amp; Co[^<]*</title>", asked)
    assert "<h1>Your emails from Lumen &amp; Co</h1>" in asked
    assert "Choose what Lumen &amp; Co sends to <strong>ada@example.com</strong>." in asked
    assert '<html lang="en">' in asked
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in asked
    assert '<button type="submit" name="action" value="all" class="secondary">Unsubscribe from all</button>' in asked

    done = client.post(link).text
    assert re.search(r"<title>You are unsubscribed · Lumen &amp; Co</title>", done)
    assert "ada@example.com will receive no more marketing emails." in done

    unknown = client.get("/unsubscribe/1.forged")
    assert unknown.status_code == 404 and "Lumen &amp; Co" in unknown.text and '<html lang="en">' in unknown.text


def test_an_erased_contacts_unsubscribe_link_neither_shows_nor_does_anything(client, engine, monkeypatch, tmp_path):
    from humanic_app.services import erasure
    from humanic_app.settings import get_settings

    monkeypatch.setenv("HUMANIC_SECRET_KEY", "erasure-test-secret")
    get_settings.cache_clear()
    link = _sent_welcome(engine, monkeypatch)
    with Session(engine) as session:
        erasure.erase_contact(session=session, contact_id=session.exec(select(Contact)).one().id, actor="user #1")
        session.commit()

    page = client.get(link)
    assert page.status_code == 404 and "ada@example.com" not in page.text
    assert client.post(link, data={"List-Unsubscribe": "One-Click"}).status_code == 404
