"""The campaign preview is the email as sent (footer, unsubscribe link), and the ready-made campaigns speak
in the workspace's name."""

import re

from sqlmodel import select

from humanic_app.models import Event, Message, MessageStatus
from humanic_app.services import templates, workspace
from humanic_app.services.campaigns import library, preview, store
from humanic_app.services.delivery.senders import LocalOutboxSender
from tests.support.campaign_world import T0
from tests.support.dispatching import dispatch, setup_world

_SIGNED_LINK = re.compile(r"https?://[^\"'\s]+/unsubscribe/[^\"'\s<]+")


def test_preview_is_the_sent_email_footer_and_unsubscribe_link_included(session, engine, monkeypatch):
    _world, campaign = setup_world(session, monkeypatch)
    assert dispatch(session, engine, LocalOutboxSender(), "https://h.acme.io").sent == 1
    sent = session.exec(select(Message).where(Message.status == MessageStatus.sent)).one()
    event = session.exec(select(Event).where(Event.event_name == "user_signed_up")).one()

    shown = preview.preview_step(session=session, document=campaign.definition, step_index=0, event=event)

    assert "1 Main St" in shown["html"] and ">Unsubscribe</a>" in shown["html"]
    # the same bytes but for the signed per-message link, which a preview has no message to sign for
    assert _SIGNED_LINK.sub("LINK", shown["html"]) == _SIGNED_LINK.sub("LINK", sent.html)
    assert shown["subject"] == sent.subject and shown["from_address"] == sent.from_address


def test_templates_name_the_workspace_never_a_sample_company(session):
    workspace.update_workspace(session=session, changes={"name": "Northwind"})
    documents = library.templates(workspace_name=workspace.get_workspace(session=session).name)
    copy = library.dump(list(documents.values()))
    assert "Welcome to Northwind," in copy
    assert "acme" not in copy.lower() and library.WORKSPACE_NAME not in copy
    for document in documents.values():
        store.create_campaign(session=session, document=document)  # each still a valid campaign


def test_each_ready_made_campaign_has_a_card():
    cards = {card.slug: card for card in library.catalogue()}
    assert set(cards) == set(library.templates())
    assert all(card.purpose and card.purpose.endswith(".") and "\n" not in card.purpose for card in cards.values())
    assert (cards["onboarding-activation"].trigger, cards["onboarding-activation"].emails) == ("user_signed_up", 4)


def test_the_variables_picker_lists_what_the_event_and_its_contact_have(session, monkeypatch):
    world, _campaign = setup_world(session, monkeypatch)
    world.send("user_signed_up", T0, user="u2", email="grace@example.com", plan="pro", **{"$browser": "Firefox"})
    event = session.exec(select(Event).where(Event.distinct_id == "u2")).one()

    listed = dict(preview.variable_examples(session=session, event=event))

    assert listed["plan"] == "pro" and listed["email"] == "grace@example.com" and listed["name"] == "Ada"
    assert "$browser" not in listed  # a template cannot name it as it is
    assert list(listed) == sorted(listed)
    # the same names a template of that event sees: one reading of the event, not a second
    names = {n for n in preview.variables_for_event(session=session, event=event) if n.isidentifier()}
    assert set(listed) == names
    assert dict(preview.variable_examples(session=session, event=None))["feature_name"] == "Dashboards"  # a sample


def test_a_variable_is_inserted_with_a_fallback():
    assert templates.reference("name") == "{{ name | default('there') }}"
    assert templates.reference("plan") == "{{ plan | default('') }}"
    assert templates.render(subject=templates.reference("name"), html="", text=None, variables={}).subject == "there"
