"""What the dispatcher's tests share: a world with one due welcome email, dispatching from the test's
session, and a fake Resend with a verified domain."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from sqlmodel import select

from humanic_app import clock
from humanic_app.models import Message
from humanic_app.services import workspace
from humanic_app.services.delivery import dispatcher
from tests.support.campaign_world import T0, World, linear


def setup_world(session, monkeypatch, slug="onboarding-activation"):
    """`slug`: a ready-made campaign in the linear form these tests were written for (four emails)."""
    world = World(session)
    workspace.update_workspace(session=session, changes={"from_name": "Acme", "physical_address": "1 Main St"})
    campaign = world.campaign(linear(slug))
    monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(minutes=1))
    world.send("user_signed_up", T0, email="ada@example.com")
    session.commit()
    return world, campaign


def statuses(session):
    session.expire_all()
    result = [m.status.value for m in session.exec(select(Message).order_by(Message.step_index, Message.id))]
    session.commit()  # end the read, so the dispatcher's own connection can write (SQLite)
    return result


def dispatch(session, engine, sender, public_url="x"):
    session.commit()
    report = dispatcher.dispatch_due(engine=engine, sender=sender, public_url=public_url)
    session.expire_all()
    return report


@contextlib.contextmanager
def resend_with_verified_domain(session):
    """(fake Resend API, a real ResendSender pointed at it), with acme.io verified; the SDK's URL is
    restored afterwards, whatever the test did."""
    import resend

    from humanic_app.models import Domain
    from humanic_app.services.delivery.resend_sender import ResendSender
    from tests.support.fake_resend import FakeResend

    session.add(Domain(name="acme.io", resend_id="d-1", status="verified"))
    session.commit()
    before = resend.api_url
    try:
        with FakeResend() as fake:
            yield fake, ResendSender(api_key=fake.api_key, api_url=fake.url)
    finally:
        resend.api_url = before
