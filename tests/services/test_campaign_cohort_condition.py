"""The `in_cohort` branch condition: the engine and the dry run choose the path by the same rule (cohort
named by name in any case or by PostHog id, membership as of the cohort's last import), and saving a
campaign that names a cohort not imported is refused with a clear message."""

from __future__ import annotations

import pytest

from humanic_app.models import PosthogCohort, PosthogCohortMember
from humanic_app.services import contacts
from humanic_app.services.campaigns import rules, store
from humanic_app.services.campaigns.dry_run import dry_run
from humanic_app.services.campaigns.schema import InCohort, validate_document
from humanic_app.services.errors import ValidationFailed
from tests.support.campaign_world import T0, World


def branching(cohort: str | int) -> dict:
    return {
        "name": "Welcome by cohort",
        "trigger": {"event": "user_signed_up"},
        "steps": [
            {"type": "branch", "paths": [{"name": "power", "when": [{"in_cohort": cohort}], "then": "power"}]},
            {"id": "regular", "subject": "Welcome", "html": "<p>Hi</p>", "next": "end"},
            {"id": "power", "subject": "Welcome, power user", "html": "<p>Hi</p>"},
            {"id": "end", "type": "exit"},
        ],
    }


@pytest.fixture
def world(session):
    return World(session)


def _import(session, posthog_id: int, name: str, emails: list[str]) -> None:
    """A cohort as an import leaves it (services/posthog_cohorts.py is tested with the fake PostHog)."""
    cohort = PosthogCohort(posthog_id=posthog_id, name=name)
    session.add(cohort)
    session.flush()
    for email in emails:
        found = contacts.find_contact(session=session, key=email)
        assert found is not None
        session.add(PosthogCohortMember(cohort_id=cohort.id, contact_id=found.id))
    session.commit()


def _ada_and_bob_sign_up(world) -> None:
    world.send("user_signed_up", T0, user="u1", email="ada@example.com")
    world.send("user_signed_up", T0, user="u2", email="bob@example.com")


def test_the_rule_names_a_cohort_by_name_in_any_case_or_by_posthog_id():
    mine = [(7, "Power users")]
    assert rules.in_cohort(InCohort(in_cohort="power USERS"), mine)
    assert rules.in_cohort(InCohort.model_validate({"in_cohort": 7}), mine)
    assert not rules.in_cohort(InCohort(in_cohort="Trial"), mine)
    assert not rules.in_cohort(InCohort(in_cohort="Power users"), [])


def test_a_branch_condition_is_an_in_cohort_condition_by_its_key():
    node = validate_document(branching("Power users")).steps[0]
    assert isinstance(node.paths[0].when[0], InCohort)
    with pytest.raises(ValidationFailed):
        validate_document(branching(""))


@pytest.mark.parametrize("named", ["Power users", "power users", 7])
def test_the_engine_and_the_dry_run_take_the_cohort_path_for_members_only(world, session, named):
    _ada_and_bob_sign_up(world)
    _import(session, 7, "Power users", ["ada@example.com"])
    document = branching(named)
    predicted = dry_run(session=session, document=document, days=3650)
    assert predicted["paths"] == {"Step 1 (branch)": {"power": 1, "else": 1}}
    world.campaign(document)
    _ada_and_bob_sign_up(world)
    assert sorted((to, step) for to, step, _, _ in world.schedule()) == [("ada@example.com", 2), ("bob@example.com", 1)]
    assert {e["step"] for e in predicted["sample"] if e["to"] == "ada@example.com"} == {2}


def test_the_trace_says_why_a_contact_took_the_else_path(world, session):
    world.send("user_signed_up", T0, user="u1", email="ada@example.com")
    _import(session, 7, "Power users", [])
    world.campaign(branching("Power users"))
    world.send("user_signed_up", T0, user="u1", email="ada@example.com")
    said = " ".join(d["reason"] for row in world.decisions() for d in (row or []) if d.get("fired"))
    assert "not in cohort Power users" in said


def test_saving_a_campaign_that_names_a_cohort_not_imported_is_refused(world, session):
    _import(session, 7, "Power users", [])
    with pytest.raises(ValidationFailed) as refused:
        store.create_campaign(session=session, document=branching("Trial"))
    assert refused.value.field_errors == {
        "steps.0": "Step 1 (branch) asks about cohort 'Trial', which is not imported: import it in Settings → "
        "PostHog → Cohorts (imported: Power users)."
    }
    assert store.create_campaign(session=session, document=branching("7")).id is not None


def cohort_trigger(cohort: str | int) -> dict:
    return {
        "name": "Power welcome",
        "trigger": {"event": "user_signed_up", "in_cohort": cohort},
        "steps": [{"subject": "Welcome, power user", "html": "<p>Hi</p>"}],
    }


@pytest.mark.parametrize("named", ["Power users", "POWER USERS", 7])
def test_a_trigger_in_cohort_enrols_members_only_in_the_engine_and_the_dry_run(world, session, named):
    _ada_and_bob_sign_up(world)
    _import(session, 7, "Power users", ["ada@example.com"])
    document = cohort_trigger(named)
    predicted = dry_run(session=session, document=document, days=3650)
    assert (predicted["enrolments"], predicted["contacts"]) == (1, 1)
    assert predicted["not_sent"] == {f"not in cohort {named}": 1}
    world.campaign(document)
    _ada_and_bob_sign_up(world)
    assert [(to, step) for to, step, _, _ in world.schedule()] == [("ada@example.com", 0)]
    [refused] = [d for d in world.decisions()[-1] if d["campaign"] == "Power welcome"]
    assert refused == {**refused, "fired": False, "reason": f"not in cohort {named}"}


def test_a_trigger_cohort_is_checked_after_its_where_and_a_cleared_one_asks_nothing(world, session):
    _import(session, 7, "Power users", [])
    document = cohort_trigger("Power users")
    document["trigger"]["where"] = [{"property": "plan", "op": "eq", "value": "pro"}]
    world.campaign(document)
    world.send("user_signed_up", T0, user="u1", email="ada@example.com", plan="free")
    [said] = [d["reason"] for d in world.decisions()[-1] if d["campaign"] == "Power welcome"]
    assert said.startswith("where clause failed")
    assert validate_document(cohort_trigger("  ")).trigger.in_cohort is None


def test_saving_a_trigger_cohort_not_imported_is_refused_at_the_trigger(world, session):
    _import(session, 7, "Power users", [])
    with pytest.raises(ValidationFailed) as refused:
        store.create_campaign(session=session, document=cohort_trigger("Trial"))
    assert refused.value.field_errors == {
        "trigger.in_cohort": "The trigger asks about cohort 'Trial', which is not imported: import it in Settings → "
        "PostHog → Cohorts (imported: Power users)."
    }
