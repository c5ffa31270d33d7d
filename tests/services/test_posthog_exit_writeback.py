"""An enrolment that ends because its campaign is archived, or because contacts merged and the campaign's
re-entry rule cancels the duplicate, is written back to PostHog as "humanic campaign exited": once per
enrolment, under a uuid derived from it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from humanic_app import clock
from humanic_app.models import CampaignStatus, Enrolment, EnrolmentStatus, PosthogCapture
from humanic_app.services import workspace
from humanic_app.services.campaigns import store
from humanic_app.services.posthog import capture, connection
from tests.support.campaign_world import T0, World, linear

pytestmark = pytest.mark.usefixtures("operator_secret_in_tmp")


def _world(session, monkeypatch, posthog):
    world = World(session)
    workspace.update_workspace(session=session, changes={"from_name": "Acme", "physical_address": "1 Main St"})
    campaign = world.campaign(linear("onboarding-activation"))
    connection.save(session=session, host=posthog.url, api_key=posthog.api_key)
    session.commit()
    monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(minutes=5))
    return world, campaign


def _exits(session) -> list[PosthogCapture]:
    session.expire_all()
    return list(session.exec(select(PosthogCapture).where(PosthogCapture.kind == "campaign_exited")))


def test_archiving_a_campaign_writes_each_active_enrolment_s_exit_once(session, monkeypatch, posthog):
    world, campaign = _world(session, monkeypatch, posthog)
    world.send("user_signed_up", T0, user="u1", email="ada@example.com")
    world.send("user_signed_up", T0, user="u2", email="bob@example.com")
    enrolments = session.exec(select(Enrolment).order_by(Enrolment.id)).all()
    assert len(enrolments) == 2 and _exits(session) == []

    store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.archived)
    session.commit()

    exits = sorted(_exits(session), key=lambda c: c.contact_id or 0)
    assert [(c.contact_id, c.uuid) for c in exits] == [
        (e.contact_id, capture.uuid_for(f"exited:{e.id}")) for e in sorted(enrolments, key=lambda e: e.contact_id)
    ]
    assert all(c.event == "humanic campaign exited" for c in exits)
    assert all(c.properties == {"campaign_id": campaign.id, "reason": "campaign archived"} for c in exits)
    world.send("subscription_upgraded", T0 + timedelta(hours=1), user="u1", email=None)  # nothing active to end
    assert len(_exits(session)) == 2


def test_a_duplicate_enrolment_cancelled_by_a_merge_writes_its_exit(session, monkeypatch, posthog):
    world, campaign = _world(session, monkeypatch, posthog)
    world.send("user_signed_up", T0, user="u1", email="ada@example.com")
    world.send("user_signed_up", T0 + timedelta(minutes=1), user="u2", email="ada.work@example.com")
    world.send("$create_alias", T0 + timedelta(minutes=2), user="u1", email=None, alias="u2")  # u2 is u1

    session.expire_all()
    first, duplicate = session.exec(select(Enrolment).order_by(Enrolment.id)).all()
    assert duplicate.status == EnrolmentStatus.cancelled and first.status == EnrolmentStatus.active
    [exited] = _exits(session)
    assert exited.uuid == capture.uuid_for(f"exited:{duplicate.id}")
    assert exited.contact_id == first.contact_id  # the contact that stays, whose distinct_id PostHog knows
    assert exited.properties["campaign_id"] == campaign.id
    assert "contacts merged" in exited.properties["reason"]
