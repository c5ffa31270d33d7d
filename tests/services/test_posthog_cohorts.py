"""Cohorts brought in from PostHog (tests/support/fake_posthog.py): persons become contacts by processing's
identity rules (person id, then distinct_id, then email), members are recorded and those who left are
removed, persons are paged, PostHog's 401/403/404/429 answers, and the hourly sync job."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from humanic_app import clock, db, workers
from humanic_app.models import Contact, ContactIdentity, IdentityKind, PosthogCohort, PosthogCohortMember
from humanic_app.services import contacts, posthog_cohorts as cohorts, rate_limit
from humanic_app.services.errors import Conflict, NotFound, ValidationFailed
from humanic_app.services.posthog import connection, query
from tests.support import fake_posthog
from tests.support.campaign_world import T0, World

NOW = T0 + timedelta(days=1)


def _budget() -> rate_limit.LocalRateLimiter:
    return rate_limit.LocalRateLimiter(query.REQUESTS_PER_SECOND)


@pytest.fixture(autouse=True)
def _secrets_and_clock(operator_secret_in_tmp, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def world(session, posthog):
    found = World(session)
    connection.save(
        session=session,
        host=posthog.url,
        api_key=posthog.api_key,
        personal_api_key=posthog.personal_api_key,
        project_id=posthog.project_id,
    )
    session.commit()
    return found


def person(n: int, email: str | None, **properties) -> dict:
    props = {"email": email, **properties} if email else dict(properties)
    return {"uuid": f"0190-person-{n}", "distinct_ids": [f"user-{n}", f"anon-{n}"], "properties": props}


def _members(session, posthog_id: int) -> set[str]:
    session.expire_all()
    rows = session.exec(
        select(Contact.email)
        .join(PosthogCohortMember, PosthogCohortMember.contact_id == Contact.id)
        .join(PosthogCohort, PosthogCohort.id == PosthogCohortMember.cohort_id)
        .where(PosthogCohort.posthog_id == posthog_id)
    )
    return set(rows)


def _contacts(session) -> int:
    return session.exec(select(func.count()).select_from(Contact)).one()


def test_a_cohorts_persons_become_contacts_with_their_properties_and_are_recorded_as_members(world, session, posthog):
    posthog.add_cohort(7, "Power users", [person(1, "ada@example.com", plan="pro"), person(2, "Bob@Example.com")])
    cohort = cohorts.sync(limiter=_budget(), session=session, posthog_id=7)
    session.commit()
    assert (cohort.name, cohort.members, cohort.keep_in_sync) == ("Power users", 2, False)
    assert cohort.last_result == "2 persons: 2 new, 2 joined, 0 left."
    assert _members(session, 7) == {"ada@example.com", "bob@example.com"}
    ada = contacts.find_contact(session=session, key="ada@example.com")
    assert ada is not None and ada.properties["plan"] == "pro"
    identities = {(i.kind, i.value) for i in contacts.identities_of(session=session, contact_id=ada.id)}
    assert identities == {
        (IdentityKind.person_id, "0190-person-1"),
        (IdentityKind.distinct_id, "user-1"),
        (IdentityKind.distinct_id, "anon-1"),
    }


def test_persons_match_known_contacts_by_person_id_then_distinct_id_then_email_and_merge(world, session, posthog):
    world.send("user_signed_up", T0, user="user-1", email="ada@example.com")  # known by distinct_id
    world.send("user_signed_up", T0, user="someone-else", email="old@example.com")  # known by email only
    before = _contacts(session)
    # one PostHog person who is both: the two contacts are one person, merged as processing merges them
    posthog.add_cohort(
        7,
        "Power users",
        [{"uuid": "p-1", "distinct_ids": ["user-1"], "properties": {"email": "old@example.com"}}],
    )
    cohort = cohorts.sync(limiter=_budget(), session=session, posthog_id=7)
    session.commit()
    assert _contacts(session) == before - 1
    assert cohort.members == 1 and "0 new" in cohort.last_result
    merged = contacts.find_contact(session=session, key="user-1")
    assert merged is not None and merged.email == "old@example.com"
    assert contacts.find_contact(session=session, key="someone-else").id == merged.id


def test_a_resync_removes_members_who_left_and_adds_those_who_joined_keeping_the_contacts(world, session, posthog):
    posthog.add_cohort(7, "Power users", [person(1, "ada@example.com"), person(2, "bob@example.com")])
    cohorts.sync(limiter=_budget(), session=session, posthog_id=7)
    posthog.add_cohort(7, "Power users", [person(2, "bob@example.com"), person(3, "cy@example.com")])
    cohort = cohorts.sync(limiter=_budget(), session=session, posthog_id=7)
    session.commit()
    assert _members(session, 7) == {"bob@example.com", "cy@example.com"}
    assert cohort.last_result == "2 persons: 1 new, 1 joined, 1 left."
    assert contacts.find_contact(session=session, key="ada@example.com") is not None  # left the cohort, not Humanic


def test_a_person_without_email_and_no_contact_is_skipped(world, session, posthog):
    posthog.add_cohort(7, "Anonymous", [person(1, None), person(2, "not-an-email")])
    cohort = cohorts.sync(limiter=_budget(), session=session, posthog_id=7)
    assert cohort.members == 0 and _contacts(session) == 0
    assert "2 skipped (no email and no matching contact)" in cohort.last_result


def test_persons_are_paged_with_next_on_the_configured_host(world, session, posthog, monkeypatch):
    monkeypatch.setattr(fake_posthog, "PERSONS_PAGE", 2)
    posthog.add_cohort(7, "Big", [person(n, f"p{n}@example.com") for n in range(5)])
    cohort = cohorts.sync(limiter=_budget(), session=session, posthog_id=7, sleep=lambda s: None)
    assert cohort.members == 5
    pages = [g["query"].get("offset") for g in posthog.gets if g["path"].endswith("/persons/")]
    assert pages == [None, "2", "4"]


def test_posthogs_refusals_are_answers_the_user_can_act_on_and_change_nothing(world, session, posthog):
    posthog.add_cohort(7, "Power users", [person(1, "ada@example.com")])
    with pytest.raises(NotFound, match="no cohort 8"):
        cohorts.sync(limiter=_budget(), session=session, posthog_id=8)
    posthog.scopes.discard("person:read")
    with pytest.raises(ValidationFailed) as refused:
        cohorts.sync(limiter=_budget(), session=session, posthog_id=7)
    assert "Person Read" in refused.value.field_errors["personal_api_key"]
    posthog.personal_api_key = "phx_another_key_entirely"
    with pytest.raises(ValidationFailed, match=r"403|401"):
        cohorts.posthog_cohorts(session=session, limiter=_budget())
    session.rollback()
    assert _contacts(session) == 0 and session.exec(select(PosthogCohort)).first() is None


def test_a_429_is_waited_out_when_short_and_refused_when_long(world, session, posthog):
    posthog.add_cohort(7, "Power users", [person(1, "ada@example.com")])
    slept: list[float] = []
    posthog.inject(429, {"Retry-After": "2"})
    assert cohorts.sync(limiter=_budget(), session=session, posthog_id=7, sleep=slept.append).members == 1
    assert 2.0 in slept
    posthog.inject(429, {"Retry-After": "600"})
    with pytest.raises(Conflict, match="429"):
        cohorts.sync(limiter=_budget(), session=session, posthog_id=7, sleep=slept.append)


def test_a_spent_hour_of_the_query_budget_is_refused_at_once_with_when_to_try_again(world, session, posthog):
    posthog.add_cohort(7, "Power users", [person(1, "ada@example.com")])
    spent = rate_limit.LocalRateLimiter(query.REQUESTS_PER_SECOND, per_hour=2)
    spent.reserve(), spent.reserve()
    slept: list[float] = []
    with pytest.raises(query.BudgetSpent, match="try again in 63 min"):
        cohorts.sync(limiter=spent, session=session, posthog_id=7, sleep=slept.append)
    assert posthog.gets == [] and slept == []  # nothing asked of PostHog, nobody kept waiting an hour


def test_listing_says_which_cohorts_are_imported_and_leaves_deleted_ones_out(world, session, posthog):
    posthog.add_cohort(7, "Power users", [person(1, "ada@example.com")])
    posthog.add_cohort(8, "Old", [], deleted=True)
    posthog.add_cohort(9, "Trial", [])
    cohorts.sync(limiter=_budget(), session=session, posthog_id=7, keep_in_sync=True)
    listed = {c["posthog_id"]: c for c in cohorts.posthog_cohorts(session=session, limiter=_budget())}
    assert set(listed) == {7, 9}
    assert listed[7]["imported_id"] is not None and listed[7]["keep_in_sync"] and listed[7]["count"] == 1
    assert listed[9]["imported_id"] is None


@pytest.fixture
def app_engine(engine):
    """The worker's jobs open their sessions on the test's database."""
    db.use_engine(engine)
    yield engine
    db.use_engine(None)


def test_the_hourly_job_syncs_kept_cohorts_when_due_and_records_a_failure(
    world, session, posthog, monkeypatch, app_engine
):
    posthog.add_cohort(7, "Power users", [person(1, "ada@example.com")])
    posthog.add_cohort(9, "Once", [person(2, "bob@example.com")])
    cohorts.sync(limiter=_budget(), session=session, posthog_id=7, keep_in_sync=True)
    cohorts.sync(limiter=_budget(), session=session, posthog_id=9)
    session.commit()
    posthog.add_cohort(7, "Power users", [person(1, "ada@example.com"), person(3, "cy@example.com")])
    assert workers.sync_posthog_cohorts(sleep=lambda s: None) == 0  # synced just now: not due
    later = NOW + cohorts.SYNC_PERIOD
    monkeypatch.setattr(clock, "now", lambda: later)
    assert workers.sync_posthog_cohorts(sleep=lambda s: None) == 1  # the kept one only
    assert _members(session, 7) == {"ada@example.com", "cy@example.com"}
    session.commit()  # SQLite: the test's read must not hold the write lock the job takes
    monkeypatch.setattr(clock, "now", lambda: later + cohorts.SYNC_PERIOD)
    posthog.scopes.discard("cohort:read")
    assert workers.sync_posthog_cohorts(sleep=lambda s: None) == 0
    session.expire_all()
    kept = cohorts.get(session=session, posthog_id=7)
    assert kept.last_error.startswith("PostHog refused the personal API key (403)") and kept.members == 2


def test_a_merge_keeps_the_cohorts_of_both_contacts(world, session, posthog):
    posthog.add_cohort(7, "Power users", [person(1, "ada@example.com")])
    posthog.add_cohort(9, "Trial", [{"uuid": "p-9", "distinct_ids": ["ada-phone"], "properties": {"email": "a2@x.io"}}])
    cohorts.sync(limiter=_budget(), session=session, posthog_id=7)
    cohorts.sync(limiter=_budget(), session=session, posthog_id=9)
    session.commit()
    world.send("$identify", T0, user="user-1", email="ada@example.com", **{"$anon_distinct_id": "ada-phone"})
    survivor = contacts.find_contact(session=session, key="ada-phone")
    assert survivor is not None and survivor.id == contacts.find_contact(session=session, key="user-1").id
    session.expire_all()
    rows = session.exec(select(PosthogCohortMember).where(PosthogCohortMember.contact_id == survivor.id)).all()
    assert len(rows) == 2
    assert session.exec(select(func.count()).select_from(ContactIdentity)).one() >= 3


def test_erasing_a_contact_forgets_its_cohort_memberships(world, session, posthog, monkeypatch):
    from humanic_app.services import erasure

    posthog.add_cohort(7, "Power users", [person(1, "ada@example.com"), person(2, "bob@example.com")])
    cohorts.sync(limiter=_budget(), session=session, posthog_id=7)
    session.commit()
    ada = contacts.find_contact(session=session, key="ada@example.com")
    erasure.erase_contact(session=session, contact_id=ada.id, actor="owner@acme.io")
    session.commit()
    assert _members(session, 7) == {"bob@example.com"}


class _Counted(rate_limit.LocalRateLimiter):
    """The deployment's budget, counting the slots taken and the push-backs of 429s."""

    def __init__(self):
        super().__init__(query.REQUESTS_PER_SECOND)
        self.taken, self.pushed = 0, []

    def reserve(self, max_wait: float | None = None) -> float:
        self.taken += 1
        return super().reserve(max_wait)

    def push_back(self, seconds: float) -> None:
        self.pushed.append(seconds)
        super().push_back(seconds)


def test_every_request_takes_a_slot_of_the_one_posthog_budget(world, session, posthog):
    """Cohort sync shares the budget of backfill, polling and reconciliation: each request takes a slot of
    the limiter handed in, and a 429 pushes that whole budget back, not only this client."""
    posthog.add_cohort(7, "Power users", [person(1, "ada@example.com")])
    budget = _Counted()
    cohorts.posthog_cohorts(session=session, limiter=budget, sleep=lambda s: None)
    cohorts.sync(session=session, posthog_id=7, limiter=budget, sleep=lambda s: None)
    assert budget.taken == len(posthog.gets) and budget.taken >= 3
    posthog.inject(429, {"Retry-After": "2"})
    cohorts.sync(session=session, posthog_id=7, limiter=budget, sleep=lambda s: None)
    assert budget.pushed == [2.0]
