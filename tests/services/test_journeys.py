"""Journeys, node kind by node kind, through real intake and processing on SQLite and PostgreSQL: wait_for
(match, timeout, out of order, late, before the wait starts, several waiting), wait (time windows in the
contact's timezone), branch (events since enrolling, engagement and its fallback), exit, restarts mid-wait
and editing a live journey."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from humanic_app.db import make_engine
from humanic_app.models import Message
from humanic_app.services import processing, workspace
from humanic_app.services.campaigns import library, store
from tests.support.campaign_world import T0
from tests.support.journey_world import JourneyWorld

H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.fixture
def j(session, monkeypatch):
    return JourneyWorld(session, monkeypatch)


def _doc(steps, **extra) -> dict:
    return {"name": "Journey", "trigger": {"event": "started"}, "reentry": "every_time", "steps": steps, **extra}


def _email(id_: str, delay="0", **extra) -> dict:
    return {"id": id_, "delay": delay, "subject": f"Email {id_}", "html": "<p>hi</p>", **extra}


def test_drop_off_waits_for_this_carts_checkout_then_times_out(j):
    j.campaign("drop-off-recovery")
    j.send("checkout_started", T0, user="a", email="a@example.com", cart_value=129.5, cart_id="c1")
    j.send("checkout_started", T0, user="b", email="b@example.com", cart_value=80, cart_id="c2")
    assert j.schedule() == []  # the reminder is written only if the wait times out
    j.send("checkout_completed", T0 + 2 * H, user="a", email="a@example.com", cart_id="c1")
    [resumed] = [d for d in j.decisions()[-1] if d.get("resumed")]
    assert "Step 1 (wait for checkout_completed): happened, 0 emails scheduled" in resumed["reason"]
    j.send("checkout_completed", T0 + 3 * H, user="b", email="b@example.com", cart_id="OTHER")
    assert not any(d.get("resumed") for d in j.decisions()[-1])
    j.at(T0 + 24 * H - timedelta(seconds=1))
    assert j.schedule() == []
    j.at(T0 + 24 * H)
    assert j.schedule() == [("b@example.com", 1, T0 + 24 * H, "scheduled")]
    a, b = j.enrolments()
    assert [s["took"] for s in a.trail] == ["happened", "exit"] and a.position == "" and a.wake_at is None
    assert [s["took"] for s in b.trail] == ["timed out", "exit"] and b.position == ""
    j.at(T0 + 3 * D)  # a timeout resumes exactly once
    assert len(j.schedule()) == 1


def test_match_correlates_across_contacts_and_one_event_resumes_several(j):
    j.campaign("drop-off-recovery")
    j.send("checkout_started", T0, user="a", email="a@example.com", cart_value=99, cart_id="shared")
    j.send("checkout_started", T0 + H, user="b", email="b@example.com", cart_value=99, cart_id="shared")
    j.send("checkout_started", T0 + H, user="c", email="c@example.com", cart_value=99, cart_id="other")
    # the server reports the payment as its own distinct_id: another contact, the same cart
    j.send("checkout_completed", T0 + 2 * H, user="billing", email="billing@acme.io", cart_id="shared")
    resumed = [d["resumed"]["contact_id"] for d in j.decisions()[-1] if d.get("resumed")]
    a, b, _c = j.enrolments()
    assert resumed == [a.contact_id, b.contact_id]
    j.at(T0 + 2 * D)
    assert j.schedule() == [("c@example.com", 1, T0 + H + 24 * H, "scheduled")]


def test_the_completion_processed_before_the_start_resumes_at_once(j):
    """Out of order: the completion (later in event time) arrives first; the wait takes it when reached."""
    j.campaign("drop-off-recovery")
    j.send("checkout_completed", T0 + H, cart_id="c1")
    j.send("checkout_started", T0, cart_value=99, cart_id="c1", arrival=T0 + 2 * H)
    [decision] = j.decisions()[-1]
    assert decision["fired"] and "happened (checkout_completed #1 already stored)" in decision["reason"]
    j.at(T0 + 3 * D)
    assert j.schedule() == []


def test_an_event_arriving_after_the_timeout_path_ran_does_not_rewind(j):
    j.campaign("drop-off-recovery")
    j.send("checkout_started", T0, cart_value=99, cart_id="c1")
    j.at(T0 + 24 * H)
    assert j.schedule() == [("ada@example.com", 1, T0 + 24 * H, "scheduled")]
    j.send("checkout_completed", T0 + 2 * H, cart_id="c1", arrival=T0 + 25 * H)  # stamped inside the wait
    [late] = [d for d in j.decisions()[-1] if "arrived late" in d["reason"]]
    assert "Step 1 (wait for checkout_completed) timed out at" in late["reason"] and "does not rewind" in late["reason"]
    assert j.schedule() == [("ada@example.com", 1, T0 + 24 * H, "scheduled")]


def test_a_late_event_processed_before_the_timeout_ran_still_resumes(j):
    """By event time: received after the deadline, but before any pass ran the timeout path."""
    j.campaign("drop-off-recovery")
    j.send("checkout_started", T0, cart_value=99, cart_id="c1")
    j.send("checkout_completed", T0 + 23 * H, cart_id="c1", arrival=T0 + 25 * H)
    assert any(d.get("resumed") for d in j.decisions()[-1])
    j.at(T0 + 3 * D)
    assert j.schedule() == []


def test_an_event_stamped_before_its_wait_starts_does_not_count(j):
    j.campaign(
        _doc(
            [
                _email("welcome"),
                {"type": "wait", "duration": "1h"},
                {"id": "w", "type": "wait_for", "event": "b", "timeout": "1d", "on_event": "done"},
                _email("nudge"),
                {"id": "done", "type": "exit"},
            ]
        )
    )
    j.send("started", T0, user="x", email="x@example.com")
    j.send("b", T0 + timedelta(minutes=30), user="x", email="x@example.com")  # before the wait (T0+1h)
    j.send("started", T0, user="y", email="y@example.com", arrival=T0 + timedelta(minutes=31))
    j.send("b", T0 + 2 * H, user="y", email="y@example.com")  # inside y's wait
    j.at(T0 + 3 * D)
    assert sorted((to, step, due) for to, step, due, _ in j.schedule()) == [
        ("x@example.com", 0, T0),
        ("x@example.com", 3, T0 + H + D),
        ("y@example.com", 0, T0),
    ]


def test_two_enrolments_of_one_contact_waiting_for_the_same_event_both_resume(j):
    j.campaign(
        _doc(
            [
                {"type": "wait_for", "event": "b", "timeout": "1d", "on_event": "done"},
                _email("nudge"),
                {"id": "done", "type": "exit"},
            ]
        )
    )
    j.send("started", T0)
    j.send("started", T0 + H)
    j.send("b", T0 + 2 * H)
    first, second = j.enrolments()
    assert [d["resumed"]["enrolment_id"] for d in j.decisions()[-1] if d.get("resumed")] == [first.id, second.id]
    j.at(T0 + 3 * D)
    assert j.schedule() == []


def test_a_restart_mid_wait_times_out_once(j, session, database_url):
    j.campaign("drop-off-recovery")
    j.send("checkout_started", T0, cart_value=99, cart_id="c1")
    session.close()
    j.now = T0 + 25 * H
    restarted = make_engine(database_url)  # a new process: nothing of the wait is in memory
    try:
        for _ in range(2):
            with Session(restarted) as fresh:
                while processing.process_pending(session=fresh):
                    pass
        with Session(restarted) as fresh:
            rows = fresh.exec(select(Message.step_index, Message.due_at, Message.status)).all()
        assert [(step, due) for step, due, _ in rows] == [(1, T0 + 24 * H)]
    finally:
        restarted.dispose()


def test_a_wait_until_a_weekday_morning_in_the_contacts_timezone(j):
    workspace.update_workspace(session=j.session, changes={"timezone": "Europe/Paris"})
    j.campaign(
        _doc(
            [
                {
                    "type": "wait",
                    "duration": "1h",
                    "until": {"time": "09:00", "days": ["mon", "tue", "wed", "thu", "fri"]},
                },
                _email("hello"),
            ]
        )
    )
    # T0 is Thursday 14:00 UTC; an hour later it is 11:00 in New York and 17:00 in Paris
    j.send("started", T0, user="ny", email="ny@example.com", **{"$set": {"$geoip_time_zone": "America/New_York"}})
    j.send("started", T0, user="paris", email="paris@example.com")  # no timezone: the workspace's
    j.send("started", T0 + D, user="fri", email="fri@example.com")  # Friday 15:00 UTC → Monday 09:00 Paris
    assert sorted((to, due) for to, _, due, _ in j.schedule()) == [
        ("fri@example.com", T0.replace(day=14, hour=7)),
        ("ny@example.com", T0.replace(day=11, hour=13)),
        ("paris@example.com", T0.replace(day=11, hour=7)),
    ]


def test_onboarding_skips_the_tip_for_contacts_who_already_built_a_dashboard(j):
    j.campaign("onboarding-activation")
    j.send("user_signed_up", T0, user="a", email="a@example.com")
    j.send("user_signed_up", T0, user="b", email="b@example.com")
    assert [(to, step) for to, step, _, _ in j.schedule()] == [
        ("a@example.com", 0),
        ("b@example.com", 0),
        ("a@example.com", 1),
        ("b@example.com", 1),
    ]  # the tip and the check-in are written when the branch is reached, on day 5
    j.send("dashboard_created", T0 + D, user="a", email="a@example.com")
    j.at(T0 + 5 * D)
    later = sorted((to, step, due) for to, step, due, _ in j.schedule() if step > 1)
    assert later == [
        ("a@example.com", 5, T0 + 10 * D),
        ("b@example.com", 4, T0 + 5 * D),
        ("b@example.com", 5, T0 + 10 * D),
    ]
    a, b = j.enrolments()
    assert [(s["label"], s["took"]) for s in a.trail if s["took"] != "waited"] == [
        ("Step 4 (branch)", "already built one")
    ]
    assert [s["took"] for s in b.trail if s["took"] != "waited"] == ["else"]


def test_re_engagement_branches_on_the_open_and_says_when_it_cannot_know(j):
    j.campaign("re-engagement")
    for user in ("opened", "ignored", "local"):
        j.send("user_inactive", T0, user=user, email=f"{user}@example.com")
    j.mark("opened@example.com", 0, sent_via="resend", delivery_status="opened")
    j.mark("ignored@example.com", 0, sent_via="resend", delivery_status="delivered")
    j.mark("local@example.com", 0, sent_via="local")
    j.at(T0 + 4 * D)
    assert sorted((to, step) for to, step, _, _ in j.schedule() if step > 0) == [
        ("ignored@example.com", 3),
        ("local@example.com", 3),
        ("opened@example.com", 4),
    ]
    _opened, ignored, local = j.enrolments()
    branch = next(s for s in local.trail if s["took"] not in ("waited", "exit"))
    assert branch["took"] == "else" and "engagement unknown (local outbox" in branch["why"]
    assert "not opened (delivered)" in next(s for s in ignored.trail if s["took"] == "else")["why"]


def test_the_frequency_cap_gate_and_unsubscribes_still_apply_to_emails_written_later(j):
    """Emails written when a journey moves on are ordinary outbox rows: an exit goal cancels them too."""
    j.campaign(
        _doc([{"type": "wait_for", "event": "b", "timeout": "1h"}, _email("late", delay="2d")], exit_on=["goal"])
    )
    j.send("started", T0)
    j.at(T0 + 2 * H)
    assert j.schedule() == [("ada@example.com", 1, T0 + 2 * D, "scheduled")]
    j.send("goal", T0 + D)
    assert j.schedule() == [("ada@example.com", 1, T0 + 2 * D, "cancelled")]


def test_editing_a_live_journey_says_what_happens_and_in_flight_contacts_keep_their_version(j):
    campaign = j.campaign("drop-off-recovery")
    j.send("checkout_started", T0, cart_value=99, cart_id="c1")
    longer = library.templates()["drop-off-recovery"]
    longer["steps"][0]["timeout"] = "48h"
    effects = store.edit_effects(session=j.session, campaign_id=campaign.id, document=longer)
    assert effects["in_progress"] == 1 and effects["rule"] == store.EDIT_RULE
    assert effects["nodes"] == [
        {
            "node": "wait-for-checkout",
            "label": "Step 1 (wait for checkout_completed)",
            "waiting": 1,
            "change": "changed",
            "what_happens": "they keep the settings they entered under and finish that version",
        }
    ]
    without = library.templates()["drop-off-recovery"]
    without["steps"] = without["steps"][1:]
    assert (
        store.edit_effects(session=j.session, campaign_id=campaign.id, document=without)["nodes"][0]["change"]
        == "removed"
    )
    store.update_campaign(session=j.session, campaign_id=campaign.id, document=longer)
    j.session.commit()
    j.send("checkout_started", T0 + H, user="later", email="later@example.com", cart_value=99, cart_id="c2")
    j.at(T0 + 30 * H)
    assert j.schedule() == [("ada@example.com", 1, T0 + 24 * H, "scheduled")]  # the version it entered under
    j.at(T0 + 49 * H)
    assert j.schedule()[-1] == ("later@example.com", 1, T0 + 49 * H, "scheduled")
    counts = store.node_counts(session=j.session, campaign_id=campaign.id)
    assert counts["wait-for-checkout"]["took"] == {"timed out": 2} and counts["reminder"]["passed"] == 2


def test_archiving_a_journey_stops_its_waits(j):
    campaign = j.campaign("drop-off-recovery")
    j.send("checkout_started", T0, cart_value=99, cart_id="c1")
    store.set_status(session=j.session, campaign_id=campaign.id, status=store.CampaignStatus.archived)
    j.session.commit()
    j.at(T0 + 2 * D)
    assert j.schedule() == []
    [enrolment] = j.enrolments()
    assert enrolment.status.value == "cancelled" and enrolment.wake_at is None
