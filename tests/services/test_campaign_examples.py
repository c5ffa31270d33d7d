"""The ready-made campaigns (campaigns/*.yaml), fed PostHog-shaped events: exactly which emails get
scheduled, and for when."""

from datetime import timedelta

import pytest
from sqlmodel import select

from humanic_app.models import CampaignStatus, Enrolment, Event, Message
from humanic_app.services import processing, sources, workspace
from humanic_app.services.campaigns import library, store
from tests.support.campaign_world import T0, World, linear


@pytest.fixture
def world(session):
    return World(session)


def test_onboarding_day_0_2_5_10(world):
    world.campaign(linear("onboarding-activation"))
    world.send("user_signed_up", T0)
    assert world.schedule() == [
        ("ada@example.com", i, T0 + timedelta(days=d), "scheduled") for i, d in enumerate([0, 2, 5, 10])
    ]
    world.send("user_signed_up", T0 + timedelta(days=1))  # re-entry: once
    assert len(world.schedule()) == 4
    assert "re-entry blocked" in world.decisions()[-1][0]["reason"]
    world.deliver_due(T0 + timedelta(days=3))
    world.send("subscription_upgraded", T0 + timedelta(days=3))  # exit goal: remaining steps cancelled
    assert [s[3] for s in world.schedule()] == ["sent", "sent", "cancelled", "cancelled"]


def test_feature_adoption_uses_feature_name(world):
    world.campaign("feature-adoption")
    world.send("dashboard_first_viewed", T0, feature_name="Dashboards")
    [message] = world.session.exec(select(Message)).all()
    assert message.due_at == T0 and message.variables["feature_name"] == "Dashboards"


def test_drop_off_recovery_sends_only_without_checkout_completed(world):
    world.campaign(linear("drop-off-recovery"))
    world.send("checkout_started", T0, user="a", email="a@example.com", cart_value=129.5, cart_id="c1")
    world.send("checkout_started", T0, user="b", email="b@example.com", cart_value=80, cart_id="c2")
    world.send("checkout_started", T0, user="c", email="c@example.com", cart_value=20, cart_id="c3")
    world.send("checkout_completed", T0 + timedelta(hours=2), user="a", email="a@example.com", cart_id="c1")
    world.send("checkout_completed", T0 + timedelta(hours=3), user="b", email="b@example.com", cart_id="OTHER")
    assert world.schedule() == [
        ("a@example.com", 0, T0 + timedelta(hours=24), "cancelled"),
        ("b@example.com", 0, T0 + timedelta(hours=24), "scheduled"),
    ]
    low_cart = world.decisions()[2][0]
    assert low_cart["fired"] is False and "cart_value gt 50 (was 20)" in low_cart["reason"]


def test_drop_off_completed_arriving_before_started_still_cancels(world):
    """Out-of-order delivery: the completion (later in time) is processed first."""
    world.campaign(linear("drop-off-recovery"))
    world.send("checkout_completed", T0 + timedelta(hours=1), cart_id="c1")
    world.send("checkout_started", T0, cart_value=99, cart_id="c1")
    assert world.schedule() == []
    assert "checkout_completed already happened" in world.decisions()[-1][0]["reason"]


def test_paid_conversion_on_third_pricing_view_or_trial_day_12(world):
    world.campaign("paid-conversion-pricing")
    world.campaign("paid-conversion-trial")
    for day in range(4):
        world.send("pricing_page_viewed", T0 + timedelta(days=day))
    assert world.schedule() == [("ada@example.com", 0, T0 + timedelta(days=2), "scheduled")]
    reasons = [d[0]["reason"] for d in world.decisions()]
    assert reasons[0].startswith("occurrence 1 of 3") and reasons[1].startswith("occurrence 2 of 3")
    assert reasons[2].startswith("matched") and reasons[3].startswith("occurrence 4 of 3")
    world.send("trial_day_12", T0 + timedelta(days=12), user="u2", email="bo@example.com")
    assert world.schedule()[-1] == ("bo@example.com", 0, T0 + timedelta(days=12), "scheduled")


def test_pricing_views_outside_the_window_do_not_count(world):
    world.campaign("paid-conversion-pricing")
    world.send("pricing_page_viewed", T0)
    world.send("pricing_page_viewed", T0 + timedelta(days=40))
    world.send("pricing_page_viewed", T0 + timedelta(days=41))
    assert world.schedule() == []
    assert world.decisions()[-1][0]["reason"].startswith("occurrence 2 of 3")


def test_re_engagement_after_exit(world):
    world.campaign(linear("re-engagement"))
    world.send("user_inactive", T0)
    assert [(s[1], s[2]) for s in world.schedule()] == [(0, T0), (1, T0 + timedelta(days=4))]
    world.send("user_inactive", T0 + timedelta(days=1))
    assert "still in the sequence" in world.decisions()[-1][0]["reason"]
    world.deliver_due(T0 + timedelta(days=2))
    world.send("session_started", T0 + timedelta(days=2))
    world.send("user_inactive", T0 + timedelta(days=20))
    assert [(s[1], s[2], s[3]) for s in world.schedule()] == [
        (0, T0, "sent"),
        (1, T0 + timedelta(days=4), "cancelled"),
        (0, T0 + timedelta(days=20), "scheduled"),
        (1, T0 + timedelta(days=24), "scheduled"),
    ]


def test_decision_trace_explains_every_active_campaign(world, session):
    world.campaign(linear("onboarding-activation"))
    world.campaign(linear("drop-off-recovery"))
    world.send("user_signed_up", T0)
    [onboarding, drop_off] = world.decisions()[-1]
    assert onboarding["fired"] and onboarding["reason"].startswith("matched: enrolled, 4 emails")
    assert drop_off == {
        "campaign_id": drop_off["campaign_id"],
        "campaign": "Drop-off recovery",
        "fired": False,
        "reason": "event name differs (user_signed_up ≠ checkout_started)",
    }
    world.send("user_signed_up", T0, user="anon", email=None)
    assert "no contact" in world.decisions()[-1][0]["reason"]
    workspace.update_workspace(session=session, changes={"status": "paused"})
    world.send("user_signed_up", T0, user="u3", email="c@example.com")
    assert world.decisions()[-1][0]["reason"] == "workspace paused"


def test_replayed_event_never_enrols_twice(world, session):
    world.campaign(linear("onboarding-activation"))
    world.send("user_signed_up", T0)
    event = session.exec(select(Event)).one()
    event.outcome = "pending"  # as if the processor crashed after the enrolment committed
    session.add(event)
    session.commit()
    while processing.process_pending(session=session):
        pass
    assert len(session.exec(select(Enrolment)).all()) == 1 and len(world.schedule()) == 4


def test_archiving_cancels_pending_and_unactivated_source_fires_nothing(world, session):
    campaign = world.campaign(linear("onboarding-activation"))
    world.send("user_signed_up", T0)
    store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.archived)
    assert {s[3] for s in world.schedule()} == {"cancelled"}
    other = sources.create_source(session=session, name="Staging")
    session.commit()
    world.source = other
    world.campaign("feature-adoption")
    world.send("dashboard_first_viewed", T0, user="z", email="z@example.com")
    assert "source not activated yet" in world.decisions()[-1][0]["reason"]


def test_every_library_file_validates_and_round_trips(session):
    from humanic_app.services.campaigns.schema import document_as_dict, validate_document

    docs = library.templates()
    assert set(docs) == {
        "onboarding-activation",
        "feature-adoption",
        "drop-off-recovery",
        "paid-conversion-pricing",
        "paid-conversion-trial",
        "re-engagement",
    }
    for doc in docs.values():
        canonical = document_as_dict(validate_document(doc))
        assert document_as_dict(validate_document(library.load_text(library.dump(canonical)))) == canonical


def test_dry_run_matches_what_the_engine_schedules(world, session, monkeypatch):
    """Feed events with no campaign active, then dry-run: the same emails the live engine schedules."""
    from humanic_app import clock
    from humanic_app.services.campaigns.dry_run import dry_run

    monkeypatch.setattr(clock, "now", lambda: T0 + timedelta(days=3))
    world.send("checkout_started", T0, user="a", email="a@example.com", cart_value=129.5, cart_id="c1")
    world.send("checkout_started", T0, user="b", email="b@example.com", cart_value=80, cart_id="c2")
    world.send("checkout_started", T0, user="c", email="c@example.com", cart_value=20, cart_id="c3")
    world.send("checkout_completed", T0 + timedelta(hours=2), user="a", email="a@example.com", cart_id="c1")
    assert world.schedule() == []
    result = dry_run(session=session, document=linear("drop-off-recovery"), days=7)
    assert result["contacts"] == 1 and result["emails"] == 1
    assert result["sample"] == [
        {
            "contact_id": result["sample"][0]["contact_id"],
            "to": "b@example.com",
            "step": 0,
            "due_at": (T0 + timedelta(hours=24)).isoformat(),
            "sends_at": (T0 + timedelta(days=3)).isoformat(),  # already due: the next dispatcher pass, now
            "already_due": True,
        }
    ]
    assert result["not_sent"] == {"where clause failed": 1, "cancelled by unless (checkout_completed)": 1}

    for day in range(4):
        world.send("pricing_page_viewed", T0 - timedelta(days=3) + timedelta(days=day), user="p", email="p@example.com")
    pricing = dry_run(session=session, document=library.templates()["paid-conversion-pricing"], days=30)
    assert pricing["emails"] == 1 and pricing["sample"][0]["due_at"] == (T0 - timedelta(days=1)).isoformat()
    onboarding = dry_run(session=session, document=linear("onboarding-activation"), days=30)
    assert onboarding["emails"] == 0 and onboarding["events_considered"] == 0


def test_trace_summarises_campaigns_on_other_triggers(world):
    for slug in ("onboarding-activation", "drop-off-recovery", "feature-adoption", "re-engagement"):
        world.campaign(slug)
    world.send("user_signed_up", T0)
    onboarding, others = world.decisions()[-1]
    assert onboarding["campaign"] == "Onboarding activation" and onboarding["fired"]
    assert others == {
        "campaign_id": None,
        "campaign": "3 other active campaigns",
        "fired": False,
        "reason": "event name differs: they trigger on checkout_started, dashboard_first_viewed, user_inactive",
    }
