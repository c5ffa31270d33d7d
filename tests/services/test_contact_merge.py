"""Merging two contacts (one person seen under two identities) hands everything of the contact that goes
away to the one that stays: its enrolments and emails (so the survivor's exit goals and unsubscribe still
reach them), one campaign's duplicate enrolment settled by its re-entry rule, and any opt-out."""

from datetime import timedelta

from sqlmodel import select

from humanic_app import clock
from humanic_app.models import Contact, Enrolment, EnrolmentStatus, Event, Message, MessageStatus, SuppressionReason
from humanic_app.services import suppression, topics, unsubscribe, workspace
from humanic_app.services.delivery.senders import LocalOutboxSender
from tests.support.campaign_world import T0, World, linear
from tests.support.dispatching import dispatch


def _world(session, monkeypatch, slug="onboarding-activation"):
    world = World(session)
    workspace.update_workspace(session=session, changes={"from_name": "Acme", "physical_address": "1 Main St"})
    campaign = world.campaign(linear(slug))  # the linear forms: every email is written at enrolment
    monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(minutes=5))
    return world, campaign


def _alias(world, at):
    """PostHog's $create_alias: distinct_id u2 is u1 — the contact of u2 merges into the older one of u1."""
    world.send("$create_alias", at, user="u1", email=None, alias="u2")


def _messages(session) -> list[Message]:
    session.expire_all()
    return list(session.exec(select(Message).order_by(Message.enrolment_id, Message.step_index)))


def _only_contact(session) -> Contact:
    session.expire_all()
    [contact] = session.exec(select(Contact)).all()
    return contact


def test_merged_contacts_scheduled_emails_are_still_ended_by_an_exit_on_the_survivor(session, monkeypatch):
    world, _ = _world(session, monkeypatch)
    world.send("page_viewed", T0, user="u1", email="ada@example.com")
    world.send("user_signed_up", T0 + timedelta(minutes=1), user="u2", email="ada.work@example.com")
    assert [m.status for m in _messages(session)] == [MessageStatus.scheduled] * 4
    _alias(world, T0 + timedelta(minutes=2))

    survivor = _only_contact(session)
    [enrolment] = session.exec(select(Enrolment)).all()
    assert enrolment.contact_id == survivor.id and enrolment.status == EnrolmentStatus.active
    assert {m.contact_id for m in _messages(session)} == {survivor.id}
    assert {e.contact_id for e in session.exec(select(Event))} == {survivor.id}

    world.send("subscription_upgraded", T0 + timedelta(hours=1), user="u1", email=None)  # the exit goal
    session.expire_all()
    assert session.get(Enrolment, enrolment.id).status == EnrolmentStatus.exited
    assert [m.status for m in _messages(session)] == [MessageStatus.cancelled] * 4


def test_a_duplicate_enrolment_yields_exactly_one_email_per_step(session, engine, monkeypatch):
    world, _ = _world(session, monkeypatch)
    world.send("user_signed_up", T0, user="u1", email="ada@example.com")
    world.send("user_signed_up", T0 + timedelta(minutes=1), user="u2", email="ada.work@example.com")
    assert len(_messages(session)) == 8  # two contacts, two welcome sequences
    _alias(world, T0 + timedelta(minutes=2))

    survivor = _only_contact(session)
    first, duplicate = session.exec(select(Enrolment).order_by(Enrolment.id)).all()
    assert (first.contact_id, duplicate.contact_id) == (survivor.id, survivor.id)
    assert first.status == EnrolmentStatus.active and duplicate.status == EnrolmentStatus.cancelled
    assert "contacts merged" in duplicate.ended_reason and f"enrolment #{first.id}" in duplicate.ended_reason
    by_enrolment = {e: [m for m in _messages(session) if m.enrolment_id == e] for e in (first.id, duplicate.id)}
    assert [m.status for m in by_enrolment[first.id]] == [MessageStatus.scheduled] * 4
    assert [m.status for m in by_enrolment[duplicate.id]] == [MessageStatus.cancelled] * 4
    assert all(m.last_error == duplicate.ended_reason for m in by_enrolment[duplicate.id])

    report = dispatch(session, engine, LocalOutboxSender())
    assert report.sent == 1
    [sent] = [m for m in _messages(session) if m.status == MessageStatus.sent]
    assert sent.step_index == 0 and sent.to_email == "ada@example.com" and sent.contact_id == survivor.id


def test_the_earlier_enrolment_goes_on_whichever_contact_survives(session, monkeypatch):
    world, _ = _world(session, monkeypatch)
    world.send("page_viewed", T0, user="u1", email="ada@example.com")  # the survivor: the older contact
    world.send("user_signed_up", T0 + timedelta(minutes=1), user="u2", email="ada.work@example.com")
    world.send("user_signed_up", T0 + timedelta(minutes=3), user="u1", email="ada@example.com")
    _alias(world, T0 + timedelta(minutes=4))

    merged = session.exec(select(Enrolment).order_by(Enrolment.enrolled_at)).all()
    assert [e.status for e in merged] == [EnrolmentStatus.active, EnrolmentStatus.cancelled]
    pending = [m for m in _messages(session) if m.status == MessageStatus.scheduled]
    assert {m.enrolment_id for m in pending} == {merged[0].id} and len(pending) == 4
    assert {m.to_email for m in pending} == {"ada.work@example.com"}  # the address it was scheduled for


def test_an_every_time_campaign_keeps_both_enrolments(session, monkeypatch):
    """One contact triggering an `every_time` campaign twice gets both sequences; a merge changes nothing."""
    world, _ = _world(session, monkeypatch, slug="drop-off-recovery")
    world.send("checkout_started", T0, user="u1", email="ada@example.com", cart_value=80)
    world.send("checkout_started", T0 + timedelta(minutes=1), user="u2", email="ada.work@example.com", cart_value=90)
    before = [m.status for m in _messages(session)]
    assert before and set(before) == {MessageStatus.scheduled}
    _alias(world, T0 + timedelta(minutes=2))
    survivor = _only_contact(session)
    assert {(e.contact_id, e.status) for e in session.exec(select(Enrolment))} == {
        (survivor.id, EnrolmentStatus.active)
    }
    assert len(session.exec(select(Enrolment)).all()) == 2
    assert [m.status for m in _messages(session)] == before


def test_an_unsubscribe_survives_the_merge(session, engine, monkeypatch):
    world, _ = _world(session, monkeypatch)
    world.send("page_viewed", T0, user="u1", email="ada@example.com")
    world.send("user_signed_up", T0 + timedelta(minutes=1), user="u2", email="ada.work@example.com")
    welcome = _messages(session)[0]
    assert unsubscribe.unsubscribe(session=session, token=unsubscribe.token_for(session=session, message_id=welcome.id))
    session.commit()
    _alias(world, T0 + timedelta(minutes=2))

    survivor = _only_contact(session)
    assert survivor.email == "ada@example.com" and survivor.unsubscribed_at is not None
    world.send("user_signed_up", T0 + timedelta(minutes=3), user="u1", email="ada@example.com")
    report = dispatch(session, engine, LocalOutboxSender())
    assert report.sent == 0
    assert not [m for m in _messages(session) if m.status == MessageStatus.sent]


def test_an_opt_out_of_the_survivors_address_covers_the_merged_contacts_emails(session, engine, monkeypatch):
    """The survivor complained at one address; the other contact's welcome, scheduled to its own address,
    must not reach the person either."""
    world, _ = _world(session, monkeypatch)
    world.send("page_viewed", T0, user="u1", email="ada@example.com")
    suppression.add(session=session, email="ada@example.com", reason=SuppressionReason.complained)
    world.send("user_signed_up", T0 + timedelta(minutes=1), user="u2", email="ada.work@example.com")
    _alias(world, T0 + timedelta(minutes=2))

    assert _only_contact(session).unsubscribed_at is not None
    report = dispatch(session, engine, LocalOutboxSender())
    assert report.sent == 0
    welcome = _messages(session)[0]
    assert welcome.to_email == "ada.work@example.com" and welcome.status == MessageStatus.suppressed


def test_a_bounce_stays_with_its_address(session, engine, monkeypatch):
    """A bounced address says nothing about the person: the merged contact is still mailed elsewhere."""
    world, _ = _world(session, monkeypatch)
    world.send("page_viewed", T0, user="u1", email="ada@example.com")
    suppression.add(session=session, email="ada@example.com", reason=SuppressionReason.bounced)
    world.send("user_signed_up", T0 + timedelta(minutes=1), user="u2", email="ada.work@example.com")
    _alias(world, T0 + timedelta(minutes=2))

    assert _only_contact(session).unsubscribed_at is None
    assert dispatch(session, engine, LocalOutboxSender()).sent == 1


def test_a_merge_inside_one_batch_links_every_event_to_the_survivor(session, monkeypatch):
    """An event matched to a contact that a later event of the same batch merges away ends up on the
    survivor, and the batch needs no one-by-one fallback."""
    import json

    from humanic_app.services import processing
    from humanic_app.services.intake import payloads, storing
    from humanic_app.services.samples import posthog_event

    world, _ = _world(session, monkeypatch)
    world.send("page_viewed", T0, user="u1", email="ada@example.com")
    world.send("user_signed_up", T0 + timedelta(minutes=1), user="u2", email="ada.work@example.com")
    bodies = [
        posthog_event(event="page_viewed", distinct_id="u2", timestamp=T0 + timedelta(minutes=2)),
        posthog_event(
            event="$create_alias", distinct_id="u1", timestamp=T0 + timedelta(minutes=3), properties={"alias": "u2"}
        ),
        posthog_event(event="subscription_upgraded", distinct_id="u2", timestamp=T0 + timedelta(minutes=4)),
    ]
    events = [e for body in bodies for e in payloads.parse_body(json.dumps(body).encode(), None)]
    storing.store_deliveries(
        session=session, deliveries=[storing.Delivery(source_id=world.source.id, headers={}, events=events)]
    )
    fallbacks = []
    monkeypatch.setattr(processing, "_process_one_by_one", lambda *a: fallbacks.append(a) or False)
    # PostgreSQL: a partition pass takes the first event, the serial pass the merge and what follows it
    passes = [processing.run_pass(session=session).processed for _ in range(3)]
    assert sum(passes) == 3 and passes[-1] == 0
    assert not fallbacks
    survivor = _only_contact(session)
    assert {e.contact_id for e in session.exec(select(Event))} == {survivor.id}
    assert [m.status for m in _messages(session)] == [MessageStatus.cancelled] * 4


def test_a_topic_opt_out_of_either_contact_survives_the_merge(session, engine, monkeypatch):
    world, _ = _world(session, monkeypatch)
    tips = topics.create_topic(session=session, name="Product tips")
    news = topics.create_topic(session=session, name="Announcements")
    world.send("page_viewed", T0, user="u1", email="ada@example.com")
    world.send("page_viewed", T0 + timedelta(minutes=1), user="u2", email="ada.work@example.com")
    first, second = session.exec(select(Contact).order_by(Contact.id)).all()
    topics.set_topic(session=session, contact=first, key=tips.key, subscribed=False)
    topics.set_topic(session=session, contact=second, key=tips.key, subscribed=False)
    topics.set_topic(session=session, contact=second, key=news.key, subscribed=False)
    session.commit()
    _alias(world, T0 + timedelta(minutes=2))

    survivor = _only_contact(session)
    assert {t["key"]: t["subscribed"] for t in topics.preferences(session=session, contact=survivor)["topics"]} == {
        "announcements": False,
        "product-tips": False,
    }
