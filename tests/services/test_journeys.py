"""Journeys, node kind by node kind, through real intake and processing on SQLite and PostgreSQL: wait_for
(match, timeout, out of order, late, before the wait starts, several waiting; an event without a contact
resumes `match` waits only, and is told when it arrived late for one), wait (time windows in the
contact's timezone, a mapped `timezone` variable's in the dry run too), branch (events since enrolling,
engagement and its fallback), exit, restarts mid-wait and editing a live journey."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlmodel import Session, col, select

from humanic_app.db import make_engine
from humanic_app.models import Enrolment, Event, EventOutcome, Message
from humanic_app.models.event import NO_EMAIL_REASON
from humanic_app.services import processing, sources, workspace
from humanic_app.services.campaigns import journeys, library, store
from humanic_app.services.campaigns.dry_run import dry_run
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
    # written when the wait timed out, keyed by its enrolment's time like the emails written at enrolment
    reminder = j.session.exec(select(Message)).one()
    assert reminder.idempotency_key == f"enrolment-{b.id}-{int(T0.timestamp()) * 1_000_000}-step-1"
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


def test_a_completion_in_the_same_pass_stamped_with_the_start_is_taken_at_once(j):
    """One pass, the completion stored first with the start's very time: it is processed first (ties go by
    id) and the wait reached at that time takes it — from the batch, whose rows are written after."""
    j.campaign("drop-off-recovery")
    j.send_together(
        ("checkout_completed", T0, {"cart_id": "c1"}),
        ("checkout_started", T0, {"cart_value": 99, "cart_id": "c1"}),
    )
    [decision] = j.decisions()[-1]
    assert decision["fired"] and "happened (checkout_completed #1 already stored)" in decision["reason"]
    j.at(T0 + 3 * D)
    assert j.schedule() == []


def test_a_completion_without_a_contact_in_the_same_pass_is_taken_at_once(j):
    """The server's completion (no contact: skipped for want of an email, which `match` waits still take)
    stored with the start in one pass, stamped inside the wait: taken when the enrolment reaches it."""
    j.campaign("drop-off-recovery")
    j.send_together(
        ("checkout_started", T0, {"cart_value": 99, "cart_id": "c1"}),
        ("checkout_completed", T0 + H, {"user": "billing-server", "email": None, "cart_id": "c1"}),
    )
    [decision] = j.decisions()[0]
    assert decision["fired"] and "happened (checkout_completed #2 already stored)" in decision["reason"]
    assert _event(j).contact_id is None
    j.at(T0 + 3 * D)
    assert j.schedule() == []


def test_a_branch_reached_in_a_pass_sees_what_the_contact_did_earlier_in_that_pass(j):
    j.campaign(
        _doc(
            [
                {"id": "w", "type": "wait_for", "event": "b", "timeout": "1d", "on_event": "check"},
                {"id": "late", "type": "exit"},
                {"id": "check", "type": "branch", "paths": [{"name": "saw c", "when": [{"did": "c"}], "then": "yes"}]},
                _email("no"),
                {"id": "stop", "type": "exit"},
                _email("yes"),
            ]
        )
    )
    j.send_together(("started", T0, {}), ("c", T0 + timedelta(minutes=30), {}), ("b", T0 + H, {}))
    [enrolment] = j.enrolments()
    assert [(s["label"], s["took"]) for s in enrolment.trail if s["took"] not in ("waited", "exit")] == [
        ("Step 1 (wait for b)", "happened"),
        ("Step 3 (branch)", "saw c"),
    ]
    assert [(to, step) for to, step, _, _ in j.schedule()] == [("ada@example.com", 5)]


def test_a_pass_writes_each_event_row_once_outcome_and_decisions_together(j):
    j.campaign("drop-off-recovery")
    updates: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE EVENT "):
            updates.append(statement)

    engine = j.session.get_bind()
    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        j.send_together(
            ("checkout_started", T0, {"user": "a", "email": "a@example.com", "cart_value": 99, "cart_id": "c1"}),
            ("checkout_started", T0, {"user": "b", "email": "b@example.com", "cart_value": 99, "cart_id": "c2"}),
            ("checkout_completed", T0 + H, {"user": "a", "email": "a@example.com", "cart_id": "c1"}),
        )
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)
    assert len(updates) == 1  # one executemany for the three rows
    rows = j.session.exec(select(Event).order_by(Event.id)).all()
    assert [e.outcome for e in rows] == [EventOutcome.processed] * 3
    assert all(e.decisions and e.contact_id and e.processed_at for e in rows)
    # a's wait takes the completion of the same pass when the enrolment walks to it (as a stored one)
    assert "happened (checkout_completed #3 already stored)" in rows[0].decisions[0]["reason"]
    assert "waits at Step 1" in rows[1].decisions[0]["reason"]


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


def test_contacts_waiting_under_an_earlier_version_still_resume_after_the_wait_is_re_keyed_or_removed(j):
    campaign = j.campaign("drop-off-recovery")
    j.send("checkout_started", T0, user="a", email="a@example.com", cart_value=99, cart_id="c1")
    re_keyed = library.templates()["drop-off-recovery"]
    re_keyed["steps"][0]["match"] = ["order_id"]
    store.update_campaign(session=j.session, campaign_id=campaign.id, document=re_keyed)
    without = library.templates()["drop-off-recovery"]
    without["steps"] = without["steps"][1:]
    store.update_campaign(session=j.session, campaign_id=campaign.id, document=without)
    j.session.commit()
    # The server reports the payment under its own distinct_id: only the cart correlates it, as the version
    # Ada entered under says, though the journey now waits on nothing.
    j.send("checkout_completed", T0 + 2 * H, user="billing", email="billing@acme.io", cart_id="c1")
    [resumed] = [d for d in j.decisions()[-1] if d.get("resumed")]
    assert resumed["resumed"]["contact_id"] == j.enrolments()[0].contact_id
    j.at(T0 + 2 * D)
    assert j.schedule() == []  # she checked out: no reminder from the version she entered under


def test_archiving_a_journey_stops_its_waits(j):
    campaign = j.campaign("drop-off-recovery")
    j.send("checkout_started", T0, cart_value=99, cart_id="c1")
    store.set_status(session=j.session, campaign_id=campaign.id, status=store.CampaignStatus.archived)
    j.session.commit()
    j.at(T0 + 2 * D)
    assert j.schedule() == []
    [enrolment] = j.enrolments()
    assert enrolment.status.value == "cancelled" and enrolment.wake_at is None


# --- events without a contact, late events of other contacts, the mapped timezone -------------------------


def _event(j, index: int = -1) -> Event:
    j.session.expire_all()
    return j.session.exec(select(Event).order_by(col(Event.id))).all()[index]


def test_a_server_side_completion_without_a_contact_resumes_every_wait_on_its_cart_once(j):
    j.campaign("drop-off-recovery")
    j.send("checkout_started", T0, user="a", email="a@example.com", cart_value=99, cart_id="shared")
    j.send("checkout_started", T0 + H, user="b", email="b@example.com", cart_value=99, cart_id="shared")
    j.send("checkout_started", T0 + H, user="c", email="c@example.com", cart_value=99, cart_id="other")
    # the payment server knows the cart, not the person: its distinct_id is no contact's, it has no email
    j.send("checkout_completed", T0 + 2 * H, user="billing-server", email=None, cart_id="shared")
    a, b, _c = j.enrolments()
    resumed = [d for d in j.decisions()[-1] if d.get("resumed")]
    assert [d["resumed"]["enrolment_id"] for d in resumed] == [a.id, b.id]
    assert f"resumed enrolment {a.id} of contact {a.contact_id}" in resumed[0]["reason"]
    completion = _event(j)
    assert completion.contact_id is None and completion.outcome == EventOutcome.processed
    assert completion.reason.startswith("fired: Drop-off recovery (no contact")
    j.send("checkout_completed", T0 + 3 * H, user="billing-server", email=None, cart_id="shared")  # again
    assert not any(d.get("resumed") for d in j.decisions()[-1])
    again = _event(j)
    assert again.outcome == EventOutcome.skipped and again.reason == NO_EMAIL_REASON  # nothing for it to do
    j.at(T0 + 2 * D)
    assert j.schedule() == [("c@example.com", 1, T0 + H + 24 * H, "scheduled")]
    assert [[s["took"] for s in e.trail] for e in j.enrolments()] == [
        ["happened", "exit"],
        ["happened", "exit"],
        ["timed out", "exit"],
    ]


def test_an_event_without_a_contact_leaves_waits_without_match_alone(j):
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
    j.send("b", T0 + H, user="someone-unknown", email=None)
    assert not any(d.get("resumed") for d in j.decisions()[-1])
    assert _event(j).outcome == EventOutcome.skipped
    j.at(T0 + 2 * D)
    assert j.schedule() == [("ada@example.com", 1, T0 + D, "scheduled")]


def test_a_completion_without_a_contact_stored_before_the_wait_is_reached_is_taken_at_once(j):
    """Out of order: the server's completion (later in event time) arrives before the cart was started."""
    j.campaign("drop-off-recovery")
    j.send("checkout_completed", T0 + H, user="billing-server", email=None, cart_id="c1")
    assert _event(j).outcome == EventOutcome.skipped  # no journey waited for it yet
    j.send("checkout_started", T0, cart_value=99, cart_id="c1", arrival=T0 + 2 * H)
    [decision] = j.decisions()[-1]
    assert decision["fired"] and "happened (checkout_completed #1 already stored)" in decision["reason"]
    j.at(T0 + 3 * D)
    assert j.schedule() == []


def test_events_without_a_contact_never_fail_processing(j):
    j.campaign("drop-off-recovery")
    j.send("checkout_started", T0, cart_value=99, cart_id="c1")
    for odd in ({"cart_id": {"nested": [1, None]}}, {"cart_id": None}, {"cart_id": ["c1"]}, {}):
        j.send("checkout_completed", T0 + H, user="billing-server", email=None, **odd)
        event = _event(j)
        assert event.outcome == EventOutcome.skipped and not any(d.get("resumed") for d in event.decisions or [])
    j.send("checkout_completed", T0 + 2 * H, user="billing-server", email=None, cart_id="c1")
    assert any(d.get("resumed") for d in j.decisions()[-1])


def test_a_completion_arriving_after_a_match_wait_timed_out_is_late_for_whoever_waited(j):
    j.campaign("drop-off-recovery")
    j.send("checkout_started", T0, user="a", email="a@example.com", cart_value=99, cart_id="c1")
    j.at(T0 + 24 * H)  # a's wait times out: the reminder is written
    assert j.schedule() == [("a@example.com", 1, T0 + 24 * H, "scheduled")]
    [a] = j.enrolments()
    # stamped inside a's wait, processed after its timeout path ran: of no contact, then of another contact
    j.send("checkout_completed", T0 + 2 * H, user="billing-server", email=None, cart_id="c1", arrival=T0 + 25 * H)
    [late] = [d for d in j.decisions()[-1] if "arrived late" in d["reason"]]
    assert late["reason"].startswith(f"arrived late for enrolment {a.id} of contact {a.contact_id}: Step 1")
    assert "does not rewind" in late["reason"] and not late["fired"]
    j.send("checkout_completed", T0 + 3 * H, user="b", email="b@example.com", cart_id="c1", arrival=T0 + 26 * H)
    [late] = [d for d in j.decisions()[-1] if "arrived late" in d["reason"]]
    assert late["reason"].startswith(f"arrived late for enrolment {a.id} of contact {a.contact_id}: Step 1")
    # another cart, or stamped outside the wait: nothing to say
    j.send("checkout_completed", T0 + 4 * H, user="billing-server", email=None, cart_id="c2", arrival=T0 + 27 * H)
    j.send("checkout_completed", T0 + 30 * H, user="billing-server", email=None, cart_id="c1", arrival=T0 + 30 * H)
    assert not any("arrived late" in d["reason"] for events in j.decisions()[-2:] for d in events)
    assert j.schedule() == [("a@example.com", 1, T0 + 24 * H, "scheduled")]  # nothing rewound
    assert [s["took"] for s in j.enrolments()[0].trail] == ["timed out", "exit"]


def test_the_mapped_timezone_variable_sets_a_windows_timezone_in_the_engine_and_the_dry_run(j):
    sources.update_mapping(
        session=j.session, source_id=j.source.id, mapping={"variables": {"timezone": "event.properties.tz"}}
    )
    document = _doc(
        [
            {"type": "wait", "duration": "1h", "until": {"time": "09:00", "days": ["mon", "tue", "wed", "thu", "fri"]}},
            _email("hello"),
        ]
    )
    j.campaign(document)
    # T0 is Thursday 14:00 UTC: an hour later it is Friday 00:00 in Tokyo; 09:00 there is 00:00 UTC
    j.send("started", T0, user="tokyo", email="tokyo@example.com", tz="Asia/Tokyo")
    j.send("started", T0, user="utc", email="utc@example.com")  # none mapped: the workspace's (UTC)
    expected = [("tokyo@example.com", T0.replace(day=11, hour=0)), ("utc@example.com", T0.replace(day=11, hour=9))]
    assert sorted((to, due) for to, _, due, _ in j.schedule()) == expected
    predicted = dry_run(session=j.session, document=document, days=30)
    assert sorted((e["to"], datetime.fromisoformat(e["due_at"])) for e in predicted["sample"]) == expected
    assert "timezone" not in predicted["note"]


def test_person_property_filters_of_a_wait_for_and_a_did_hold_on_the_contact_in_the_engine_and_the_dry_run(j):
    pro_only = [{"person_property": "plan", "op": "eq", "value": "pro"}]
    document = _doc(
        [
            {"type": "wait_for", "event": "paid", "where": pro_only, "timeout": "1d", "on_event": "check"},
            _email("nudge", next="done"),
            {
                "id": "check",
                "type": "branch",
                "paths": [{"name": "pro upgraded", "when": [{"did": "upgraded", "where": pro_only}], "then": "done"}],
            },
            _email("thanks"),
            {"id": "done", "type": "exit"},
        ]
    )
    j.campaign(document)
    for plan in ("pro", "free"):
        j.send("started", T0, user=plan, email=f"{plan}@example.com", **{"$set": {"plan": plan}})
        j.send("upgraded", T0 + H, user=plan, email=f"{plan}@example.com")
        j.send("paid", T0 + 2 * H, user=plan, email=f"{plan}@example.com")
    j.at(T0 + 2 * D)
    expected = [("free@example.com", 1, T0 + D)]
    assert [(to, step, due) for to, step, due, _ in j.schedule()] == expected
    pro, free = j.enrolments()
    assert [(s["label"], s["took"]) for s in pro.trail] == [
        ("Step 1 (wait for paid)", "happened"),
        ("Step 3 (branch)", "pro upgraded"),
        ("Step 5 (exit)", "exit"),
    ]
    assert [s["took"] for s in free.trail] == ["timed out", "exit"]
    predicted = dry_run(session=j.session, document=document, days=30)
    assert [(e["to"], e["step"], datetime.fromisoformat(e["due_at"])) for e in predicted["sample"]] == expected
    assert predicted["paths"] == {
        "Step 1 (wait for paid)": {"happened": 1, "timed out": 1},
        "Step 3 (branch)": {"pro upgraded": 1},
    }


def test_the_resuming_events_trace_says_which_branch_each_contact_took_and_why(j):
    j.campaign(
        _doc(
            [
                {"type": "wait_for", "event": "paid", "timeout": "1d", "on_event": "check"},
                _email("nudge", next="done"),
                {
                    "id": "check",
                    "type": "branch",
                    "paths": [{"name": "browsed", "when": [{"did": "viewed"}], "then": "done"}],
                },
                _email("tip"),
                {"id": "done", "type": "exit"},
            ]
        )
    )
    j.send("started", T0, user="a", email="a@example.com")
    j.send("viewed", T0 + H, user="a", email="a@example.com")
    j.send("paid", T0 + 2 * H, user="a", email="a@example.com")
    [resumed] = [d for d in j.decisions()[-1] if d.get("resumed")]
    assert resumed["reason"].endswith(
        "Step 1 (wait for paid): happened, 0 emails scheduled; "
        "Step 3 (branch): browsed (did viewed since enrolling); Step 5 (exit): exit (the journey ends here)"
    )
    j.send("started", T0, user="b", email="b@example.com")
    j.send("paid", T0 + 2 * H, user="b", email="b@example.com")
    [resumed] = [d for d in j.decisions()[-1] if d.get("resumed")]
    assert resumed["reason"].endswith(
        "Step 1 (wait for paid): happened, 1 email scheduled; "
        "Step 3 (branch): else (browsed: no viewed since enrolling); Step 5 (exit): exit (the journey ends here)"
    )


def test_enrolments_of_one_journey_version_share_one_decoded_definition(j):
    """A run decodes and validates a definition once per version, not once per waiting contact."""
    j.campaign("drop-off-recovery")
    for user in ("a", "b"):
        j.send("checkout_started", T0, user=user, email=f"{user}@example.com", cart_value=99, cart_id=f"c-{user}")
    definitions = journeys.Definitions()  # a run's own, shared by its queries
    a, b = journeys.filled_views(
        j.session, journeys.select_filled().order_by(col(Enrolment.id)), definitions=definitions
    )
    assert a.definition is b.definition
    assert a.definition == j.session.get(Enrolment, a.id).definition
    assert (a.position, a.waiting_for, a.filled) == ("wait-for-checkout", "checkout_completed", True)
