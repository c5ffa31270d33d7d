"""Scenarios behind the one rules module: event properties from a custom body, `unless … match` on a
missing property, and pending emails after a step was removed from an active campaign."""

import copy
import json
import uuid
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from humanic_app import clock
from humanic_app.models import Message, MessageStatus
from humanic_app.services import processing, sources, workspace
from humanic_app.services.campaigns import rules, store
from humanic_app.services.campaigns.dry_run import dry_run
from humanic_app.services.campaigns.preview import queue_test_send
from humanic_app.services.delivery import dispatcher
from humanic_app.services.delivery.senders import LocalOutboxSender
from humanic_app.services.intake import payloads, storing
from tests.support.campaign_world import T0, World, linear

CUSTOM_MAPPING = {
    "event_name": "type",
    "user_id": "user",
    "email": "email",
    "event_uuid": "id",
    "timestamp": "at",
    "event_properties": "properties",
}


def custom_body(event: str, at: datetime, user: str = "u1", email: str = "ada@example.com", **properties) -> dict:
    return {
        "type": event,
        "user": user,
        "email": email,
        "id": str(uuid.uuid4()),
        "at": at.isoformat(),
        "properties": properties,
    }


def send_custom(world: World, body: dict) -> None:
    events = payloads.parse_body(json.dumps(body).encode(), world.source.mapping)
    storing.store_deliveries(
        session=world.session, deliveries=[storing.Delivery(source_id=world.source.id, headers={}, events=events)]
    )
    while processing.process_pending(session=world.session):
        pass


@pytest.fixture
def world(session):
    return World(session)


@pytest.fixture
def custom_world(session):
    world = World(session)
    sources.update_mapping(session=session, source_id=world.source.id, mapping=CUSTOM_MAPPING)
    session.commit()
    return world


def test_a_custom_body_where_clause_sees_the_mapped_properties(custom_world, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(days=2))
    custom_world.campaign(linear("drop-off-recovery"))
    send_custom(custom_world, custom_body("checkout_started", T0, cart_value=80, cart_id="c1"))
    assert custom_world.schedule() == [("ada@example.com", 0, T0 + timedelta(hours=24), "scheduled")]
    assert custom_world.decisions()[-1][0]["reason"].startswith("matched: enrolled")
    predicted = dry_run(session=custom_world.session, document=linear("drop-off-recovery"), days=7)
    assert [(e["to"], e["due_at"]) for e in predicted["sample"]] == [
        ("ada@example.com", (T0 + timedelta(hours=24)).isoformat())
    ]


def test_unless_on_a_different_custom_body_cart_does_not_cancel(custom_world):
    custom_world.campaign(linear("drop-off-recovery"))
    send_custom(custom_world, custom_body("checkout_started", T0, cart_value=80, cart_id="c1"))
    send_custom(custom_world, custom_body("checkout_completed", T0 + timedelta(hours=1), cart_id="c2"))
    assert [s[3] for s in custom_world.schedule()] == ["scheduled"]
    send_custom(custom_world, custom_body("checkout_completed", T0 + timedelta(hours=2), cart_id="c1"))
    assert [s[3] for s in custom_world.schedule()] == ["cancelled"]


def test_the_engines_history_reads_custom_body_properties_through_the_mapping(custom_world):
    """Out-of-order delivery: the completion is stored before the start it may cancel."""
    custom_world.campaign(linear("drop-off-recovery"))
    send_custom(custom_world, custom_body("checkout_completed", T0 + timedelta(hours=1), cart_id="c2"))
    send_custom(custom_world, custom_body("checkout_started", T0, cart_value=80, cart_id="c1"))
    assert [s[3] for s in custom_world.schedule()] == ["scheduled"]
    send_custom(custom_world, custom_body("checkout_completed", T0 + timedelta(hours=3), cart_id="c3"))
    send_custom(custom_world, custom_body("checkout_started", T0 + timedelta(hours=2), cart_value=90, cart_id="c3"))
    assert [s[3] for s in custom_world.schedule()] == ["scheduled"]
    assert custom_world.decisions()[-1][0]["reason"] == "cancelled by unless: checkout_completed already happened"


def test_unless_match_on_a_property_missing_on_either_side_never_matches(world):
    world.campaign(linear("drop-off-recovery"))
    world.send("checkout_started", T0, cart_value=80)  # no cart_id
    world.send("checkout_completed", T0 + timedelta(hours=1))  # no cart_id either: not the same cart
    world.send("checkout_completed", T0 + timedelta(hours=2), cart_id=None)
    assert [s[3] for s in world.schedule()] == ["scheduled"]
    world.send(
        "checkout_started", T0 + timedelta(hours=3), user="b", email="b@example.com", cart_value=90, cart_id="c9"
    )
    world.send("checkout_completed", T0 + timedelta(hours=4), user="b", email="b@example.com")  # missing here
    assert [s[3] for s in world.schedule()] == ["scheduled", "scheduled"]


def test_same_values_needs_every_key_set_and_equal_on_both_sides():
    assert rules.same_values(["cart_id"], {"cart_id": "c1"}, {"cart_id": "c1", "x": 1})
    assert not rules.same_values(["cart_id"], {}, {})
    assert not rules.same_values(["cart_id"], {"cart_id": None}, {"cart_id": None})
    assert not rules.same_values(["cart_id"], {"cart_id": "c1"}, {"cart_id": "c2"})
    assert not rules.same_values(["cart_id", "sku"], {"cart_id": "c1"}, {"cart_id": "c1"})
    assert rules.same_values([], {}, {})


def _dispatch(world, engine):
    world.session.commit()
    report = dispatcher.dispatch_due(
        engine=engine, sender=LocalOutboxSender(), public_url="https://h.acme.io", limit=500
    )
    world.session.expire_all()
    return report


def test_pending_emails_render_from_the_definition_they_were_scheduled_under(world, session, engine, monkeypatch):
    campaign = world.campaign(linear("onboarding-activation"))
    monkeypatch.setattr(clock, "now", lambda: T0 - timedelta(minutes=1))
    world.send("user_signed_up", T0)
    shorter = copy.deepcopy(linear("onboarding-activation"))
    shorter["steps"] = shorter["steps"][:1]
    shorter["steps"][0]["subject"] = "Edited welcome"
    store.update_campaign(session=session, campaign_id=campaign.id, document=shorter)
    world.send("user_signed_up", T0, user="u2", email="bo@example.com")  # enrols under the edited campaign
    workspace.update_workspace(session=session, changes={"frequency_cap": 0})
    session.commit()

    monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(days=11))
    assert _dispatch(world, engine).sent == 5
    sent = session.exec(
        select(Message).where(Message.status == MessageStatus.sent).order_by(Message.to_email, Message.step_index)
    ).all()
    assert [(m.to_email, m.step_index, m.subject) for m in sent] == [
        ("ada@example.com", 0, "Welcome to Acme, Ada"),
        ("ada@example.com", 1, "Finish setting up your workspace"),
        ("ada@example.com", 2, "A feature most teams love: dashboards"),
        ("ada@example.com", 3, "How is it going, Ada?"),
        ("bo@example.com", 0, "Edited welcome"),
    ]


def test_an_email_whose_step_is_gone_is_cancelled_and_the_rest_still_send(world, session, engine, monkeypatch):
    world.campaign(linear("onboarding-activation"))
    monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(minutes=1))
    world.send("user_signed_up", T0)
    orphan = session.exec(select(Message).where(Message.step_index == 3)).one()
    orphan.enrolment_id, orphan.step_index, orphan.due_at = None, 7, T0  # no snapshot to render from
    session.add(orphan)
    session.commit()
    report = _dispatch(world, engine)
    assert report.sent == 1 and report.cancelled == 1
    session.refresh(orphan)
    assert orphan.status == MessageStatus.cancelled
    assert orphan.last_error == "step 8 is not in the campaign definition it was scheduled under"


def test_test_sends_render_their_own_step(world, session, engine, monkeypatch):

    campaign = world.campaign(linear("onboarding-activation"))
    monkeypatch.setattr(clock, "now", lambda: T0)
    queue_test_send(
        session=session,
        document=campaign.definition,
        step_index=3,
        to="qa@example.com",
        variables={"name": "QA"},
        campaign_id=campaign.id,
    )
    shorter = copy.deepcopy(campaign.definition)
    shorter["steps"] = shorter["steps"][:1]
    store.update_campaign(session=session, campaign_id=campaign.id, document=shorter)
    assert _dispatch(world, engine).sent == 1
    sent = session.exec(select(Message).where(Message.is_test.is_(True))).one()
    assert sent.subject == "[Test] How is it going, QA?"
