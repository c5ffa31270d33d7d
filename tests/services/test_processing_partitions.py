"""PostgreSQL: processing passes run in parallel, one per partition of contacts, while each contact's events
stay in order and whatever changes who is who waits for the serial pass."""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

from humanic_app.models import CampaignStatus, Contact, Event, EventOutcome
from humanic_app.models.rows import id_of
from humanic_app.services import metrics, processing, sources, stats, workspace
from humanic_app.services.campaigns import library, store
from humanic_app.services.intake import payloads, storing
from humanic_app.services.samples import posthog_event

T0 = datetime(2025, 4, 10, 14, 0, tzinfo=UTC)
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _deliver(engine, source_id: int, *bodies: dict) -> None:
    with Session(engine) as session:
        for body in bodies:
            events = payloads.parse_body(json.dumps(body).encode(), None)
            storing.store_deliveries(
                session=session, deliveries=[storing.Delivery(source_id=source_id, headers={}, events=events)]
            )


def _drain(engine, limit: int = 200) -> None:
    with Session(engine) as session:
        while processing.run_pass(session=session, limit=limit).work:
            pass


def _known_contacts(engine, count: int) -> int:
    """`count` contacts u0.. (ids 1..count, so every partition has some), created by a first event each."""
    with Session(engine) as session:
        source_id = sources.create_source(session=session, name="Prod").id
        session.commit()
    _deliver(
        engine,
        source_id,
        *[
            posthog_event(event="first", distinct_id=f"u{i}", email=f"u{i}@x.io", timestamp=T0 - timedelta(hours=1))
            for i in range(count)
        ],
    )
    _drain(engine)
    return source_id


def _events_of(engine) -> dict[int, list[Event]]:
    by_contact: dict[int, list[Event]] = defaultdict(list)
    with Session(engine) as session:
        for event in session.exec(select(Event).order_by(col(Event.timestamp), col(Event.id))):
            by_contact[event.contact_id or 0].append(event)
    return by_contact


def _route(event_id: int, contact_id: int, name: str) -> processing.Route:
    """A known contact's pending event as `_ROUTES` reads it, naming nothing of another contact's."""
    return processing.Route(event_id, contact_id, name, False, None, None, None, False)


def _identify_u0(anonymous_id: str, at: datetime) -> dict:
    """u0's $identify, linking an anonymous id to u0."""
    return posthog_event(
        event="$identify",
        distinct_id="u0",
        email="u0@x.io",
        timestamp=at,
        properties={"$anon_distinct_id": anonymous_id},
    )


def _the_contacts_events(engine) -> list[Event]:
    """The events of the one contact there is, in event-time order."""
    with Session(engine) as session:
        [contact] = session.exec(select(Contact)).all()
    return _events_of(engine)[id_of(contact)]


@contextlib.contextmanager
def _another_pass_holding_event(engine, name: str) -> Iterator[None]:
    """Another worker's partition pass, in the middle of its transaction, holding the row of the event
    named `name` (one it claimed, and has not processed or let go)."""
    with Session(engine) as holder:
        holder.connection().execute(processing._SHARED_TURN, {"key": processing.PROCESSING_LOCK_KEY})
        holder.exec(select(Event).where(Event.event_name == name).with_for_update()).one()
        yield
        holder.rollback()


@contextlib.contextmanager
def _another_worker_holding_partition_of(engine, *, contact_id: int) -> Iterator[None]:
    """Another worker's partition pass, in the middle of its transaction, holding that contact's partition."""
    with Session(engine) as holder:
        key = {"key": processing.PROCESSING_LOCK_KEY, "partition": contact_id % processing.PARTITIONS}
        assert holder.connection().execute(processing._PARTITION_TURN, key).scalar()
        yield
        holder.rollback()


def test_two_partitions_process_at_once_and_each_contact_in_order(engine, monkeypatch):
    source_id = _known_contacts(engine, 16)
    _deliver(
        engine,
        source_id,
        *[
            posthog_event(
                event=f"step{n}", distinct_id=f"u{i}", email=f"u{i}@x.io", timestamp=T0 + timedelta(minutes=n)
            )
            for n in range(3)
            for i in range(16)
        ],
    )
    together = threading.Barrier(2, timeout=20)
    met: list[int] = []
    apply = processing._apply

    def apply_when_both_are_in(session, batch, paused):
        if not met:  # the first two passes meet here, inside their transactions, or the barrier breaks
            together.wait()
            met.append(len(batch.items))
        return apply(session, batch, paused)

    monkeypatch.setattr(processing, "_apply", apply_when_both_are_in)
    threads = [threading.Thread(target=_drain, args=(engine, 8)) for _ in range(2)]  # 8: two partitions a pass
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert met, "two partition passes never ran at the same time"

    by_contact = _events_of(engine)
    assert set(by_contact) == set(range(1, 17))
    for events in by_contact.values():
        assert [e.outcome for e in events] == [EventOutcome.processed] * 4
        assert [e.event_name for e in events] == ["first", "step0", "step1", "step2"]
        # processed in that order: a later event's pass never committed before an earlier one's
        processed_at = [e.processed_at for e in events]
        assert processed_at == sorted(processed_at)


def test_a_partition_pass_stops_at_an_event_that_links_identities(engine):
    source_id = _known_contacts(engine, 2)
    _deliver(
        engine,
        source_id,
        posthog_event(event="before", distinct_id="u0", email="u0@x.io", timestamp=T0),
        _identify_u0("anon-7", T0 + timedelta(minutes=1)),
        posthog_event(event="after", distinct_id="u0", email="u0@x.io", timestamp=T0 + timedelta(minutes=2)),
    )
    with Session(engine) as session:
        assert processing.run_pass(session=session).processed == 1  # the partition pass: "before" only
    with Session(engine) as session:
        pending = session.exec(select(Event.event_name).where(Event.outcome == EventOutcome.pending)).all()
    assert sorted(pending) == ["$identify", "after"]
    _drain(engine)  # the serial pass links anon-7, then "after" follows it
    [contact] = [events for events in _events_of(engine).values() if events[0].distinct_id == "u0"]
    assert [e.event_name for e in contact] == ["first", "before", "$identify", "after"]
    assert [e.processed_at for e in contact] == sorted(e.processed_at for e in contact)


def test_merging_two_contacts_of_different_partitions_is_serial(engine):
    source_id = _known_contacts(engine, 2)  # contacts 1 and 2: two partitions
    _deliver(
        engine,
        source_id,
        posthog_event(
            event="$create_alias",
            distinct_id="u0",
            email="u0@x.io",
            timestamp=T0,
            properties={"alias": "u1"},
        ),
        posthog_event(event="after", distinct_id="u1", email="u0@x.io", timestamp=T0 + timedelta(minutes=1)),
    )
    _drain(engine)
    with Session(engine) as session:
        [contact] = session.exec(select(Contact)).all()
        assert processing.pending_count(session=session) == 0
    events = _events_of(engine)[contact.id]
    assert [e.event_name for e in events][-2:] == ["$create_alias", "after"]
    assert events[-1].processed_at >= events[-2].processed_at


def test_an_event_after_a_merge_waits_for_it_though_another_pass_holds_the_merging_partition(engine):
    """u0's alias of u1 (contact 1's partition) merges contact 2 into 1; u1's next event looks like contact
    2's own, in another partition. While another worker holds the alias's partition, a pass holding u1's
    must not process that event before the merge: it waits for the serial pass, in order after the alias."""
    source_id = _known_contacts(engine, 2)
    _deliver(
        engine,
        source_id,
        posthog_event(
            event="$create_alias", distinct_id="u0", email="u0@x.io", timestamp=T0, properties={"alias": "u1"}
        ),
        posthog_event(event="after", distinct_id="u1", email="u1@x.io", timestamp=T0 + timedelta(minutes=1)),
    )
    with _another_worker_holding_partition_of(engine, contact_id=1), Session(engine) as session:
        alias = session.exec(select(Event).where(Event.event_name == "$create_alias")).one()
        others = [_route(alias.id, 1, "$create_alias")]
        links = processing._peek_links(session, others, {})
        assert processing._barrier(others, set(), links) == alias.id  # it would merge contact 2 into 1
        result = processing._run_partition(session, 200)
        session.rollback()
    assert result is None  # left to the serial pass, not processed in partition 2
    _drain(engine)
    events = _the_contacts_events(engine)
    assert [e.event_name for e in events][-2:] == ["$create_alias", "after"]
    assert events[-1].processed_at >= events[-2].processed_at


@pytest.mark.parametrize(
    "naming",
    [
        {"email": "u1@x.io"},  # u1's address, on one of u0's events
        {"email": "u0@x.io", "person_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "person:u1"))},  # u1's person
    ],
    ids=["email", "person_id"],
)
def test_an_event_after_a_merge_through_an_email_or_person_id_waits_for_it(engine, naming):
    """One of u0's events (contact 1's partition) names u1's email or PostHog person id: processing it
    merges contact 2 into 1. While another worker holds contact 1's partition, a pass holding contact 2's
    must not process u1's later event before that merge: it finds the event in SQL (`_ROUTES`), unpeeked."""
    source_id = _known_contacts(engine, 2)
    _deliver(
        engine,
        source_id,
        posthog_event(event="signed_in", distinct_id="u0", timestamp=T0, **naming),
        posthog_event(event="after", distinct_id="u1", email="u1@x.io", timestamp=T0 + timedelta(minutes=1)),
        posthog_event(event="unrelated", distinct_id="u0", email="u0@x.io", timestamp=T0 + timedelta(minutes=2)),
    )
    with _another_worker_holding_partition_of(engine, contact_id=1), Session(engine) as session:
        routes = session.connection().execute(processing._ROUTES, {"window": 10}).all()
        assert [(name, merges) for _, _, name, merges, *_ in routes] == [
            ("signed_in", True),
            ("after", False),
            ("unrelated", False),  # its email and person id are its own contact's
        ]
        result = processing._run_partition(session, 200)
        session.rollback()
    assert result is None  # left to the serial pass, not processed in contact 2's partition
    _drain(engine)
    events = _the_contacts_events(engine)
    assert [e.event_name for e in events][-3:] == ["signed_in", "after", "unrelated"]
    assert [e.processed_at for e in events] == sorted(e.processed_at for e in events)


def test_a_merge_in_a_taken_partition_beyond_the_batch_still_holds_later_events_back(engine):
    """A pass of 3 takes contact 1's partition (a1, a2) and fills its batch from contact 2's (b1), so b2 —
    u1's event naming u0's email, which merges contacts 1 and 2 — is claimed by no one though stored
    before a2. a2 must wait for that merge: unclaimed events of taken partitions are looked at too."""
    source_id = _known_contacts(engine, 2)
    _deliver(
        engine,
        source_id,
        posthog_event(event="a1", distinct_id="u0", email="u0@x.io", timestamp=T0),
        posthog_event(event="b1", distinct_id="u1", email="u1@x.io", timestamp=T0 + timedelta(minutes=1)),
        posthog_event(event="b2", distinct_id="u1", email="u0@x.io", timestamp=T0 + timedelta(minutes=2)),
        posthog_event(event="a2", distinct_id="u0", email="u0@x.io", timestamp=T0 + timedelta(minutes=3)),
    )
    with Session(engine) as session:
        result = processing._run_partition(session, 3)
        session.commit()
    assert result is not None and result.processed == 2
    with Session(engine) as session:
        pending = session.exec(select(Event.event_name).where(Event.outcome == EventOutcome.pending)).all()
    assert sorted(pending) == ["a2", "b2"]
    _drain(engine)
    events = _the_contacts_events(engine)
    assert [e.event_name for e in events if e.event_name in ("b2", "a2")] == ["b2", "a2"]
    assert [e.processed_at for e in events] == sorted(e.processed_at for e in events)


def test_another_partitions_link_that_merges_no_one_does_not_hold_a_pass_back(engine):
    """u0's $identify links a new anonymous id to u0 alone: it needs the serial turn, but no contact of
    another partition is merged by it, so u1's later event goes on in its own partition."""
    source_id = _known_contacts(engine, 2)
    _deliver(
        engine,
        source_id,
        _identify_u0("anon-9", T0),
        posthog_event(event="after", distinct_id="u1", email="u1@x.io", timestamp=T0 + timedelta(minutes=1)),
    )
    with _another_worker_holding_partition_of(engine, contact_id=1), Session(engine) as session:
        link = session.exec(select(Event).where(Event.event_name == "$identify")).one()
        routes = [_route(link.id, 1, "$identify")]
        links = processing._peek_links(session, routes, {})
        assert processing._barrier(routes, set(), links) is None
        awaited = [*routes, _route(link.id + 7, 1, "checkout_completed")]  # a `match` wait's
        assert processing._barrier(awaited, {"checkout_completed"}, links) == link.id + 7
        result = processing._run_partition(session, 200)
        session.commit()
    assert result is not None and result.processed == 1
    with Session(engine) as session:
        pending = session.exec(select(Event.event_name).where(Event.outcome == EventOutcome.pending)).all()
    assert pending == ["$identify"]


def test_a_partition_pass_leaves_an_event_a_match_wait_awaits_to_the_serial_pass(engine, monkeypatch):
    source_id = _known_contacts(engine, 2)
    with Session(engine) as session:  # drop-off recovery waits for checkout_completed with match cart_id
        workspace.update_workspace(
            session=session, changes={"from_email": "hello@acme.io", "physical_address": "1 Main St"}
        )
        campaign = store.create_campaign(session=session, document=library.templates()["drop-off-recovery"])
        store.set_status(session=session, campaign_id=id_of(campaign), status=CampaignStatus.active)
        session.commit()
    _deliver(
        engine,
        source_id,
        posthog_event(event="viewed", distinct_id="u0", email="u0@x.io", timestamp=T0),
        posthog_event(
            event="checkout_completed",
            distinct_id="u1",
            email="u1@x.io",
            timestamp=T0 + timedelta(minutes=1),
            properties={"cart_id": "c1"},
        ),
        posthog_event(event="viewed", distinct_id="u1", email="u1@x.io", timestamp=T0 + timedelta(minutes=2)),
    )
    looked_up: list[int] = []  # how many events each ContactBook was built for
    book = processing.contacts.ContactBook

    def counted(session, identities):
        looked_up.append(len(identities))
        return book(session, identities)

    monkeypatch.setattr(processing.contacts, "ContactBook", counted)
    with Session(engine) as session:
        assert processing.run_pass(session=session).processed == 1  # the partition pass: the first "viewed"
    assert looked_up == [1]  # contacts looked up for that event alone, not for the two left to the serial pass
    looked_up.clear()
    with Session(engine) as session:
        assert processing.run_pass(session=session).processed == 2  # the serial pass, from checkout_completed on
    assert looked_up == [2]  # no partition batch was built for an event it must leave
    with Session(engine) as session:
        assert processing.pending_count(session=session) == 0


def _new_source(engine) -> int:
    with Session(engine) as session:
        source_id = sources.create_source(session=session, name="Prod").id
        session.commit()
    return source_id


@contextlib.contextmanager
def _another_worker_holding_group_naming(engine, key: str) -> Iterator[None]:
    """Another worker's partition pass, in the middle of its transaction, holding a group of new people's
    events that names `key` ("e:ada@x.io", "d:anon-1")."""
    with Session(engine) as holder:
        lock = text("SELECT pg_try_advisory_xact_lock(:lock, hashtext(:key))")
        assert holder.connection().execute(lock, {"lock": processing.GROUP_LOCK_KEY, "key": key}).scalar()
        yield
        holder.rollback()


def _pending_names(engine) -> list[str]:
    with Session(engine) as session:
        query = select(Event.event_name).where(Event.outcome == EventOutcome.pending).order_by(col(Event.id))
        return list(session.exec(query).all())


def test_new_people_are_created_by_passes_at_once_each_persons_events_in_order(engine, monkeypatch):
    """Nobody is known yet: 16 people's first events create them in parallel partition passes (one group
    of events a person), not one serial pass at a time; each person's events stay in order."""
    source_id = _new_source(engine)
    _deliver(
        engine,
        source_id,
        *[
            posthog_event(
                event=f"step{n}",
                distinct_id=f"new{i}",
                email=f"new{i}@x.io" if n else None,  # anonymous first, then identified by an address
                timestamp=T0 + timedelta(minutes=n),
            )
            for n in range(3)
            for i in range(16)
        ],
    )
    together = threading.Barrier(2, timeout=20)
    met: list[int] = []
    apply = processing._apply

    def apply_when_both_are_in(session, batch, paused):
        if not met:
            together.wait()
            met.append(len(batch.items))
        return apply(session, batch, paused)

    monkeypatch.setattr(processing, "_apply", apply_when_both_are_in)
    threads = [threading.Thread(target=_drain, args=(engine, 8)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert met, "two passes never created contacts at the same time"

    by_contact = _events_of(engine)
    with Session(engine) as session:
        people = session.exec(select(Contact)).all()
    assert sorted(c.email for c in people) == sorted(f"new{i}@x.io" for i in range(16))  # one each
    for contact in people:
        events = by_contact[id_of(contact)]
        assert [e.event_name for e in events] == ["step1", "step2"]
        assert [e.processed_at for e in events] == sorted(e.processed_at for e in events)
    # the anonymous first events were processed before their person existed: skipped, in order before
    anonymous = {e.distinct_id: e for e in by_contact[0]}
    assert sorted(anonymous) == sorted(f"new{i}" for i in range(16))
    for contact in people:
        first = anonymous[contact.email.split("@")[0]]
        assert first.outcome == EventOutcome.skipped
        assert first.processed_at <= by_contact[id_of(contact)][0].processed_at


def test_new_peoples_events_naming_one_address_are_one_group(engine):
    """Two anonymous ids identified by one address are one person: their events are one group, held by
    one pass, so no two passes create a contact each for the address."""
    source_id = _new_source(engine)
    _deliver(
        engine,
        source_id,
        posthog_event(event="signed_up", distinct_id="anon-1", email="ada@x.io", timestamp=T0),
        posthog_event(event="opened", distinct_id="anon-2", email="ada@x.io", timestamp=T0 + timedelta(minutes=1)),
    )
    with _another_worker_holding_group_naming(engine, "d:anon-1"), Session(engine) as session:
        result = processing._run_partition(session, 200)
        session.commit()
    assert result == processing.NOTHING  # the one group is held: anon-2's event is not a group of its own
    assert _pending_names(engine) == ["signed_up", "opened"]
    with Session(engine) as session:
        result = processing._run_partition(session, 200)
        session.commit()
    assert result is not None and result.processed == 2
    with Session(engine) as session:
        [contact] = session.exec(select(Contact)).all()
        ids = {i.value for i in processing.contacts.identities_of(session=session, contact_id=id_of(contact))}
    assert {"anon-1", "anon-2"} <= ids


def test_a_new_id_that_a_known_contacts_earlier_link_names_waits_for_the_link(engine):
    """u0 (known) identifies anon-5; anon-5's later event looks like a new person's, but after the link it
    is u0's. While another worker holds u0's partition, no pass takes it as a new person's: it waits for
    the serial pass, after the link, instead of creating a contact of its own."""
    source_id = _known_contacts(engine, 1)
    _deliver(
        engine,
        source_id,
        _identify_u0("anon-5", T0),
        posthog_event(event="browsed", distinct_id="anon-5", email="ada@x.io", timestamp=T0 + timedelta(minutes=1)),
    )
    with _another_worker_holding_partition_of(engine, contact_id=1), Session(engine) as session:
        assert processing._run_partition(session, 200) == processing.NOTHING  # anon-5's event is no group
        session.commit()
    assert _pending_names(engine) == ["$identify", "browsed"]
    _drain(engine)
    events = _the_contacts_events(engine)
    assert [e.event_name for e in events] == ["first", "$identify", "browsed"]
    assert [e.processed_at for e in events] == sorted(e.processed_at for e in events)


def test_a_new_persons_event_naming_an_address_a_known_contacts_earlier_event_takes_waits(engine):
    """u0's event gives contact 1 a new address; a new id's later event with that address is contact 1's
    too. While another worker holds contact 1's partition, no pass takes the new id's event as a new
    person's: the address joins it to u0's event, so it waits its turn."""
    source_id = _known_contacts(engine, 1)
    _deliver(
        engine,
        source_id,
        posthog_event(event="moved", distinct_id="u0", email="ada@new.io", timestamp=T0),
        posthog_event(event="browsed", distinct_id="anon-6", email="ada@new.io", timestamp=T0 + timedelta(minutes=1)),
    )
    with _another_worker_holding_partition_of(engine, contact_id=1), Session(engine) as session:
        assert processing._run_partition(session, 200) == processing.NOTHING
        session.commit()
    assert _pending_names(engine) == ["moved", "browsed"]
    _drain(engine)
    events = _the_contacts_events(engine)
    assert [e.event_name for e in events] == ["first", "moved", "browsed"]
    assert [e.processed_at for e in events] == sorted(e.processed_at for e in events)


def test_a_group_another_pass_holds_part_of_is_left_whole(engine):
    """Another pass (which saw the group joined differently) holds the middle of anon-1's events: this
    pass takes none of them rather than the first and last, which would put the last before the middle."""
    source_id = _new_source(engine)
    _deliver(
        engine,
        source_id,
        *[
            posthog_event(event=name, distinct_id="anon-1", email="ada@x.io", timestamp=T0 + timedelta(minutes=n))
            for n, name in enumerate(["one", "two", "three"])
        ],
    )
    with _another_pass_holding_event(engine, "two"), Session(engine) as session:
        assert processing._run_partition(session, 200) == processing.NOTHING
        session.commit()
    assert _pending_names(engine) == ["one", "two", "three"]
    _drain(engine)
    [events] = [events for contact_id, events in _events_of(engine).items() if contact_id]
    assert [e.event_name for e in events] == ["one", "two", "three"]
    assert [e.processed_at for e in events] == sorted(e.processed_at for e in events)


def test_a_pass_that_grouped_a_persons_events_otherwise_holds_the_address(engine):
    """Another pass saw ada's events grouped otherwise (its window held an earlier one of hers, committed
    late with a lower id) and is creating her contact: this pass meets it at her address, so no two
    contacts are created for one person."""
    source_id = _new_source(engine)
    _deliver(engine, source_id, posthog_event(event="opened", distinct_id="anon-2", email="ada@x.io", timestamp=T0))
    with _another_worker_holding_group_naming(engine, "e:ada@x.io"), Session(engine) as session:
        assert processing._run_partition(session, 200) == processing.NOTHING
        session.commit()
    assert _pending_names(engine) == ["opened"]


def test_a_new_persons_event_naming_what_its_stored_columns_did_not_waits(engine):
    """The event's row was stored without the address its payload carries (under an older mapping, say),
    so its group did not lock the address, which another pass may be creating a contact for: the pass
    stops at it rather than create a second contact."""
    source_id = _new_source(engine)
    _deliver(engine, source_id, posthog_event(event="opened", distinct_id="anon-7", email="ada@x.io", timestamp=T0))
    with Session(engine) as session:
        session.connection().execute(text("UPDATE event SET email = NULL"))
        session.commit()
    with _another_worker_holding_group_naming(engine, "e:ada@x.io"), Session(engine) as session:
        assert processing._run_partition(session, 200) is None
        session.rollback()
    assert _pending_names(engine) == ["opened"]


def test_a_new_id_linked_by_a_later_stored_but_earlier_stamped_link_waits_for_it(engine):
    """anon-5's event is stored first, but u0's $identify of anon-5 happened before it (it arrived late):
    as one batch, the link goes first and the event is u0's. It is not taken as a new person's."""
    source_id = _known_contacts(engine, 1)
    _deliver(
        engine,
        source_id,
        posthog_event(event="browsed", distinct_id="anon-5", email="ada@x.io", timestamp=T0 + timedelta(minutes=2)),
        _identify_u0("anon-5", T0 + timedelta(minutes=1)),
    )
    with _another_worker_holding_partition_of(engine, contact_id=1), Session(engine) as session:
        assert processing._run_partition(session, 200) is None
        session.rollback()
    _drain(engine)
    assert [e.event_name for e in _the_contacts_events(engine)] == ["first", "$identify", "browsed"]


def test_a_known_contacts_event_waits_for_its_earlier_one_another_pass_holds(engine):
    """Another pass claimed u0's earlier event as a new person's (before u0's contact was committed) and
    did not keep it; until it ends, it holds the row. The partition's pass must not process u0's later
    event before it."""
    source_id = _known_contacts(engine, 1)
    _deliver(
        engine,
        source_id,
        posthog_event(event="two", distinct_id="u0", email="u0@x.io", timestamp=T0),
        posthog_event(event="three", distinct_id="u0", email="u0@x.io", timestamp=T0 + timedelta(minutes=1)),
    )
    with _another_pass_holding_event(engine, "two"), Session(engine) as session:
        assert processing._run_partition(session, 200) is None
        session.rollback()
    _drain(engine)
    events = _events_of(engine)[1]
    assert [e.event_name for e in events] == ["first", "two", "three"]
    assert [e.processed_at for e in events] == sorted(e.processed_at for e in events)


def test_a_group_with_an_event_beyond_the_ready_ones_is_not_taken(engine):
    """anon-9's first stored event is stamped after its second, stored beyond an event that waits for
    the serial pass. Taken alone it would be skipped for want of an email; as one batch, the serial pass
    processes the identified one first and attaches the other to bo's contact."""
    source_id = _known_contacts(engine, 1)
    _deliver(
        engine,
        source_id,
        posthog_event(event="late_anon", distinct_id="anon-9", timestamp=T0 + timedelta(minutes=5)),
        posthog_event(event="serial", distinct_id="zz", email="u0@x.io", timestamp=T0 + timedelta(minutes=3)),
        posthog_event(event="early_ident", distinct_id="anon-9", email="bo@x.io", timestamp=T0),
    )
    with Session(engine) as session:
        assert processing._run_partition(session, 200) is None
        session.rollback()
    _drain(engine)
    with Session(engine) as session:
        late = session.exec(select(Event).where(Event.event_name == "late_anon")).one()
        bo = session.exec(select(Contact).where(Contact.email == "bo@x.io")).one()
    assert (late.outcome, late.contact_id) == (EventOutcome.processed, bo.id)


def test_a_group_is_taken_whole_or_left_for_a_later_pass(engine):
    """A batch of 3 has room for u0's two events and one of anon-9's two: anon-9's group waits for the
    next pass, whole, rather than have its later-stamped first event processed alone."""
    source_id = _known_contacts(engine, 1)
    _deliver(
        engine,
        source_id,
        posthog_event(event="k1", distinct_id="u0", email="u0@x.io", timestamp=T0),
        posthog_event(event="late_anon", distinct_id="anon-9", timestamp=T0 + timedelta(minutes=5)),
        posthog_event(event="early_ident", distinct_id="anon-9", email="bo@x.io", timestamp=T0),
        posthog_event(event="k2", distinct_id="u0", email="u0@x.io", timestamp=T0 + timedelta(minutes=1)),
    )
    with Session(engine) as session:
        assert processing._run_partition(session, 3) == processing.ProcessingResult(2, False)
        session.commit()
    assert _pending_names(engine) == ["late_anon", "early_ident"]
    _drain(engine, 3)
    with Session(engine) as session:
        late = session.exec(select(Event).where(Event.event_name == "late_anon")).one()
    assert late.outcome == EventOutcome.processed and late.contact_id is not None


def test_new_people_are_not_left_behind_a_busy_known_contact(engine):
    """Five sign-ups, then 400 events of one known contact: the first pass takes the sign-ups (the oldest
    events) and fills the rest of its batch from the known contact's partition."""
    source_id = _known_contacts(engine, 2)
    _deliver(
        engine,
        source_id,
        *[posthog_event(event="signed_up", distinct_id=f"n{i}", email=f"n{i}@x.io", timestamp=T0) for i in range(5)],
        *[
            posthog_event(event="viewed", distinct_id="u1", email="u1@x.io", timestamp=T0 + timedelta(seconds=n))
            for n in range(400)
        ],
    )
    with Session(engine) as session:
        assert processing._run_partition(session, 200) == processing.ProcessingResult(200, False)
        session.commit()
    assert "signed_up" not in _pending_names(engine)


def test_a_partition_pass_that_fails_leaves_its_events_to_the_serial_pass(engine, monkeypatch):
    source_id = _new_source(engine)
    _deliver(engine, source_id, posthog_event(event="$identify", distinct_id="anon-1", email="a@x.io", timestamp=T0))

    def broken(*args):
        raise ValueError("a bug while looking at links")

    monkeypatch.setattr(processing, "_peek_links", broken)
    with Session(engine) as session:
        assert processing.run_pass(session=session).processed == 1  # the serial pass, after the failure
        session.commit()
    assert _pending_names(engine) == []
    with Session(engine) as session:  # counted, for Pipeline health and /metrics
        assert stats.totals(session=session, name=stats.PARTITION_FAILED) == {"ValueError": 1}
        assert 'humanic_processing_partition_failures_total{error="ValueError"} 1' in metrics.render(session=session)


def test_a_known_contacts_event_waits_for_a_later_stored_earlier_stamped_one_another_pass_holds(engine):
    """As above, but the held event was stored after the pass's own and happened before it: the pass
    leaves all of u0's events while another pass holds one, whatever their order of storing."""
    source_id = _known_contacts(engine, 1)
    _deliver(
        engine,
        source_id,
        posthog_event(event="second", distinct_id="u0", email="u0@x.io", timestamp=T0 + timedelta(minutes=1)),
        posthog_event(event="first_but_late", distinct_id="u0", email="u0@x.io", timestamp=T0),
    )
    with _another_pass_holding_event(engine, "first_but_late"), Session(engine) as session:
        assert processing._run_partition(session, 200) is None
        session.rollback()
    _drain(engine)
    assert [e.event_name for e in _events_of(engine)[1]] == ["first", "first_but_late", "second"]


def test_a_pass_tries_a_groups_keys_in_order_and_stops_at_the_first_held(engine):
    """Two passes after one group meet at its first key; the one that finds a key held keeps none after it,
    so it does not stop a third pass from a group naming those."""
    source_id = _new_source(engine)
    _deliver(engine, source_id, posthog_event(event="opened", distinct_id="anon-1", email="ada@x.io", timestamp=T0))
    with Session(engine) as session:
        person = session.exec(select(Event.person_id)).one()
    free = text("SELECT pg_try_advisory_xact_lock(:lock, hashtext(:key))")
    with _another_worker_holding_group_naming(engine, "e:ada@x.io"), Session(engine) as session:
        assert processing._run_partition(session, 200) == processing.NOTHING
        with Session(engine) as third:
            tried = {
                key: third.connection().execute(free, {"lock": processing.GROUP_LOCK_KEY, "key": key}).scalar()
                for key in ("d:anon-1", f"p:{person}")
            }
            third.rollback()
        session.rollback()
    assert tried == {"d:anon-1": False, f"p:{person}": True}  # tried and kept before the held key; not after
