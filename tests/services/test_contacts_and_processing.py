"""Contact matching, identity merges, out-of-order property merges, and processing from stored rows."""

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from humanic_app.models import Contact, Event, EventOutcome, Source
from humanic_app.services import contacts, mapping, processing, sources
from humanic_app.services.intake import payloads, storing
from humanic_app.services.samples import posthog_event

T0 = datetime(2025, 4, 10, 14, 0, tzinfo=UTC)


def deliver(session: Session, source: Source, *bodies: dict) -> None:
    import json

    for body in bodies:
        events = payloads.parse_body(json.dumps(body).encode(), source.mapping)
        storing.store_deliveries(
            session=session, deliveries=[storing.Delivery(source_id=source.id, headers={}, events=events)]
        )


def test_anonymous_then_identify_links_both_distinct_ids(session):
    source = sources.create_source(session=session, name="Prod")
    anon = posthog_event(event="pricing_page_viewed", distinct_id="anon-1", person=False, timestamp=T0)
    identify = posthog_event(
        event="$identify",
        distinct_id="user-1",
        timestamp=T0 + timedelta(minutes=1),
        person=False,
        properties={"$anon_distinct_id": "anon-1", "$set": {"email": "ada@example.com", "name": "Ada"}},
    )
    later_anon = posthog_event(
        event="pricing_page_viewed", distinct_id="anon-1", person=False, timestamp=T0 + timedelta(minutes=2)
    )
    deliver(session, source, anon, identify)
    processing.process_pending(session=session)
    deliver(session, source, later_anon)
    processing.process_pending(session=session)
    rows = list(session.exec(select(Event).order_by(Event.id)))
    assert rows[0].outcome == EventOutcome.skipped
    assert rows[1].outcome == EventOutcome.processed and rows[2].outcome == EventOutcome.processed
    assert rows[1].contact_id == rows[2].contact_id
    data = contacts.contact_as_dict(
        session=session, contact=session.get(Contact, rows[1].contact_id), with_identities=True
    )
    assert sorted(data["distinct_ids"]) == ["anon-1", "user-1"]
    assert data["email"] == "ada@example.com" and data["name"] == "Ada"


def test_create_alias_and_shared_person_id_merge_contacts(session):
    source = sources.create_source(session=session, name="Prod")
    deliver(
        session,
        source,
        posthog_event(event="a", distinct_id="d1", email="one@example.com", person_id="p1", timestamp=T0),
        posthog_event(event="b", distinct_id="d2", email="two@example.com", person_id="p2", timestamp=T0),
    )
    processing.process_pending(session=session)
    assert len(session.exec(select(Contact)).all()) == 2
    alias = posthog_event(
        event="$create_alias",
        distinct_id="d1",
        person=False,
        timestamp=T0 + timedelta(hours=1),
        properties={"alias": "d2"},
    )
    deliver(session, source, alias)
    processing.process_pending(session=session)
    [contact] = session.exec(select(Contact)).all()
    data = contacts.contact_as_dict(session=session, contact=contact, with_identities=True)
    assert sorted(data["distinct_ids"]) == ["d1", "d2"] and sorted(data["person_ids"]) == ["p1", "p2"]
    assert {e.contact_id for e in session.exec(select(Event))} == {contact.id}


def test_a_distinct_id_too_long_to_store_whole_links_no_one_and_holds_nothing_back(session):
    """Cut to fit, two such ids would become one identity (merging two people, or clashing on its unique
    key and leaving the event pending for ever); intake, routing and processing all read it as none."""
    source = sources.create_source(session=session, name="Prod")
    prefix = "d" * mapping.ID_MAX
    deliver(
        session,
        source,
        posthog_event(event="a", distinct_id=prefix + "1", email="one@example.com", timestamp=T0),
        posthog_event(event="b", distinct_id=prefix + "2", email="two@example.com", timestamp=T0),
        posthog_event(event="c", distinct_id=prefix + "1", person=False, timestamp=T0 + timedelta(minutes=1)),
    )
    processing.process_pending(session=session)
    rows = list(session.exec(select(Event).order_by(Event.id)))
    assert [row.distinct_id for row in rows] == [None, None, None]
    assert [row.outcome for row in rows] == [EventOutcome.processed, EventOutcome.processed, EventOutcome.skipped]
    assert rows[0].contact_id != rows[1].contact_id  # two people, matched by their emails
    for row in rows[:2]:
        data = contacts.contact_as_dict(
            session=session, contact=session.get(Contact, row.contact_id), with_identities=True
        )
        assert data["distinct_ids"] == []


def test_email_match_is_case_insensitive(session):
    source = sources.create_source(session=session, name="Prod")
    deliver(
        session,
        source,
        posthog_event(event="a", distinct_id="d1", email="Ada@Example.com", person_id="p1", timestamp=T0),
        posthog_event(event="b", distinct_id="d9", email="ada@example.COM", person_id="p9", timestamp=T0),
    )
    processing.process_pending(session=session)
    assert len(session.exec(select(Contact)).all()) == 1


def test_out_of_order_delivery_cannot_regress_a_property(session):
    source = sources.create_source(session=session, name="Prod")
    newer = posthog_event(
        event="subscription_upgraded",
        distinct_id="d1",
        email="a@example.com",
        timestamp=T0,
        properties={"$set": {"plan": "pro"}},
    )
    older = posthog_event(
        event="user_signed_up",
        distinct_id="d1",
        email="a@example.com",
        timestamp=T0 - timedelta(days=3),
        properties={"$set": {"plan": "free"}},
    )
    deliver(session, source, newer)
    processing.process_pending(session=session)
    deliver(session, source, older)
    processing.process_pending(session=session)
    [contact] = session.exec(select(Contact)).all()
    assert contact.properties["plan"] == "pro"


def test_processing_orders_a_batch_by_event_time(session):
    source = sources.create_source(session=session, name="Prod")
    deliver(
        session,
        source,
        posthog_event(
            event="late",
            distinct_id="d1",
            email="a@example.com",
            timestamp=T0 + timedelta(hours=1),
            properties={"$set": {"stage": "second"}},
        ),
        posthog_event(
            event="early",
            distinct_id="d1",
            email="a@example.com",
            timestamp=T0,
            properties={"$set": {"stage": "first"}},
        ),
    )
    processing.process_pending(session=session)
    assert session.exec(select(Contact)).one().properties["stage"] == "second"


def test_restart_resumes_accepted_but_unprocessed_events(engine):
    """Events stored by one process are processed by a fresh one: the database is the only queue."""
    with Session(engine) as s:
        source = sources.create_source(session=s, name="Prod")
        s.commit()
        deliver(
            s, source, *[posthog_event(event="e", distinct_id=f"d{i}", email=f"u{i}@example.com") for i in range(5)]
        )
    # a new session (as after a restart) finds and finishes the work
    with Session(engine) as fresh:
        assert processing.pending_count(session=fresh) == 5
        assert processing.process_pending(session=fresh, limit=3) == 3
        assert processing.process_pending(session=fresh) == 2
        assert processing.pending_count(session=fresh) == 0
        assert len(fresh.exec(select(Contact)).all()) == 5


def test_two_writers_racing_on_the_same_uuid_store_one_event(engine):
    """Two workers (PostgreSQL: processes) storing the same event at once: one wins, one is a duplicate."""
    import threading

    with Session(engine) as s:
        source = sources.create_source(session=s, name="Prod")
        s.commit()
        source_id = source.id
    body = posthog_event(event="user_signed_up", distinct_id="d1", email="a@example.com")
    import json

    barrier = threading.Barrier(4)

    def store():
        events = payloads.parse_body(json.dumps(body).encode(), None)
        with Session(engine) as s:
            barrier.wait()
            return storing.store_deliveries(
                session=s, deliveries=[storing.Delivery(source_id=source_id, headers={}, events=events)]
            )[0]

    threads_results = []
    threads = [threading.Thread(target=lambda: threads_results.append(store())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.duplicates for r in threads_results) == [0, 1, 1, 1]
    with Session(engine) as s:
        outcomes = [e.outcome for e in s.exec(select(Event))]
    assert outcomes.count(EventOutcome.pending) == 1 and outcomes.count(EventOutcome.duplicate) == 3


def test_no_pass_runs_beside_a_serial_pass(engine, monkeypatch):
    """PostgreSQL: while one worker holds the serial turn, a second worker's pass waits TURN_WAIT for it, then
    leaves the events to the first. (SQLite: the second pass would wait for the write lock instead.)"""
    monkeypatch.setattr(processing, "TURN_WAIT", "200ms")
    with Session(engine, expire_on_commit=False) as session:
        source = sources.create_source(session=session, name="Production")
        session.commit()
        deliver(session, source, posthog_event(event="user_signed_up", distinct_id="u1", email="u1@example.com"))
    with Session(engine) as first, Session(engine) as second:
        assert processing._take_processing_turn(first)
        if engine.dialect.name == "postgresql":
            assert processing.process_pending(session=second) == 0
        first.commit()
        assert processing.process_pending(session=second) == 1
    with Session(engine) as session:
        assert [e.outcome for e in session.exec(select(Event))] == [EventOutcome.processed]


def test_find_contact_by_id_email_or_distinct_id(session):
    source = sources.create_source(session=session, name="Prod")
    deliver(session, source, posthog_event(event="a", distinct_id="user-7", email="Ada@Example.com", timestamp=T0))
    processing.process_pending(session=session)
    [contact] = session.exec(select(Contact)).all()
    for key in (str(contact.id), " ada@EXAMPLE.com ", "user-7"):
        assert contacts.find_contact(session=session, key=key).id == contact.id
    for key in ("", "user-", "nobody@example.com", str(contact.id + 1)):
        assert contacts.find_contact(session=session, key=key) is None


def test_describe_match_follows_the_matching_order_without_changing_anything(session):
    source = sources.create_source(session=session, name="Prod")
    deliver(
        session,
        source,
        posthog_event(event="a", distinct_id="user-7", email="ada@example.com", person_id="p-7", timestamp=T0),
    )
    processing.process_pending(session=session)
    [ada] = session.exec(select(Contact)).all()
    expected = f"matches contact #{ada.id} (ada@example.com)"

    def described(*, person_id, distinct_id, email):
        document = {
            "event": {"event": "x", "distinct_id": distinct_id, "properties": {"email": email} if email else {}},
            "person": {"id": person_id} if person_id else None,
        }
        return contacts.describe_match(session=session, mapped=mapping.apply_mapping(document, None))

    assert described(person_id="p-7", distinct_id="other", email=None) == expected
    assert described(person_id=None, distinct_id="user-7", email=None) == expected
    assert described(person_id=None, distinct_id="new", email="ADA@example.com".lower()) == expected
    assert described(person_id=None, distinct_id="new", email="bo@example.com") == "creates a new contact"
    assert described(person_id=None, distinct_id="new", email=None).startswith("skipped: no email")
    assert len(session.exec(select(Contact)).all()) == 1
