"""Backfill from PostHog's query API (tests/support/fake_posthog.py): missed events are imported through
intake and processing, events a webhook source already delivered are skipped by uuid, nothing fires
unless asked (and then once), a dry run stores nothing, paging and PostHog's 401/403/429 answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from humanic_app import clock
from humanic_app.models import Contact, Enrolment, EnrolmentStatus, Event, EventOutcome, Message
from humanic_app.services import posthog_backfill as backfill, processing, rate_limit
from humanic_app.services.errors import Conflict, ValidationFailed
from humanic_app.services.posthog import connection, query
from humanic_app.services.samples import posthog_event
from tests.support import fake_posthog
from tests.support.campaign_world import T0, World, linear

NOW = T0 + timedelta(hours=1)
SINCE, UNTIL = T0 - timedelta(hours=1), NOW


@pytest.fixture(autouse=True)
def _secrets_and_clock(operator_secret_in_tmp, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def world(session, posthog):
    """Onboarding (trigger user_signed_up, goal subscription_upgraded) active, PostHog connected for backfill."""
    found = World(session)
    found.campaign(linear("onboarding-activation"))
    connection.save(
        session=session,
        host=posthog.url,
        api_key=posthog.api_key,
        personal_api_key=posthog.personal_api_key,
        project_id=posthog.project_id,
    )
    session.commit()
    return found


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _signed_up(posthog, uuid: str, user: str, email: str, at: datetime) -> None:
    posthog.add_event(
        uuid=uuid, event="user_signed_up", distinct_id=user, timestamp=_stamp(at), properties={"email": email}
    )


def _run(session, slept=None, **kwargs):
    asked = backfill.Asked(
        events=kwargs.pop("events", ["user_signed_up"]),
        since=kwargs.pop("since", SINCE),
        until=kwargs.pop("until", UNTIL),
        fire_emails=kwargs.pop("fire_emails", False),
        dry_run=kwargs.pop("dry_run", False),
    )
    sleep = (slept if slept is not None else []).append
    limiter = kwargs.pop("limiter", None) or _limiter()
    summary = backfill.run(session=session, asked=asked, limiter=limiter, sleep=sleep, **kwargs)
    while processing.process_pending(session=session):
        pass
    session.expire_all()
    return summary


def _limiter() -> rate_limit.LocalRateLimiter:
    return rate_limit.LocalRateLimiter(query.REQUESTS_PER_SECOND)


def _count(session, model, *where) -> int:
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def _webhook(world, uuid: str, user: str, email: str | None, at: datetime, event: str = "user_signed_up") -> None:
    """The event as the webhook delivered it, through the world's source."""
    import json

    from humanic_app.services.intake import payloads, storing

    body = posthog_event(event=event, distinct_id=user, email=email, timestamp=at, event_uuid=uuid)
    events = payloads.parse_body(json.dumps(body).encode(), None)
    storing.store_deliveries(
        session=world.session, deliveries=[storing.Delivery(source_id=world.source.id, headers={}, events=events)]
    )
    while processing.process_pending(session=world.session):
        pass


A = "0190d5a4-0000-7000-8000-00000000000a"
B = "0190d5a4-0000-7000-8000-00000000000b"


def test_dry_run_says_what_would_happen_and_stores_nothing_then_backfill_fires_nothing(session, world, posthog):
    _webhook(world, A, "u1", "ada@example.com", T0)  # delivered by the webhook
    _signed_up(posthog, A, "u1", "ada@example.com", T0)
    _signed_up(posthog, B, "u2", "bob@example.com", T0 + timedelta(minutes=5))  # missed
    events_before, messages_before = _count(session, Event), _count(session, Message)
    assert messages_before == 4  # Ada's four onboarding emails

    dry = _run(session, dry_run=True)
    assert (dry["fetched"], dry["to_import"], dry["duplicates"], dry["imported"]) == (2, 1, 1, 0)
    assert dry["campaigns"] == [
        {
            "campaign_id": dry["campaigns"][0]["campaign_id"],
            "campaign": "Onboarding activation",
            "trigger": "user_signed_up",
            "events": 1,
        }
    ]
    assert dry["emails"].startswith("None") and dry["complete"] is True
    assert _count(session, Event) == events_before

    done = _run(session)
    assert (done["imported"], done["duplicates"]) == (1, 1)
    bob = session.exec(select(Contact).where(Contact.email == "bob@example.com")).one()  # the contact is updated
    event = session.exec(select(Event).where(Event.event_uuid == B)).one()
    assert event.source_id is None and event.headers == {processing.BACKFILL_HEADER: processing.QUIET}
    assert event.contact_id == bob.id
    if session.connection().dialect.name == "postgresql":  # what partition passes route by (SQLite has none)
        assert (event.email, event.person_id) == ("bob@example.com", fake_posthog.person_id("u2"))
    assert next(d["reason"] for d in event.decisions if d["fired"] is False) == processing.QUIET_REASON
    assert _count(session, Message) == messages_before  # no email for Bob
    assert _count(session, Enrolment, Enrolment.contact_id == bob.id) == 0
    assert _count(session, Event, Event.event_uuid == A) == 1  # Ada's event is not stored twice


def test_fire_emails_sends_once_even_when_backfilled_twice(session, world, posthog):
    _signed_up(posthog, B, "u2", "bob@example.com", T0)
    first = _run(session, fire_emails=True)
    assert first["imported"] == 1 and "trigger Onboarding activation" in first["emails"]
    bob = session.exec(select(Contact).where(Contact.email == "bob@example.com")).one()
    assert _count(session, Enrolment, Enrolment.contact_id == bob.id) == 1
    assert _count(session, Message, Message.contact_id == bob.id) == 4  # the onboarding's four emails
    again = _run(session, fire_emails=True)
    assert (again["imported"], again["duplicates"]) == (0, 1)
    assert _count(session, Enrolment, Enrolment.contact_id == bob.id) == 1
    assert _count(session, Message, Message.contact_id == bob.id) == 4


def test_a_quiet_backfill_still_reaches_goals(session, world, posthog):
    _webhook(world, A, "u1", "ada@example.com", T0)
    posthog.add_event(
        uuid=B,
        event="subscription_upgraded",
        distinct_id="u1",
        timestamp=_stamp(T0 + timedelta(minutes=3)),
        properties={"email": "ada@example.com"},
    )
    assert _run(session, events=["subscription_upgraded"])["imported"] == 1
    enrolment = session.exec(select(Enrolment)).one()
    assert enrolment.status == EnrolmentStatus.exited


def test_pages_through_keyset_within_the_pace_and_resumes_where_a_call_stopped(session, world, posthog):
    same = T0 + timedelta(minutes=1)  # several events at one instant: the uuid breaks the tie
    uuids = [f"0190d5a4-0000-7000-8000-00000000001{i}" for i in range(5)]
    for i, uuid in enumerate(uuids):
        _signed_up(posthog, uuid, f"u{i}", f"p{i}@example.com", same if i < 3 else same + timedelta(seconds=i))
    slept: list[float] = []
    part = _run(session, slept, page_size=2, max_pages=2)
    assert (part["imported"], part["complete"], part["queries"]) == (4, False, 2)
    assert all(0 <= s <= rate_limit.MARGIN * 60 / query.QUERIES_PER_MINUTE for s in slept)
    rest = _run(session, page_size=2, since=datetime.fromisoformat(part["resume_since"]))
    assert (rest["imported"], rest["duplicates"], rest["complete"]) == (1, 1, True)
    stored = session.exec(select(Event.event_uuid).where(Event.source_id.is_(None)).order_by(Event.id)).all()
    assert stored == uuids


def test_the_hours_query_allowance_stops_a_backfill_after_what_it_read_and_says_when_to_go_on(session, world, posthog):
    for i in range(5):
        _signed_up(posthog, f"0190d5a4-0000-7000-8000-00000000002{i}", f"u{i}", f"p{i}@x.io", T0 + timedelta(minutes=i))
    spent_after_two = rate_limit.LocalRateLimiter(query.REQUESTS_PER_SECOND, per_hour=2)
    part = _run(session, page_size=2, limiter=spent_after_two)
    assert (part["imported"], part["complete"], part["queries"]) == (4, False, 2)
    assert "1,200 an hour" in part["stopped_because"] and "try again in 63 min" in part["stopped_because"]
    resume = datetime.fromisoformat(part["resume_since"])
    with pytest.raises(query.BudgetSpent, match="try again in 63 min"):
        _run(session, page_size=2, since=resume, limiter=spent_after_two)
    assert len(posthog.queries) == 2  # the refused call never reached PostHog
    rest = _run(session, page_size=2, since=resume)  # the next hour's allowance
    assert (rest["imported"], rest["complete"]) == (1, True)


@pytest.mark.parametrize("broken", ["key", "scope"])
def test_a_key_without_query_scope_is_a_422_at_the_key(session, world, posthog, broken):
    if broken == "key":
        posthog.personal_api_key = "phx_someoneelseskey123"
    else:
        posthog.scopes = set()
    with pytest.raises(ValidationFailed) as refused:
        _run(session)
    assert "Query Read" in refused.value.field_errors["personal_api_key"]


def test_429_is_waited_out_when_retry_after_is_short_and_refused_when_long(session, world, posthog):
    _signed_up(posthog, B, "u2", "bob@example.com", T0)
    posthog.inject(429, {"Retry-After": "2"})
    slept: list[float] = []
    assert _run(session, slept, dry_run=True)["to_import"] == 1
    assert 2.0 in slept
    posthog.inject(429, {"Retry-After": "3600"})
    slept.clear()
    with pytest.raises(Conflict, match="3600 s"):
        _run(session, slept, dry_run=True)
    assert max(slept, default=0) <= query.MAX_RETRY_AFTER_S


def test_nothing_configured_is_a_422_per_missing_field(session):
    with pytest.raises(ValidationFailed) as refused:
        _run(session)
    assert set(refused.value.field_errors) == {"host", "personal_api_key", "project_id"}


def test_a_webhook_delivery_after_a_backfill_of_the_same_event_is_its_duplicate(session, world, posthog):
    _signed_up(posthog, B, "u2", "bob@example.com", T0)
    assert _run(session, fire_emails=True)["imported"] == 1
    bob = session.exec(select(Contact).where(Contact.email == "bob@example.com")).one()
    _webhook(world, B, "u2", "bob@example.com", T0)  # PostHog's destination retried it after the backfill
    session.expire_all()
    backfilled, delivered = session.exec(select(Event).where(Event.event_uuid == B).order_by(Event.id)).all()
    assert delivered.source_id == world.source.id and delivered.outcome == EventOutcome.duplicate
    assert f"#{backfilled.id}" in delivered.reason and delivered.decisions is None
    assert _count(session, Enrolment, Enrolment.contact_id == bob.id) == 1
    assert _count(session, Message, Message.contact_id == bob.id) == 4


def test_a_known_contacts_repeat_is_its_duplicate_in_a_partition_pass_too(session, world, posthog):
    """On PostgreSQL an event that only updates a known contact is processed by a partition pass, which
    drops a repeat of a backfilled event just as the one-at-a-time pass does."""
    _webhook(world, A, "u1", "ann@example.com", T0)  # the contact, known with the webhook's identities
    posthog.add_event(
        uuid=B, event="docs_viewed", distinct_id="u1", timestamp=_stamp(T0 + timedelta(minutes=1)), properties={}
    )
    assert _run(session, events=["docs_viewed"])["imported"] == 1
    _webhook(world, B, "u1", "ann@example.com", T0 + timedelta(minutes=1), event="docs_viewed")
    session.expire_all()
    backfilled, delivered = session.exec(select(Event).where(Event.event_uuid == B).order_by(Event.id)).all()
    assert backfilled.outcome == EventOutcome.processed
    assert delivered.outcome == EventOutcome.duplicate and f"#{backfilled.id}" in delivered.reason


def test_a_backfill_racing_a_webhook_delivery_is_processed_once(session, world, posthog, monkeypatch):
    """The webhook stored it after the backfill's check but before its rows: the backfilled row, later,
    is the duplicate, and the webhook's (which fires) is the one processed."""
    import json

    from humanic_app.services.intake import payloads, storing

    _signed_up(posthog, B, "u2", "bob@example.com", T0)
    real_store = storing.store_deliveries
    body = posthog_event(event="user_signed_up", distinct_id="u2", email="bob@example.com", timestamp=T0, event_uuid=B)
    webhook = storing.Delivery(
        source_id=world.source.id, headers={}, events=payloads.parse_body(json.dumps(body).encode(), None)
    )

    def webhook_first(*, session, deliveries):
        real_store(session=session, deliveries=[webhook])
        return real_store(session=session, deliveries=deliveries)

    monkeypatch.setattr(storing, "store_deliveries", webhook_first)
    _run(session)
    delivered, backfilled = session.exec(select(Event).where(Event.event_uuid == B).order_by(Event.id)).all()
    assert backfilled.source_id is None and backfilled.outcome == EventOutcome.duplicate
    assert delivered.outcome == EventOutcome.processed
    assert _count(session, Enrolment) == 1
