"""One-click unsubscribe: signed links, GET asks, POST unsubscribes without cookies, and the outbox
suppresses what is still scheduled."""

from datetime import timedelta

from sqlmodel import Session, select

from humanic_app import clock
from humanic_app.models import Contact, Message, MessageStatus
from humanic_app.services.delivery import dispatcher
from humanic_app.services.delivery.senders import LocalOutboxSender
from tests.support.campaign_world import T0, World, linear


def test_unsubscribe_flow(client, engine, monkeypatch):
    with Session(engine, expire_on_commit=False) as session:
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

    page = client.get(link)
    assert page.status_code == 200 and "Stop all emails to <strong>ada@example.com" in page.text
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
