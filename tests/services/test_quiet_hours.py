"""Quiet hours, with a moved clock, through real intake, processing and the dispatcher on SQLite and
PostgreSQL: an email due outside the window waits (still scheduled, saying for what) for the window's next
opening in the contact's timezone, across DST changes in Berlin and New York; it goes once; the campaign's
own window, `inherit` (the workspace's default) and `off`; test sends ignore them; the dry run and Preview
say the same as the dispatcher does."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from humanic_app.models import Campaign, Event, Message, MessageStatus
from humanic_app.services import workspace
from humanic_app.services.campaigns.dry_run import dry_run
from humanic_app.services.campaigns.preview import preview_step, queue_test_send
from humanic_app.services.delivery.senders import LocalOutboxSender
from humanic_app.services.errors import ValidationFailed
from tests.support.dispatching import dispatch
from tests.support.journey_world import JourneyWorld

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
BERLIN = {"$set": {"$geoip_time_zone": "Europe/Berlin"}}
NEW_YORK = {"$set": {"$geoip_time_zone": "America/New_York"}}


@pytest.fixture
def j(session, monkeypatch):
    return JourneyWorld(session, monkeypatch)


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _doc(quiet_hours=None, delay="0") -> dict:
    document = {
        "name": "Quiet",
        "trigger": {"event": "started"},
        "reentry": "every_time",
        "steps": [{"delay": delay, "subject": "Hi {{ name }}", "html": "<p>hi</p>"}],
    }
    if quiet_hours is not None:
        document["quiet_hours"] = quiet_hours
    return document


def _rows(j) -> dict[str, Message]:
    j.session.expire_all()
    rows = {m.to_email: m for m in j.session.exec(select(Message).where(Message.is_test == False))}  # noqa: E712
    j.session.commit()
    return rows


def _pass(j, engine, moment: datetime):
    """Time passes to `moment` and the dispatcher runs once then."""
    j.at(moment)
    return dispatch(j.session, engine, LocalOutboxSender())


def test_berlin_spring_forward_opens_at_nine_local_which_is_seven_utc(j, engine):
    """29 March 2026: Berlin goes from UTC+1 to UTC+2 at 02:00. An email due Saturday evening goes
    Sunday 09:00 CEST (07:00 UTC), not 08:00 UTC as Saturday's offset would say."""
    j.campaign(_doc({"between": ["09:00", "19:00"]}))
    j.send("started", _utc(2026, 3, 28, 20, 0), user="b", email="berlin@example.com", **BERLIN)
    assert _pass(j, engine, _utc(2026, 3, 28, 20, 0)).held == 1
    row = _rows(j)["berlin@example.com"]
    assert row.status == MessageStatus.scheduled and row.due_at == _utc(2026, 3, 29, 7, 0)
    assert row.last_error == "waits for 09:00 Europe/Berlin (quiet hours, Sun 29 Mar)"
    assert _pass(j, engine, _utc(2026, 3, 29, 6, 59)).sent == 0
    assert _pass(j, engine, _utc(2026, 3, 29, 7, 0)).sent == 1
    assert _pass(j, engine, _utc(2026, 3, 29, 12, 0)).sent == 0  # never twice
    assert _rows(j)["berlin@example.com"].sent_at == _utc(2026, 3, 29, 7, 0)


def test_berlin_fall_back_and_new_york_weekdays_each_in_their_own_timezone(j, engine):
    """25 October 2026: Berlin goes back to UTC+1, so Sunday 09:00 is 08:00 UTC. New York is still on EDT
    until 1 November: its Monday 09:00 is 13:00 UTC. A workspace default (inherited) decides both."""
    workspace.update_workspace(
        session=j.session, changes={"quiet_hours": {"between": ["09:00", "19:00"], "days": ["sun", *WEEKDAYS]}}
    )
    j.campaign(_doc())  # no quiet_hours of its own: inherits the workspace's
    saturday = _utc(2026, 10, 24, 21, 0)  # 23:00 in Berlin, 17:00 Saturday in New York
    j.send("started", saturday, user="b", email="berlin@example.com", **BERLIN)
    j.send("started", saturday, user="n", email="ny@example.com", **NEW_YORK)
    assert _pass(j, engine, saturday).held == 2
    rows = _rows(j)
    assert rows["berlin@example.com"].due_at == _utc(2026, 10, 25, 8, 0)
    assert rows["ny@example.com"].due_at == _utc(2026, 10, 25, 13, 0)  # Sunday 09:00 EDT
    assert rows["ny@example.com"].last_error == "waits for 09:00 America/New_York (quiet hours, Sun 25 Oct)"
    assert _pass(j, engine, _utc(2026, 10, 25, 8, 0)).sent == 1
    assert _pass(j, engine, _utc(2026, 10, 25, 13, 0)).sent == 1
    assert {to: m.status for to, m in _rows(j).items()} == {
        "berlin@example.com": MessageStatus.sent,
        "ny@example.com": MessageStatus.sent,
    }


def test_new_york_spring_forward_over_a_weekend_and_a_window_across_midnight(j, engine):
    """8 March 2026: New York goes from EST (UTC-5) to EDT (UTC-4). An email due Saturday waits for Monday
    09:00 EDT, 13:00 UTC. A 22:00–06:00 window crosses midnight."""
    j.campaign(_doc({"between": ["09:00", "19:00"], "days": WEEKDAYS}))
    j.send("started", _utc(2026, 3, 7, 15, 0), user="n", email="ny@example.com", **NEW_YORK)
    _pass(j, engine, _utc(2026, 3, 7, 15, 0))
    assert _rows(j)["ny@example.com"].due_at == _utc(2026, 3, 9, 13, 0)
    night = _doc({"between": ["22:00", "06:00"]})
    night["trigger"]["event"] = "night"
    j.campaign(night)
    j.send("night", _utc(2026, 3, 9, 12, 0), user="o", email="owl@example.com", **NEW_YORK)  # 08:00 EDT
    _pass(j, engine, _utc(2026, 3, 9, 12, 0))
    assert _rows(j)["owl@example.com"].due_at == _utc(2026, 3, 10, 2, 0)  # 22:00 EDT
    assert _pass(j, engine, _utc(2026, 3, 10, 2, 0)).sent == 1


def test_inside_the_window_goes_at_once_and_off_overrides_the_workspace_default(j, engine):
    workspace.update_workspace(session=j.session, changes={"quiet_hours": {"between": ["09:00", "10:00"]}})
    j.campaign(_doc("off"))
    j.send("started", _utc(2026, 3, 28, 20, 0), user="b", email="berlin@example.com", **BERLIN)
    assert _pass(j, engine, _utc(2026, 3, 28, 20, 0)).sent == 1
    j.campaign(_doc({"between": ["20:00", "23:00"]}))  # 21:00 in Berlin: inside
    j.send("started", _utc(2026, 3, 28, 20, 5), user="c", email="c@example.com", **BERLIN)
    report = _pass(j, engine, _utc(2026, 3, 28, 20, 5))
    assert report.sent == 2 and report.held == 0  # both campaigns' emails to c: one off, one inside its window


def test_the_delay_comes_first_then_quiet_hours(j, engine):
    """Applied at send time, after delays: due 2 hours after Friday 17:30 Berlin is 19:30, outside."""
    j.campaign(_doc({"between": ["09:00", "19:00"], "days": WEEKDAYS}, delay="2h"))
    j.send("started", _utc(2026, 3, 27, 16, 30), user="b", email="berlin@example.com", **BERLIN)
    written = _rows(j)["berlin@example.com"]
    assert written.due_at == _utc(2026, 3, 27, 18, 30)  # written with its delay only
    # ... and saying from the start, before it falls due, that quiet hours will hold it
    assert written.last_error == "waits for 09:00 Europe/Berlin (quiet hours, Mon 30 Mar)"
    assert _pass(j, engine, _utc(2026, 3, 27, 18, 30)).held == 1
    held = _rows(j)["berlin@example.com"]
    assert held.due_at == _utc(2026, 3, 30, 7, 0)  # Monday 09:00 CEST
    assert held.last_error == "waits for 09:00 Europe/Berlin (quiet hours, Mon 30 Mar)"


def test_a_row_due_inside_the_window_says_nothing_and_the_setting_at_send_time_decides(j, engine):
    """The note written at scheduling is a forecast: turned off before the row falls due, quiet hours no
    longer hold it."""
    j.campaign(_doc({"between": ["09:00", "19:00"], "days": WEEKDAYS}, delay="1h"))
    j.send("started", _utc(2026, 3, 27, 8, 0), user="i", email="inside@example.com", **BERLIN)  # due 10:00 local
    j.send("started", _utc(2026, 3, 27, 17, 30), user="o", email="outside@example.com", **BERLIN)  # due 19:30
    rows = _rows(j)
    assert rows["inside@example.com"].last_error == ""
    assert rows["outside@example.com"].last_error.startswith("waits for 09:00 Europe/Berlin")
    campaign = j.session.exec(select(Campaign)).one()
    campaign.definition = {**campaign.definition, "quiet_hours": "off"}
    j.session.add(campaign)
    j.session.commit()
    report = _pass(j, engine, _utc(2026, 3, 27, 18, 30))
    assert report.sent == 2 and report.held == 0
    assert all(m.status == MessageStatus.sent and m.last_error == "" for m in _rows(j).values())


def test_test_sends_ignore_quiet_hours(j, engine):
    document = _doc({"between": ["09:00", "10:00"]})
    campaign = j.campaign(document)
    j.at(_utc(2026, 3, 28, 23, 0))
    queue_test_send(
        session=j.session, document=document, step_index=0, to="me@acme.io", variables={}, campaign_id=campaign.id
    )
    assert _pass(j, engine, _utc(2026, 3, 28, 23, 0)).sent == 1


def test_the_dry_run_and_preview_say_what_the_dispatcher_does(j, engine):
    document = _doc({"between": ["09:00", "19:00"], "days": WEEKDAYS}, delay="1h")
    j.campaign(document)
    events = [
        (_utc(2026, 3, 27, 8, 0), "early@example.com", BERLIN),  # 10:00 Berlin: inside
        (_utc(2026, 3, 27, 17, 30), "late@example.com", BERLIN),  # due 19:30 Friday → Monday 09:00 CEST
        (_utc(2026, 3, 7, 23, 0), "ny@example.com", NEW_YORK),  # Saturday: → Monday 9 March 09:00 EDT
    ]
    pending = sorted(events, key=lambda e: e[0])
    while True:  # event by event, the dispatcher running whenever something falls due, as the worker would
        due = [m.due_at for m in _rows(j).values() if m.status == MessageStatus.scheduled]
        if pending and (not due or pending[0][0] <= min(due)):
            at, to, zone = pending.pop(0)
            j.send("started", at, user=to, email=to, **zone)
        elif due:
            _pass(j, engine, min(due))
        else:
            break
    sent = {to: m.sent_at for to, m in _rows(j).items()}
    assert sent == {
        "early@example.com": _utc(2026, 3, 27, 9, 0),
        "late@example.com": _utc(2026, 3, 30, 7, 0),
        "ny@example.com": _utc(2026, 3, 9, 13, 0),
    }
    predicted = dry_run(session=j.session, document=document, days=60)
    assert {e["to"]: datetime.fromisoformat(e["sends_at"]) for e in predicted["sample"]} == sent
    assert predicted["held_by_quiet_hours"] == 2

    j.now = _utc(2026, 3, 27, 17, 30)  # Preview, as if the late event happened now
    late = j.session.exec(select(Event).where(Event.event_name == "started").order_by(Event.timestamp)).all()[-1]
    said = preview_step(session=j.session, document=document, step_index=0, event=late)["sends"]
    assert said.endswith("waits for 09:00 Europe/Berlin (quiet hours, Mon 30 Mar).")


@pytest.mark.parametrize(
    ("quiet_hours", "field"),
    [
        ({"between": ["9:00", "19:00"]}, "quiet_hours.between.0"),
        ({"between": ["09:00", "09:00"]}, "quiet_hours.between"),
        ({"between": ["09:00"]}, "quiet_hours.between"),
        ({"between": ["09:00", "19:00"], "days": ["mon", "monday"]}, "quiet_hours.days"),
        ({"between": ["09:00", "19:00"], "at": "x"}, "quiet_hours.at"),
        ("sometimes", "quiet_hours"),
    ],
)
def test_a_bad_workspace_default_is_refused_by_field(session, quiet_hours, field):
    with pytest.raises(ValidationFailed) as refused:
        workspace.update_workspace(session=session, changes={"quiet_hours": quiet_hours})
    assert list(refused.value.field_errors) == [field]


def test_the_workspace_default_is_stored_and_turned_off(session):
    ws = workspace.update_workspace(session=session, changes={"quiet_hours": {"between": ["08:00", "20:00"]}})
    assert ws.quiet_hours == {"between": ["08:00", "20:00"], "days": []}
    assert workspace.update_workspace(session=session, changes={"quiet_hours": "off"}).quiet_hours is None


def test_a_narrow_window_opens_at_nine_local_on_both_sides_of_the_october_change(j, engine):
    """09:00–09:30 in Berlin: Saturday 24 October it is 07:00 UTC (CEST), Sunday and Monday 08:00 UTC (CET)."""
    j.campaign(_doc({"between": ["09:00", "09:30"]}))
    j.send("started", _utc(2026, 10, 23, 10, 0), user="fri", email="fri@example.com", **BERLIN)
    _pass(j, engine, _utc(2026, 10, 23, 10, 0))
    assert _rows(j)["fri@example.com"].due_at == _utc(2026, 10, 24, 7, 0)
    j.send("started", _utc(2026, 10, 24, 10, 0), user="sat", email="sat@example.com", **BERLIN)
    _pass(j, engine, _utc(2026, 10, 24, 10, 0))  # Friday's email is late now (12:00 local): tomorrow
    rows = _rows(j)
    assert rows["sat@example.com"].due_at == rows["fri@example.com"].due_at == _utc(2026, 10, 25, 8, 0)
    assert _pass(j, engine, _utc(2026, 10, 25, 8, 0)).sent == 2
