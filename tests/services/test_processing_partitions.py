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
from sqlmodel import Session, col, select

from humanic_app.models import CampaignStatus, Contact, Event, EventOutcome
from humanic_app.models.rows import id_of
from humanic_app.services import processing, sources, workspace
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
        posthog_event(
            event="$identify",
            distinct_id="u0",
            email="u0@x.io",
            timestamp=T0 + timedelta(minutes=1),
            properties={"$anon_distinct_id": "anon-7"},
        ),
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
        others = [processing.Route(alias.id, 1, "$create_alias", False)]
        assert processing._barrier(session, others, set()) == alias.id  # it would merge contact 2 into 1
        result = processing._run_partition(session, 200)
        session.rollback()
    assert result is None  # left to the serial pass, not processed in partition 2
    _drain(engine)
    with Session(engine) as session:
        [contact] = session.exec(select(Contact)).all()
    events = _events_of(engine)[contact.id]
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
        assert [(name, merges) for _, _, name, merges in routes] == [
            ("signed_in", True),
            ("after", False),
            ("unrelated", False),  # its email and person id are its own contact's
        ]
        result = processing._run_partition(session, 200)
        session.rollback()
    assert result is None  # left to the serial pass, not processed in contact 2's partition
    _drain(engine)
    with Session(engine) as session:
        [contact] = session.exec(select(Contact)).all()
    events = _events_of(engine)[contact.id]
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
    with Session(engine) as session:
        [contact] = session.exec(select(Contact)).all()
    events = _events_of(engine)[contact.id]
    assert [e.event_name for e in events if e.event_name in ("b2", "a2")] == ["b2", "a2"]
    assert [e.processed_at for e in events] == sorted(e.processed_at for e in events)


def test_another_partitions_link_that_merges_no_one_does_not_hold_a_pass_back(engine):
    """u0's $identify links a new anonymous id to u0 alone: it needs the serial turn, but no contact of
    another partition is merged by it, so u1's later event goes on in its own partition."""
    source_id = _known_contacts(engine, 2)
    _deliver(
        engine,
        source_id,
        posthog_event(
            event="$identify",
            distinct_id="u0",
            email="u0@x.io",
            timestamp=T0,
            properties={"$anon_distinct_id": "anon-9"},
        ),
        posthog_event(event="after", distinct_id="u1", email="u1@x.io", timestamp=T0 + timedelta(minutes=1)),
    )
    with _another_worker_holding_partition_of(engine, contact_id=1), Session(engine) as session:
        link = session.exec(select(Event).where(Event.event_name == "$identify")).one()
        assert processing._barrier(session, [processing.Route(link.id, 1, "$identify", False)], set()) is None
        awaited = [
            processing.Route(link.id, 1, "$identify", False),
            processing.Route(link.id + 7, 1, "checkout_completed", False),
        ]  # a `match` wait's event
        assert processing._barrier(session, awaited, {"checkout_completed"}) == link.id + 7
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
