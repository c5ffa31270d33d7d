"""The journey document: node kinds, ids and targets, refusals named as the builder names nodes, loops and
unreachable nodes; linear campaigns unchanged; the time-window module and the pure journey rules."""

from datetime import UTC, datetime, timedelta

import pytest

from humanic_app.services import timewindow
from humanic_app.services.campaigns import library, rules
from humanic_app.services.campaigns.schema import document_as_dict, validate_document
from humanic_app.services.errors import ValidationFailed
from tests.support.campaign_world import linear

T = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)  # a Thursday


def _doc(steps: list) -> dict:
    return {"name": "J", "trigger": {"event": "started"}, "steps": steps}


def _email(id_: str | None = None, **extra) -> dict:
    return {**({"id": id_} if id_ else {}), "subject": "Hi", "html": "<p>hi</p>", **extra}


def _refusal(steps: list) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        validate_document(_doc(steps))
    return caught.value.field_errors


def test_linear_campaigns_load_and_export_unchanged():
    for slug in ("drop-off-recovery", "onboarding-activation", "re-engagement"):
        document = linear(slug)
        exported = document_as_dict(validate_document(document))
        assert [set(step) for step in exported["steps"]] == [{"delay", "subject", "html"}] * len(document["steps"])
        assert rules.schedule(validate_document(document), time=T) == [
            (i, T + timedelta(seconds=int(timedelta(**_unit(s["delay"])).total_seconds())))
            for i, s in enumerate(document["steps"])
        ]


def _unit(delay) -> dict:
    text = str(delay)
    if text == "0":
        return {"seconds": 0}
    return {{"h": "hours", "d": "days"}[text[-1]]: int(text[:-1])}


def test_every_ready_made_journey_round_trips():
    for document in library.templates().values():
        canonical = document_as_dict(validate_document(document))
        assert document_as_dict(validate_document(library.load_text(library.dump(canonical)))) == canonical


def test_refusals_name_the_node_as_the_builder_does():
    errors = _refusal(
        [{"type": "wait_for", "event": "checkout_completed", "timeout": "1d", "on_event": "nowhere"}, _email()]
    )
    assert errors == {
        "steps.0": "Step 1 (wait for checkout_completed) goes on to 'nowhere' (happened), which is no step's id"
    }
    errors = _refusal([_email("a"), _email("a")])
    assert errors == {"steps.1.id": 'Step 2 (email "Hi") has the id \'a\' of Step 1 (email "Hi"); ids are unique'}
    errors = _refusal(
        [
            {"type": "branch", "paths": [{"when": [{"email": "w", "was": "opened"}]}]},
            {"id": "w", "type": "wait", "duration": "1d"},
        ]
    )
    assert errors == {"steps.0": "Step 1 (branch) asks about 'w', which is not an email step"}
    errors = _refusal([{"type": "wait"}, {"type": "teleport"}, _email(delay=True)])
    assert errors["steps.0"] == "a wait needs a 'duration', an 'until' or both"
    assert errors["steps.1"].startswith("a step's type is email (the default), wait, wait_for, branch or exit")
    assert "not true or false" in errors["steps.2.delay"]
    errors = _refusal([{"type": "wait", "until": {"time": "25:00"}}, _email()])
    assert list(errors) == ["steps.0.until.time"]


def test_a_window_that_ends_when_it_starts_is_refused_at_its_end_time():
    errors = _refusal([{"type": "wait", "until": {"between": ["09:00", "09:00"]}}, _email()])
    assert errors == {"steps.0.until.between.1": "the window ends when it starts: pick a different end time"}


def test_loops_and_unreachable_nodes_are_refused():
    loop = _refusal(
        [_email("a"), {"id": "w", "type": "wait_for", "event": "b", "timeout": "1d", "on_timeout": "a"}, _email("c")]
    )
    assert loop == {"steps.1": 'Step 2 (wait for b) leads back to Step 1 (email "Hi"): a journey cannot loop'}
    unreachable = _refusal([_email("a"), {"type": "exit"}, _email("c")])
    assert unreachable == {"steps.2": 'Step 3 (email "Hi") is never reached: no path leads to it'}
    skipped = _refusal([_email("a", next="c"), _email("b"), _email("c")])
    assert skipped == {"steps.1": 'Step 2 (email "Hi") is never reached: no path leads to it'}


def test_time_windows_by_weekday_and_timezone_and_across_dst():
    paris = timewindow.zone("Europe/Paris")
    assert paris is not None and timewindow.zone("Mars/Olympus") is None and timewindow.zone(None) is None
    weekdays = timewindow.Window.of(between=["09:00", "17:00"], days=["mon", "tue", "wed", "thu", "fri"])
    assert timewindow.next_open(weekdays, at=T, tz=paris) == T  # 13:00 in Paris on a Thursday: open
    saturday = T + timedelta(days=2)
    assert timewindow.next_open(weekdays, at=saturday, tz=paris) == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    # Paris moves to summer time on 29 March 2026: 09:00 is 08:00 UTC before and 07:00 UTC after
    nine = timewindow.Window.of(at="09:00")
    assert timewindow.next_open(nine, at=datetime(2026, 3, 28, 12, 0, tzinfo=UTC), tz=paris) == datetime(
        2026, 3, 29, 7, 0, tzinfo=UTC
    )
    night = timewindow.Window.of(between=["22:00", "06:00"])  # crosses midnight
    assert timewindow.next_open(night, at=datetime(2026, 3, 5, 3, 0, tzinfo=UTC), tz=paris) == datetime(
        2026, 3, 5, 3, 0, tzinfo=UTC
    )
    assert timewindow.next_open(night, at=T, tz=paris) == datetime(2026, 3, 5, 21, 0, tzinfo=UTC)


def test_contact_timezone_falls_back_in_order():
    def zone(**kw):
        args = {"variables": {}, "person_properties": {}, "trigger_properties": {}, "workspace_timezone": "UTC", **kw}
        return str(rules.contact_zone(**args))

    assert (
        zone(variables={"timezone": "Asia/Tokyo"}, person_properties={"$geoip_time_zone": "Europe/Paris"})
        == "Asia/Tokyo"
    )
    assert (
        zone(variables={"timezone": "nowhere"}, person_properties={"$geoip_time_zone": "Europe/Paris"})
        == "Europe/Paris"
    )
    assert zone(trigger_properties={"$geoip_time_zone": "America/Lima"}) == "America/Lima"
    assert zone(workspace_timezone="Europe/Berlin") == "Europe/Berlin"


def test_correlation_keys_and_the_wait_for_window():
    doc = validate_document(library.templates()["drop-off-recovery"])
    node = doc.steps[0]
    key = rules.waiting_key(node, contact_id=7, trigger_properties={"cart_id": "c1"})
    assert key in rules.event_keys([["cart_id"]], contact_id=9, properties={"cart_id": "c1"})
    assert key not in rules.event_keys([["cart_id"]], contact_id=7, properties={"cart_id": "c2"})
    catches = lambda at, cart="c1": rules.wait_for_catches(  # noqa: E731
        node,
        reached_at=T,
        trigger_properties={"cart_id": "c1"},
        person_properties={},
        time=at,
        properties={"cart_id": cart},
    )
    assert catches(T) and catches(T + timedelta(hours=24))
    assert not catches(T - timedelta(seconds=1)) and not catches(T + timedelta(hours=24, seconds=1))
    assert not catches(T + timedelta(hours=1), cart="c2")


def test_person_property_filters_of_a_wait_for_and_a_did_are_checked_on_the_waiting_contact():
    """Event properties on the event, person properties on the contact in the journey — whoever sent the
    event (with `match`, another contact or none)."""
    doc = validate_document(
        _doc(
            [
                {
                    "type": "wait_for",
                    "event": "paid",
                    "timeout": "1d",
                    "where": [
                        {"property": "total", "op": "gt", "value": 0},
                        {"person_property": "plan", "op": "eq", "value": "pro"},
                    ],
                },
                {
                    "type": "branch",
                    "paths": [{"when": [{"did": "paid", "where": [{"person_property": "plan", "op": "is_not_set"}]}]}],
                },
                _email(),
            ]
        )
    )
    wait_for, branch = doc.steps[0], doc.steps[1]

    def catches(person: dict, total: int = 5) -> bool:
        return rules.wait_for_catches(
            wait_for,
            reached_at=T,
            trigger_properties={},
            person_properties=person,
            time=T + timedelta(hours=1),
            properties={"total": total},
        )

    assert catches({"plan": "pro"})
    assert not catches({"plan": "free"}) and not catches({})
    assert not catches({"plan": "pro"}, total=0)
    did = branch.paths[0].when[0]
    paid = [rules.Seen(T, 1, 7, {"total": 5})]
    assert rules.did_since(did, paid, person_properties={})
    assert not rules.did_since(did, paid, person_properties={"plan": "pro"})
    assert not rules.did_since(did, [], person_properties={})
