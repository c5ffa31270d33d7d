"""Erasing and exporting a contact, on SQLite and PostgreSQL: everything about the person goes, a salted hash
of the address stays and stops every later email, new events (and ones still in the inbox) make a new contact
without history, and an email being sent at that moment is neither written back nor breaks the dispatcher."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import insert, select as sa_select
from sqlmodel import Session, SQLModel, func, select

from humanic_app import clock, db, migrations
from humanic_app.models import (
    Contact,
    ContactIdentity,
    DeliveryEvent,
    Enrolment,
    Event,
    Message,
    MessageStatus,
    Stat,
    Suppression,
    SuppressionReason,
)
from humanic_app.services import erasure, outbox, processing, suppression, unsubscribe
from humanic_app.services.delivery import messages as message_list
from humanic_app.services.delivery.senders import LocalOutboxSender
from humanic_app.services.errors import NotFound, ValidationFailed
from humanic_app.services.intake import inbox, payloads, storing
from humanic_app.services.samples import posthog_event
from humanic_app.settings import get_settings
from tests.support.campaign_world import T0
from tests.support.dispatching import dispatch, resend_with_verified_domain, setup_world

ADA = "ada@example.com"
BOB = "bob@example.com"


@pytest.fixture(autouse=True)
def secret(monkeypatch, tmp_path):
    monkeypatch.setenv("HUMANIC_SECRET_KEY", "erasure-test-secret")
    monkeypatch.setenv("HUMANIC_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()


def _ada(session: Session) -> Contact:
    return session.exec(select(Contact).where(Contact.email == ADA)).one()


def _count(session: Session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _everything_as_text(session: Session) -> str:
    return "\n".join(
        str(row) for table in SQLModel.metadata.sorted_tables for row in session.execute(sa_select(table)).all()
    )


def _sent_with_a_delivery_event(session, engine, monkeypatch):
    world, campaign = setup_world(session, monkeypatch)
    assert dispatch(session, engine, LocalOutboxSender()).sent == 1
    sent = session.exec(select(Message).where(Message.status == MessageStatus.sent)).one()
    suppression.record_resend_event(
        session=session,
        svix_id="msg_1",
        payload={"type": "email.delivered", "data": {"email_id": sent.provider_message_id, "to": [ADA]}},
    )
    session.commit()
    return world, campaign


def test_erasing_deletes_everything_about_the_person_and_keeps_only_a_salted_hash(session, engine, monkeypatch):
    world, _ = _sent_with_a_delivery_event(session, engine, monkeypatch)
    world.send("$pageview", T0 + timedelta(minutes=2), user="anon-ada", email=None)  # matches no one: no email
    session.commit()
    assert ADA in _everything_as_text(session) and "anon-ada" in _everything_as_text(session)
    world.send("$identify", T0 + timedelta(minutes=3), user="ada-1", email=ADA)
    stats_before = sorted((s.hour, s.name, s.key, s.count) for s in session.exec(select(Stat)))
    contact_id = _ada(session).id
    session.execute(
        ContactIdentity.__table__.insert().values(contact_id=contact_id, kind="distinct_id", value="anon-ada")
    )
    session.commit()
    events, identities = _count(session, Event), _count(session, ContactIdentity)

    done = erasure.erase_contact(session=session, contact_id=contact_id, actor="user #1")
    session.commit()

    assert (done.events, done.identities, done.messages, done.cancelled) == (events, identities, 4, 3)
    assert done.enrolments == 1
    assert done.delivery_events == 1 and done.address_suppressed
    for model in (Contact, ContactIdentity, Event, Enrolment, DeliveryEvent):
        assert _count(session, model) == 0, model
    kept_messages = session.exec(select(Message).order_by(Message.id)).all()  # anonymized: their ids stay taken
    assert [m.idempotency_key for m in kept_messages] == [f"erased-{m.id}" for m in kept_messages]
    assert sorted(m.status for m in kept_messages) == sorted([MessageStatus.sent] + [MessageStatus.cancelled] * 3)
    assert all(m.erased and m.contact_id is None and m.enrolment_id is None for m in kept_messages)
    assert all(
        (m.to_email, m.subject, m.html, m.variables, m.provider_message_id) == ("", "", "", {}, None)
        for m in kept_messages
    )
    text = _everything_as_text(session)
    assert ADA not in text and "anon-ada" not in text and "ada-1" not in text
    kept = session.exec(select(Suppression)).one()
    assert kept.reason == SuppressionReason.erased and kept.email.startswith(suppression.ERASED_PREFIX)
    assert suppression.is_suppressed(session=session, email=ADA.upper()) is not None
    assert sorted((s.hour, s.name, s.key, s.count) for s in session.exec(select(Stat))) == stats_before


def test_the_hash_depends_on_the_secret(session):
    one = suppression.erased_key(email=ADA, secret="one")
    assert one == suppression.erased_key(email=" Ada@Example.com ", secret="one")
    assert one != suppression.erased_key(email=ADA, secret="two")


def test_a_new_event_after_erasure_makes_a_new_contact_whose_emails_are_refused_as_suppressed(
    session, engine, monkeypatch
):
    world, _ = _sent_with_a_delivery_event(session, engine, monkeypatch)
    old_id = _ada(session).id
    erasure.erase_contact(session=session, contact_id=old_id, actor="user #1")
    session.commit()

    monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(days=1))
    world.send("user_signed_up", T0 + timedelta(days=1), email=ADA)
    session.commit()
    again = _ada(session)  # SQLite may hand the erased contact's id out again: the contact is new all the same
    assert again.created_at == T0 + timedelta(days=1)
    assert [i.value for i in session.exec(select(ContactIdentity).where(ContactIdentity.kind == "distinct_id"))] == [
        "u1"
    ]
    assert [e.event_name for e in session.exec(select(Event))] == ["user_signed_up"]  # no history
    dispatch(session, engine, LocalOutboxSender())
    first = session.exec(
        select(Message).where(Message.contact_id == again.id).order_by(Message.due_at, Message.id)
    ).first()
    assert first is not None and first.status == MessageStatus.suppressed
    assert first.last_error == "address suppressed (erased)" and first.sent_at is None


def test_an_email_being_sent_while_its_contact_is_erased_records_only_that_it_was_sent(session, engine, monkeypatch):
    setup_world(session, monkeypatch)
    contact_id = _ada(session).id
    session.commit()

    class ErasingMidSend(LocalOutboxSender):
        """The provider has the email when the contact is erased, before the dispatcher records the answer."""

        def send(self, emails, *, batch_key=None):
            results = super().send(emails, batch_key=batch_key)
            with db.session_scope(engine) as other:
                erasure.erase_contact(session=other, contact_id=contact_id, actor="user #1")
            return results

    report = dispatch(session, engine, ErasingMidSend())
    assert report.sent == 1
    row = session.exec(select(Message).where(Message.status == MessageStatus.sent)).one()
    assert row.erased and row.sent_at is not None and ADA not in _everything_as_text(session)
    assert (
        _count(session, Message) == 4
        and not session.exec(select(Message).where(Message.status == MessageStatus.scheduled)).all()
    )
    errors = session.exec(select(Stat).where(Stat.name == "dispatcher_error")).all()
    sent = session.exec(select(Stat).where(Stat.name == "sent")).all()
    assert errors == [] and sum(s.count for s in sent) == 1
    session.commit()
    assert dispatch(session, engine, LocalOutboxSender()).sent == 0


def test_export_holds_everything_about_the_contact_as_json(session, engine, monkeypatch):
    _sent_with_a_delivery_event(session, engine, monkeypatch)
    contact = _ada(session)
    exported = json.loads(json.dumps(erasure.export_contact(session=session, contact_id=contact.id)))
    assert exported["contact"]["email"] == ADA and exported["contact"]["id"] == contact.id
    assert ("distinct_id", "u1") in [(i["kind"], i["value"]) for i in exported["identities"]]
    assert exported["events"][0]["payload"]["event"]["event"] == "user_signed_up"
    assert len(exported["enrolments"]) == 1 and len(exported["messages"]) == 4
    assert [d["type"] for d in exported["delivery_events"]] == ["email.delivered"]
    assert exported["suppression"] is None
    suppression.add(session=session, email=ADA, reason=SuppressionReason.manual, note="asked")
    assert erasure.export_contact(session=session, contact_id=contact.id)["suppression"]["reason"] == "manual"


def test_an_unknown_contact_is_not_found(session):
    with pytest.raises(NotFound):
        erasure.erase_contact(session=session, contact_id=999, actor="user #1")
    with pytest.raises(NotFound):
        erasure.export_contact(session=session, contact_id=999)


def test_without_a_secret_on_postgresql_erasure_is_refused_with_the_fix(session, engine, monkeypatch, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite generates its secret into the data directory")
    setup_world(session, monkeypatch)
    monkeypatch.delenv("HUMANIC_SECRET_KEY")
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    with pytest.raises(ValidationFailed) as refused:
        erasure.erase_contact(session=session, contact_id=_ada(session).id, actor="user #1")
    assert "HUMANIC_SECRET_KEY" in refused.value.field_errors["contact"]


def test_rows_waiting_in_the_inbox_at_erasure_are_processed_afterwards_as_new_events(tmp_path, monkeypatch):
    """SQLite only (PostgreSQL has no inbox): a delivery for the address sits in the inbox when the contact is
    erased; moved and processed afterwards, it makes a new contact, and its email is refused as suppressed."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'humanic.db'}")
    with engine.begin() as conn:
        migrations.upgrade(connection=conn)
    try:
        with Session(engine, expire_on_commit=False) as session:
            world, _ = setup_world(session, monkeypatch)
            old_id = _ada(session).id
            body = posthog_event(event="user_signed_up", distinct_id="u1", email=ADA, timestamp=T0 + timedelta(hours=1))
            delivery = storing.Delivery(
                source_id=world.source.id, headers={}, events=payloads.parse_body(json.dumps(body).encode(), None)
            )
            box = inbox.for_engine(engine)
            assert box is not None
            session.commit()
            with box.append_turn() as (appending, snapshot):
                storing.append_to_inbox(box=box, session=appending, main=snapshot, deliveries=[delivery])

            erasure.erase_contact(session=session, contact_id=old_id, actor="user #1")
            session.commit()
            assert _count(session, Event) == 0

            storing.move_from_inbox(box=box, session=session)
            while processing.process_pending(session=session):
                pass
            session.commit()
            again = _ada(session)
            assert again.created_at > T0 and _count(session, Event) == 1
            monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(hours=2))
            dispatch(session, engine, LocalOutboxSender())
            statuses = [m.status for m in session.exec(select(Message).where(Message.contact_id == again.id))]
            assert MessageStatus.suppressed in statuses and MessageStatus.sent not in statuses
    finally:
        engine.dispose()


def test_erasing_a_contact_with_10000_events_is_quick(session, engine, monkeypatch, database_url, capsys):
    setup_world(session, monkeypatch)
    contact = _ada(session)
    rows = [
        {
            "source_id": None,
            "received_at": T0,
            "outcome": "processed",
            "reason": "",
            "event_name": "$pageview",
            "distinct_id": "u1",
            "payload": {"event": "$pageview", "properties": {"$current_url": f"https://acme.io/{i}"}},
            "contact_id": contact.id,
        }
        for i in range(10_000)
    ]
    session.execute(insert(Event), rows)
    session.commit()
    started = time.perf_counter()
    done = erasure.erase_contact(session=session, contact_id=contact.id, actor="user #1")
    session.commit()
    elapsed = time.perf_counter() - started
    assert done.events == 10_001 and _count(session, Event) == 0
    with capsys.disabled():
        print(f"\nerasing a contact with 10,000 events on {database_url.split(':')[0]}: {elapsed * 1000:.0f} ms")
    assert elapsed < 10


def _bob_signs_up(world, monkeypatch, minutes: int = 2) -> None:
    monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(minutes=minutes + 1))
    world.send("user_signed_up", T0 + timedelta(minutes=minutes), user="u2", email=BOB)
    world.session.commit()


def test_an_enrolment_reusing_an_erased_ones_id_still_gets_its_email_past_the_providers_dedup(
    session, engine, monkeypatch, database_url
):
    """SQLite hands the erased (newest) enrolment's id to the next one; Resend answers a key it saw in the
    last 24 h without sending, so the key must differ between the two enrolments."""
    world, _ = setup_world(session, monkeypatch)
    with resend_with_verified_domain(session) as (fake, sender):
        assert dispatch(session, engine, sender).sent == 1
        erased_enrolment = session.exec(select(Enrolment.id)).one()
        erasure.erase_contact(session=session, contact_id=_ada(session).id, actor="user #1")
        session.commit()

        _bob_signs_up(world, monkeypatch)
        bobs = session.exec(select(Enrolment)).one()
        if database_url.startswith("sqlite"):
            assert bobs.id == erased_enrolment  # the hazard this test is about
        assert dispatch(session, engine, sender).sent == 1
        assert [email["to"] for email in fake.sent] == [[ADA], [BOB]]
        keys = [email["idempotency_key"] for email in fake.sent]
        assert keys[0] != keys[1] and keys[1].startswith(f"enrolment-{bobs.id}-") and keys[1].endswith("-step-0")


def test_an_erased_persons_unsubscribe_link_does_nothing_to_the_next_recipient(session, engine, monkeypatch):
    world, _ = setup_world(session, monkeypatch)
    assert dispatch(session, engine, LocalOutboxSender()).sent == 1
    adas = session.exec(select(Message).where(Message.status == MessageStatus.sent)).one()
    old_link = unsubscribe.token_for(session=session, message_id=adas.id)
    erased_ids = set(session.exec(select(Message.id)).all())
    erasure.erase_contact(session=session, contact_id=_ada(session).id, actor="user #1")
    session.commit()

    _bob_signs_up(world, monkeypatch)
    bobs = session.exec(select(Message).where(Message.to_email == BOB)).all()
    assert bobs and not erased_ids & {m.id for m in bobs}  # SQLite would have reused the erased ids
    assert unsubscribe.message_for_token(session=session, token=old_link) is None  # the GET page shows nothing
    assert unsubscribe.unsubscribe(session=session, token=old_link) is None
    session.commit()
    assert session.exec(select(Contact).where(Contact.email == BOB)).one().unsubscribed_at is None
    assert suppression.is_suppressed(session=session, email=BOB) is None


def test_an_erased_email_is_listed_as_erased_never_retried_and_never_exported(session, engine, monkeypatch):
    world, _ = setup_world(session, monkeypatch)

    class Refused(LocalOutboxSender):
        def send(self, emails, *, batch_key=None):
            return [
                dataclasses.replace(r, ok=False, error="validation_error: no", retryable=False)
                for r in super().send(emails, batch_key=batch_key)
            ]

    dispatch(session, engine, Refused())
    failed = session.exec(select(Message).where(Message.status == MessageStatus.failed)).one()
    erasure.erase_contact(session=session, contact_id=_ada(session).id, actor="user #1")
    session.commit()

    session.refresh(failed)
    assert message_list.message_as_dict(failed)["erased"] and message_list.message_as_dict(failed)["to"] == ""
    with pytest.raises(ValidationFailed) as refused:
        outbox.retry(session=session, message_id=failed.id)
    assert "erased" in refused.value.field_errors["status"]
    monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(days=1))
    world.send("user_signed_up", T0 + timedelta(days=1), email=ADA)  # the address comes back as a new contact
    session.commit()
    exported = erasure.export_contact(session=session, contact_id=_ada(session).id)
    assert failed.id not in {m["id"] for m in exported["messages"]}
    assert all(m["to_email"] == ADA for m in exported["messages"])
