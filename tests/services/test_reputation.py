"""The reputation guardrail: rolling 24 h complaint and bounce rates from Resend's events, per campaign and
for the workspace; warnings, automatic pauses (once, even under concurrent deliveries) and the Resume rule."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from humanic_app import clock
from humanic_app.models import (
    WORKSPACE_SCOPE,
    Campaign,
    CampaignStatus,
    Message,
    MessageStatus,
    RateWindow,
    Workspace,
)
from humanic_app.services import diagnostics, reputation, stats, suppression, workspace
from humanic_app.services.campaigns import store
from humanic_app.services.errors import ValidationFailed
from humanic_app.services.reputation import Counts, Level, Thresholds
from tests.services.test_stats_concurrency import _waits_for_the_holder

DEFAULTS = Thresholds.of(Workspace())  # 200 emails; warn at 0.1 % / 2 %, pause at 0.3 % / 4 %
T0 = datetime(2026, 12, 2, 12, 10, tzinfo=UTC)
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    moment = {"now": T0}
    monkeypatch.setattr(clock, "now", lambda: moment["now"])
    return moment


def _campaign(session: Session, name: str) -> int:
    ws = workspace.get_workspace(session=session)  # Resume is an activation: it needs both
    ws.from_email, ws.physical_address = "hello@acme.io", "1 Main St, Springfield"
    document = {"name": name, "trigger": {"event": "signed_up"}, "steps": [{"subject": "Hi", "html": "<p>Hi</p>"}]}
    campaign = Campaign(name=name, status=CampaignStatus.active, trigger_event="signed_up", definition=document)
    session.add(campaign)
    session.commit()
    assert campaign.id is not None
    return campaign.id


def _volume(session: Session, campaign_id: int | None, **counts: int) -> None:
    """Earlier events of the window, as the webhook counted them (the counters are what the guardrail reads)."""
    hour = stats.hour_of(clock.now())
    stats.bump(session, Counter({(hour, name, str(campaign_id or "")): n for name, n in counts.items()}))
    session.commit()


def _event(session: Session, campaign_id: int | None, kind: str, *, commit: bool = True) -> str:
    """One Resend event about one sent email of the campaign, through the webhook's service."""
    n = next(_ids)
    message = Message(
        campaign_id=campaign_id,
        to_email=f"r{n}@example.com",
        due_at=clock.now(),
        idempotency_key=f"k-{n}",
        status=MessageStatus.sent,
        provider_message_id=f"re-{n}",
    )
    session.add(message)
    session.flush()
    payload = {"type": f"email.{kind}", "created_at": "2026-12-02T12:00:00Z", "data": {"email_id": f"re-{n}"}}
    outcome = suppression.record_resend_event(session=session, svix_id=f"msg_{n}", payload=payload)
    if commit:
        session.commit()
    return outcome


def _status(session: Session, campaign_id: int) -> CampaignStatus:
    session.expire_all()
    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None
    return campaign.status


def _blocked(session: Session) -> str:
    session.expire_all()
    return workspace.sending_block(workspace=workspace.get_workspace(session=session))


@pytest.mark.parametrize(
    "counts,level",
    [
        (Counts(delivered=199, complained=50), Level.too_few),  # under the minimum volume: no rate at all
        (Counts(delivered=196, bounced=4), Level.warn),  # bounces count in the denominator: 4 of 200 = 2 %
        (Counts(delivered=1000, complained=1), Level.warn),  # 0.1 %: at the warning line
        (Counts(delivered=1000, complained=2), Level.warn),
        (Counts(delivered=1000, complained=3), Level.pause),  # 0.3 %: at the pause line
        (Counts(delivered=990, bounced=39), Level.warn),  # 39 of 1029 = 3.79 %: under 4 %
        (Counts(delivered=960, bounced=40), Level.pause),  # 40 of 1000 = 4 %
        (Counts(delivered=990, bounced=19), Level.ok),  # 1.88 %
        (Counts(delivered=5000), Level.ok),
    ],
)
def test_the_lines_and_the_denominator(counts, level):
    assert reputation.judge(counts=counts, thresholds=DEFAULTS).level == level


def test_the_cause_names_the_numbers():
    verdict = reputation.judge(counts=Counts(delivered=709, bounced=3, complained=3), thresholds=DEFAULTS)
    assert verdict.cause == "0.42 % complaints (3 of 712 delivered or bounced) in the last 24 h, over 0.3 %"


def test_a_complaint_crossing_the_line_pauses_its_campaign_only(session):
    bad, clean = _campaign(session, "Winback"), _campaign(session, "Onboarding")
    _volume(session, bad, delivered=709, complained=2)
    _volume(session, clean, delivered=5000)
    assert _event(session, bad, "bounced") == "recorded"  # 2 of 710: 0.28 %
    assert _status(session, bad) == CampaignStatus.active
    _event(session, bad, "complained")  # 3 of 710
    assert _status(session, bad) == CampaignStatus.paused
    assert _status(session, clean) == CampaignStatus.active
    assert _blocked(session) == ""  # 3 of 5710 for the workspace: under every line
    reason = session.get(Campaign, bad).paused_reason  # type: ignore[union-attr]
    assert reason == (
        "Campaign “Winback” paused: 0.42 % complaints (3 of 710 delivered or bounced) in the last 24 h, over 0.3 %."
    )
    found = {f.key: f for f in diagnostics.run_checks(session=session, resend_configured=True)}
    assert found[f"reputation_paused:{bad}"].problem == reason
    assert f"campaign_auto_paused:{bad}" not in found  # not also reported as a template failure


def test_nothing_is_judged_under_the_minimum_volume_and_the_next_complaint_acts_once_it_is_reached(session):
    campaign = _campaign(session, "Launch")
    _volume(session, campaign, delivered=195, complained=4)
    _event(session, campaign, "complained")  # 5 of 195: 2.6 %, but only 195 emails
    assert _status(session, campaign) == CampaignStatus.active
    for _ in range(4):
        _event(session, campaign, "delivered")
    assert _status(session, campaign) == CampaignStatus.active  # 199
    _event(session, campaign, "delivered")  # the 200th: a delivery raises no rate, so it is not checked
    assert _status(session, campaign) == CampaignStatus.active
    _event(session, campaign, "complained")  # 6 of 200
    assert _status(session, campaign) == CampaignStatus.paused


def test_the_periodic_sweep_catches_a_crossing_no_bounce_or_complaint_brought(session, frozen):
    reached = _campaign(session, "Reached by deliveries")
    _volume(session, reached, delivered=194, complained=5)
    _event(session, reached, "complained")  # 6 of 194: judged on nothing, under the minimum volume
    for _ in range(6):
        _event(session, reached, "delivered")  # the 200th delivery raises no rate and is not checked
    assert _status(session, reached) == CampaignStatus.active
    [made] = [m for m in reputation.sweep(session=session) if m.startswith("Campaign")]
    session.commit()
    assert "Reached by deliveries" in made and _status(session, reached) == CampaignStatus.paused

    leaving = _campaign(session, "Old deliveries leaving")
    _volume(session, leaving, delivered=600)  # at 12:10
    frozen["now"] = T0 + timedelta(hours=12)
    _volume(session, leaving, delivered=250, complained=1)  # 1 of 850: 0.12 %, under the pause line
    _event(session, leaving, "delivered")
    frozen["now"] = T0 + timedelta(hours=23, minutes=50)  # the 600 left the window: 1 of 251 is 0.4 %
    assert _status(session, leaving) == CampaignStatus.active
    [made] = [m for m in reputation.sweep(session=session) if m.startswith("Campaign")]
    session.commit()
    assert "Old deliveries leaving" in made and _status(session, leaving) == CampaignStatus.paused
    assert not [m for m in reputation.sweep(session=session) if m.startswith("Campaign")]  # paused once


def test_the_minimum_volume_is_a_setting(session):
    workspace.get_workspace(session=session)
    reputation.update_thresholds(session=session, changes={"rate_min_volume": 50})
    session.commit()
    campaign = _campaign(session, "Launch")
    _volume(session, campaign, delivered=48)
    _event(session, campaign, "bounced")
    _event(session, campaign, "bounced")  # 2 of 50 = 4 %
    assert _status(session, campaign) == CampaignStatus.paused


def test_the_window_rolls(session, frozen):
    campaign = _campaign(session, "Digest")
    _volume(session, campaign, delivered=1000, complained=2)  # at 12:10
    frozen["now"] = T0 + timedelta(hours=23, minutes=49)  # 11:59 next day: 12:00's hour is still in the window
    assert reputation.window_counts(session=session, scope=str(campaign)).complained == 2
    frozen["now"] = T0 + timedelta(hours=23, minutes=50)  # 12:00 next day: the window starts at 13:00 yesterday
    assert reputation.window_counts(session=session, scope=str(campaign)) == Counts()
    _volume(session, campaign, delivered=300)
    _event(session, campaign, "complained")  # one of 300 counts now: 0.33 %
    assert _status(session, campaign) == CampaignStatus.paused
    assert "(1 of 300 delivered or bounced)" in session.get(Campaign, campaign).paused_reason  # type: ignore[union-attr]


def test_resume_counts_only_what_arrives_after_it(session, frozen):
    campaign = _campaign(session, "Winback")
    _volume(session, campaign, delivered=700, complained=2)
    _event(session, campaign, "complained")
    assert _status(session, campaign) == CampaignStatus.paused

    frozen["now"] = T0 + timedelta(minutes=5)  # same hour: its counts so far become the baseline
    store.set_status(session=session, campaign_id=campaign, status=CampaignStatus.active)
    session.commit()
    assert reputation.window_counts(session=session, scope=str(campaign)) == Counts(since=frozen["now"])
    _event(session, campaign, "bounced")  # the old events would re-pause it at once if they still counted
    assert _status(session, campaign) == CampaignStatus.active
    keys = [f.key for f in diagnostics.run_checks(session=session, resend_configured=True)]
    assert not {f"reputation_paused:{campaign}", f"reputation_warning:{campaign}"} & set(keys)

    frozen["now"] = T0 + timedelta(hours=1)  # new complaints after the Resume count once the volume is there again
    _volume(session, campaign, delivered=300)
    _event(session, campaign, "complained")
    assert _status(session, campaign) == CampaignStatus.paused
    reason = session.get(Campaign, campaign).paused_reason  # type: ignore[union-attr]
    assert "(1 of 301 delivered or bounced) since Resume at 2026-12-02 12:15 UTC" in reason


def test_pausing_by_hand_and_resuming_keeps_the_window(session):
    campaign = _campaign(session, "Digest")
    _volume(session, campaign, delivered=1000, complained=2)
    store.set_status(session=session, campaign_id=campaign, status=CampaignStatus.paused)
    store.set_status(session=session, campaign_id=campaign, status=CampaignStatus.active)
    session.commit()
    _event(session, campaign, "complained")  # the guardrail's window did not restart: 3 of 1000
    assert _status(session, campaign) == CampaignStatus.paused


def test_the_workspace_rate_pauses_all_sending_until_resume(session, frozen):
    campaigns = [_campaign(session, f"C{i}") for i in range(3)]
    for campaign in campaigns:  # 150 each: no campaign reaches the minimum volume, the workspace does
        _volume(session, campaign, delivered=150, bounced=5)
    _event(session, campaigns[0], "bounced")
    _event(session, campaigns[1], "bounced")
    assert _blocked(session) == ""  # 17 of 467: 3.64 %
    _event(session, campaigns[2], "bounced")  # 18 of 468: 3.85 %
    _event(session, None, "bounced")  # a test email's bounce counts for the workspace: 19 of 469 = 4.05 %
    block = _blocked(session)
    assert block.startswith("All sending paused: 4.05 % bounces (19 of 469 delivered or bounced) in the last 24 h")
    assert all(_status(session, c) == CampaignStatus.active for c in campaigns)
    found = {f.key: f for f in diagnostics.run_checks(session=session, resend_configured=True)}
    assert found["reputation_paused:*"].problem == block
    assert "provider_quota" not in found  # not mistaken for Resend's quota

    frozen["now"] = T0 + timedelta(minutes=20)
    workspace.resume_sending(session=session)
    session.commit()
    assert _blocked(session) == ""
    _event(session, campaigns[0], "bounced")  # 1 of 1 since Resume: under the minimum volume
    assert _blocked(session) == ""


def test_warnings_are_findings_and_pause_nothing(session):
    campaign = _campaign(session, "Newsletter")
    _volume(session, campaign, delivered=1000, bounced=25, complained=1)
    _event(session, campaign, "delivered")
    assert _status(session, campaign) == CampaignStatus.active
    found = {f.key: f for f in diagnostics.run_checks(session=session, resend_configured=True)}
    assert found[f"reputation_warning:{campaign}"].problem == (
        "Campaign “Newsletter”: 2.44 % bounces (25 of 1,026 delivered or bounced) in the last 24 h, over 2 %"
        " (the warning line)."
    )
    assert found["reputation_warning:*"].problem.startswith("All campaigns: 2.44 % bounces")
    standing = reputation.standings(session=session)[1].as_dict()
    assert standing | {"counting_since": None} == {
        "scope": str(campaign),
        "campaign_id": campaign,
        "name": "Newsletter",
        "delivered": 1001,
        "bounced": 25,
        "complained": 1,
        "denominator": 1026,
        "complaint_pct": 0.097,
        "bounce_pct": 2.437,
        "counting_since": None,
        "level": "warn",
        "cause": "2.44 % bounces (25 of 1,026 delivered or bounced) in the last 24 h, over 2 %",
        "paused_reason": "",
    }


def test_a_crossing_that_needs_two_concurrent_deliveries_is_not_missed(engine, session):
    """Complaints on two campaigns arrive at once; only together do they cross the workspace's line. Each
    check waits for the other's commit (PostgreSQL: the advisory lock; SQLite: the write turn), so the later
    one sees both and pauses, once."""
    one, two = _campaign(session, "One"), _campaign(session, "Two")
    _volume(session, one, delivered=199)  # neither campaign reaches the minimum volume; together they do
    _volume(session, two, delivered=199)  # one complaint of 398 is 0.25 %, two are 0.5 %
    asked = threading.Event()
    errors: list[BaseException] = []
    with Session(engine) as first:
        _event(first, one, "complained", commit=False)

        def other() -> None:
            try:
                with Session(engine) as second:
                    asked.set()
                    _event(second, two, "complained")
            except BaseException as exc:  # reported to the test below
                errors.append(exc)

        thread = threading.Thread(target=other, name="other transaction")
        thread.start()
        _waits_for_the_holder(engine, asked)
        assert _blocked(first) == ""  # alone, the first one saw 1 of 398
        first.commit()
    thread.join(30)
    assert not errors
    assert _blocked(session).startswith("All sending paused: 0.5 % complaints (2 of 398 delivered or bounced)")
    assert len(session.exec(select(RateWindow).where(RateWindow.scope == WORKSPACE_SCOPE)).all()) == 1


def test_a_campaign_already_paused_is_not_paused_again(session):
    campaign = _campaign(session, "Winback")
    _volume(session, campaign, delivered=700, complained=5)
    _event(session, campaign, "complained")
    first = session.get(Campaign, campaign).paused_reason  # type: ignore[union-attr]
    _event(session, campaign, "complained")
    assert session.get(Campaign, campaign).paused_reason == first  # type: ignore[union-attr]
    assert reputation.paused_by_guardrail(session=session)[str(campaign)] == first


@pytest.mark.parametrize(
    "changes,errors",
    [
        ({"complaint_pause_pct": 0.05}, {"complaint_pause_pct"}),  # under the warning line (0.1)
        ({"bounce_warn_pct": 5}, {"bounce_warn_pct"}),  # over the pause line (4)
        ({"bounce_warn_pct": 0, "complaint_warn_pct": 101}, {"bounce_warn_pct", "complaint_warn_pct"}),
        ({"rate_min_volume": 0, "complaint_pause_pct": "0.3"}, {"rate_min_volume", "complaint_pause_pct"}),
        ({"rate_min_volume": True, "colour": 1}, {"rate_min_volume", "colour"}),
    ],
)
def test_thresholds_are_validated_by_field(session, changes, errors):
    workspace.get_workspace(session=session)
    with pytest.raises(ValidationFailed) as refused:
        reputation.update_thresholds(session=session, changes=changes)
    assert set(refused.value.field_errors) == errors


def test_thresholds_change_together(session):
    workspace.get_workspace(session=session)
    ws = reputation.update_thresholds(
        session=session, changes={"bounce_warn_pct": 5, "bounce_pause_pct": 8, "rate_min_volume": 500}
    )
    assert reputation.thresholds_as_dict(ws) == {
        "rate_min_volume": 500,
        "complaint_warn_pct": 0.1,
        "complaint_pause_pct": 0.3,
        "bounce_warn_pct": 5.0,
        "bounce_pause_pct": 8.0,
    }
