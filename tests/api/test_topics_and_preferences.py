"""Topics and the preference center: campaigns on a topic or transactional, the footer link's page
(per topic, all, resubscribe), RFC 8058 one-click per topic, the preferences API, and the send-time gate
that honours them — transactional mail exempt from marketing opt-outs, never from a bounce or a manual
suppression."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from humanic_app import clock
from humanic_app.models import Contact, Message, MessageStatus, Suppression, SuppressionReason
from humanic_app.services import suppression, topics
from humanic_app.services.delivery import dispatcher
from humanic_app.services.delivery.senders import LocalOutboxSender
from tests.support.campaign_world import T0, World

URL = "https://h.acme.io"


def _campaign(event: str, topic: str | None) -> dict:
    doc = {"name": f"On {event}", "trigger": {"event": event}, "reentry": "every_time"}
    doc["steps"] = [{"delay": 0, "subject": f"About {event}", "html": "<p>Hello {{ name }}</p>"}]
    return doc | ({"topic": topic} if topic else {})


@pytest.fixture
def world(engine, monkeypatch):
    """Two topics and four campaigns (product tips, announcements, transactional, no topic) for ada."""
    session = Session(engine, expire_on_commit=False)
    w = World(session)
    topics.create_topic(session=session, name="Product tips")
    topics.create_topic(session=session, name="Announcements")
    for event, topic in [("tip", "product-tips"), ("news", "announcements"), ("receipt", "transactional")]:
        w.campaign(_campaign(event, topic))
    w.campaign(_campaign("general", None))
    w.minute = 0
    yield w
    session.close()


def _send(world: World, monkeypatch, event: str) -> Message:
    """One event for ada, dispatched at once; returns its email as it ended up."""
    world.minute += 1
    at = T0 + timedelta(minutes=world.minute)
    monkeypatch.setattr(clock, "now", lambda: at + timedelta(seconds=30))
    world.send(event, at)
    world.session.commit()
    dispatcher.dispatch_due(engine=world.session.get_bind(), sender=LocalOutboxSender(), public_url=URL)
    world.session.expire_all()
    message = world.session.exec(select(Message).order_by(Message.id.desc())).first()
    world.session.commit()  # ends the read: the page's requests take the writer's turn
    return message


def _link(message: Message) -> str:
    return message.html.split(f'href="{URL}')[1].split('"')[0]


def _contact(world: World) -> Contact:
    world.session.expire_all()
    contact = world.session.exec(select(Contact)).one()
    world.session.commit()
    return contact


def test_one_click_opts_out_of_the_emails_topic_only(client, world, monkeypatch):
    tip = _send(world, monkeypatch, "tip")
    assert tip.status == MessageStatus.sent
    done = client.post(_link(tip), data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "You are unsubscribed from Product tips" in done.text
    assert _contact(world).unsubscribed_at is None

    refused = _send(world, monkeypatch, "tip")
    assert refused.status == MessageStatus.suppressed
    assert refused.last_error == "recipient opted out of the topic 'product-tips'"
    assert _send(world, monkeypatch, "news").status == MessageStatus.sent
    assert _send(world, monkeypatch, "general").status == MessageStatus.sent
    assert world.session.exec(select(Suppression)).first() is None  # a topic opt-out is not a suppression


def test_one_click_on_an_email_without_topic_unsubscribes_from_all_but_transactional_mail_goes(
    client, world, monkeypatch
):
    general = _send(world, monkeypatch, "general")
    assert client.post(_link(general), data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert _contact(world).unsubscribed_at is not None
    assert suppression.reasons_for(session=world.session, emails=["ada@example.com"]) == {
        "ada@example.com": "unsubscribed"
    }  # "all" still mirrors to the suppression list
    assert _send(world, monkeypatch, "news").last_error == "recipient unsubscribed"
    assert _send(world, monkeypatch, "receipt").status == MessageStatus.sent


def test_one_click_on_a_transactional_email_stops_marketing_and_says_account_mail_continues(client, world, monkeypatch):
    receipt = _send(world, monkeypatch, "receipt")
    done = client.post(_link(receipt), data={"List-Unsubscribe": "One-Click"})
    assert "will receive no more marketing emails" in done.text and "still arrive" in done.text
    assert _send(world, monkeypatch, "tip").status == MessageStatus.suppressed
    assert _send(world, monkeypatch, "receipt").status == MessageStatus.sent


@pytest.mark.parametrize("reason", [SuppressionReason.bounced, SuppressionReason.complained, SuppressionReason.manual])
def test_transactional_mail_still_meets_bounces_complaints_and_manual_suppression(world, monkeypatch, reason):
    suppression.add(session=world.session, email="ada@example.com", reason=reason)
    world.session.commit()
    refused = _send(world, monkeypatch, "receipt")
    assert (refused.status, refused.last_error) == (MessageStatus.suppressed, f"address suppressed ({reason.value})")


def test_the_preference_page_saves_topics_unsubscribes_from_all_and_resubscribes(client, world, monkeypatch):
    link = _link(_send(world, monkeypatch, "news"))
    page = client.get(link).text
    assert '<input type="checkbox" name="topic" value="product-tips" checked> Product tips' in page
    assert "<legend>Emails you receive</legend>" in page

    saved = client.post(link, data={"action": "save", "topic": ["announcements"]}).text
    assert 'role="status">Your choices are saved.' in saved
    assert 'value="product-tips"> Product tips' in saved  # unchecked now
    assert _send(world, monkeypatch, "tip").status == MessageStatus.suppressed  # honoured at once
    assert _send(world, monkeypatch, "news").status == MessageStatus.sent

    client.post(link, data={"action": "all"})
    assert _contact(world).unsubscribed_at is not None
    assert _send(world, monkeypatch, "news").status == MessageStatus.suppressed

    again = client.post(link, data={"action": "resubscribe"}).text
    assert "You are subscribed again." in again
    assert _contact(world).unsubscribed_at is None
    assert world.session.exec(select(Suppression)).first() is None
    assert _send(world, monkeypatch, "news").status == MessageStatus.sent
    assert _send(world, monkeypatch, "tip").status == MessageStatus.suppressed  # the topic choice stays


def test_resubscribing_never_lifts_a_bounce(client, world, monkeypatch):
    link = _link(_send(world, monkeypatch, "news"))
    client.post(link, data={"action": "all"})
    world.session.exec(select(Suppression)).one().reason = SuppressionReason.bounced
    world.session.commit()
    client.post(link, data={"action": "resubscribe"})
    assert world.session.exec(select(Suppression)).one().reason == SuppressionReason.bounced


def test_forged_and_unknown_links_show_no_address(client, world, monkeypatch):
    link = _link(_send(world, monkeypatch, "tip"))
    for bad in (link[:-2] + "xx", "/unsubscribe/999999." + link.rsplit(".", 1)[1]):
        for answer in (client.get(bad), client.post(bad, data={"action": "all"})):
            assert answer.status_code == 404 and "ada@example.com" not in answer.text
    assert _contact(world).unsubscribed_at is None


def test_topics_and_preferences_api(authed, world, monkeypatch):
    assert [t["key"] for t in authed.get("/api/v1/topics").json()] == ["announcements", "product-tips"]
    added = authed.post("/api/v1/topics", json={"name": "  Weekly   digest "})
    assert added.status_code == 201 and added.json()["key"] == "weekly-digest"
    duplicate = authed.post("/api/v1/topics", json={"name": "weekly digest"})
    assert duplicate.status_code == 422 and "A topic named like this already exists" in duplicate.text
    assert authed.post("/api/v1/topics", json={"name": "Transactional"}).status_code == 422
    in_use = next(t for t in authed.get("/api/v1/topics").json() if t["key"] == "product-tips")
    assert authed.delete(f"/api/v1/topics/{in_use['id']}").status_code == 409
    assert authed.delete(f"/api/v1/topics/{added.json()['id']}").status_code == 204

    _send(world, monkeypatch, "tip")
    contact_id = _contact(world).id
    prefs = authed.get(f"/api/v1/contacts/{contact_id}/preferences").json()
    assert prefs["unsubscribed_from_all"] is False and all(t["subscribed"] for t in prefs["topics"])
    put = authed.put(f"/api/v1/contacts/{contact_id}/preferences", json={"topics": {"product-tips": False}})
    assert put.status_code == 200
    assert {t["key"]: t["subscribed"] for t in put.json()["topics"]} == {"announcements": True, "product-tips": False}
    assert _send(world, monkeypatch, "tip").status == MessageStatus.suppressed
    bad = authed.put(f"/api/v1/contacts/{contact_id}/preferences", json={"topics": {"nope": False}})
    assert bad.status_code == 422 and "topics.nope" in str(bad.json())
    assert (
        authed.put(f"/api/v1/contacts/{contact_id}/preferences", json={"unsubscribed_from_all": "x"}).status_code == 422
    )
    assert authed.get("/api/v1/contacts/999999/preferences").status_code == 404
    assert authed.put(f"/api/v1/contacts/{contact_id}/preferences", json={"unsubscribed_from_all": True}).json()[
        "unsubscribed_from_all"
    ]


def test_renaming_a_topic_keeps_its_key_campaigns_and_opt_outs(authed, world, monkeypatch):
    contact_id = _send(world, monkeypatch, "tip").contact_id
    assert authed.put(f"/api/v1/contacts/{contact_id}/preferences", json={"topics": {"product-tips": False}}).is_success
    tips = next(t for t in authed.get("/api/v1/topics").json() if t["key"] == "product-tips")
    assert tips["opted_out"] == 1
    renamed = authed.patch(f"/api/v1/topics/{tips['id']}", json={"name": "  Tips and   tricks "})
    assert renamed.status_code == 200 and renamed.json() == {
        "id": tips["id"],
        "key": "product-tips",
        "name": "Tips and tricks",
    }
    listed = {t["key"]: (t["name"], t["opted_out"]) for t in authed.get("/api/v1/topics").json()}
    assert listed == {"announcements": ("Announcements", 0), "product-tips": ("Tips and tricks", 1)}
    assert _send(world, monkeypatch, "tip").status == MessageStatus.suppressed  # the opt-out still holds
    prefs = authed.get(f"/api/v1/contacts/{contact_id}/preferences").json()["topics"]
    assert {t["name"]: t["subscribed"] for t in prefs} == {"Announcements": True, "Tips and tricks": False}

    taken = authed.patch(f"/api/v1/topics/{tips['id']}", json={"name": "announcements"})
    assert taken.status_code == 422 and "Another topic is named announcements" in taken.text
    assert authed.patch(f"/api/v1/topics/{tips['id']}", json={"name": "!!"}).status_code == 422
    assert authed.patch(f"/api/v1/topics/{tips['id']}", json={"name": ""}).status_code == 422
    assert authed.patch("/api/v1/topics/999999", json={"name": "Fine"}).status_code == 404
    assert authed.patch(f"/api/v1/topics/{tips['id']}", json={"name": "x", "key": "y"}).status_code == 422


def test_a_campaign_names_an_existing_topic_with_field_named_errors(authed, world):
    doc = _campaign("other", "no-such-topic")
    answer = authed.post("/api/v1/campaigns", json=doc)
    assert answer.status_code == 422 and "topic" in str(answer.json()) and "No topic 'no-such-topic'" in answer.text
    answer = authed.post("/api/v1/campaigns", json=_campaign("other", "Product Tips!"))
    assert answer.status_code == 422 and "a topic is named by its key" in answer.text
    assert authed.post("/api/v1/campaigns", json=_campaign("other", "announcements")).status_code == 201


def test_the_dry_run_refuses_what_the_dispatcher_refuses(world, monkeypatch):
    """An opt-out of the campaign's topic: the dry run counts the email as not sent, for the reason the
    dispatcher writes on the row; the transactional campaign still sends."""
    from humanic_app.services.campaigns.dry_run import dry_run

    contact = _send(world, monkeypatch, "tip") and _contact(world)
    topics.set_topic(session=world.session, contact=contact, key="product-tips", subscribed=False)
    world.session.commit()
    refused = _send(world, monkeypatch, "tip")
    assert refused.status == MessageStatus.suppressed
    _send(world, monkeypatch, "receipt")

    tips = dry_run(session=world.session, document=_campaign("tip", "product-tips"), days=1)
    assert (tips["emails"], tips["not_sent"]) == (0, {refused.last_error: 2})  # both tip events, today's choice
    receipts = dry_run(session=world.session, document=_campaign("receipt", "transactional"), days=1)
    assert (receipts["emails"], receipts["not_sent"]) == (1, {})
    # Preview on the contact's own event says the same, before anyone sends a test
    from humanic_app.models import Event
    from humanic_app.services.campaigns.preview import preview_step

    event = world.session.exec(select(Event).where(Event.event_name == "tip")).first()
    shown = preview_step(session=world.session, document=_campaign("tip", "product-tips"), step_index=0, event=event)
    assert shown["sends"] == f"This contact would not get it: {refused.last_error}."
    receipt = world.session.exec(select(Event).where(Event.event_name == "receipt")).first()
    shown = preview_step(
        session=world.session, document=_campaign("receipt", "transactional"), step_index=0, event=receipt
    )
    assert "would go" in shown["sends"]
