"""/api/v1/settings/posthog (per-field 422s, the key never shown back) and loop safety at the webhook:
an event Humanic wrote to PostHog that comes back is dropped, triggers nothing, and raises a finding."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from humanic_app.models import Enrolment, Event, EventOutcome
from humanic_app.services import diagnostics
from humanic_app.services.samples import posthog_event
from humanic_app.settings import get_settings
from tests.support.webhooks import path_of, process

URL = "/api/v1/settings/posthog"
KEY = "phc_abcdefghijklmnop1234"


pytestmark = pytest.mark.usefixtures("operator_secret_in_tmp")


def test_off_until_a_host_and_key_are_set_then_the_key_is_never_shown(authed):
    status = authed.get(URL).json()
    assert status["enabled"] is False and status["host"] == "" and status["api_key_set"] is False
    assert status["events"]["email_sent"] == "humanic email sent"

    saved = authed.put(URL, json={"host": "eu", "api_key": KEY})
    assert saved.status_code == 200, saved.text
    assert KEY not in saved.text
    body = saved.json()
    assert body["enabled"] and body["host"] == "https://eu.i.posthog.com" and body["region"] == "eu"
    assert body["api_key_set"] and len(body["kinds"]) == 11
    assert KEY not in authed.get(URL).text

    # the kinds alone: the stored key and host stay
    kinds = authed.put(URL, json={"kinds": ["email_sent", "email_clicked"]}).json()
    assert kinds["kinds"] == ["email_sent", "email_clicked"] and kinds["api_key_set"] and kinds["region"] == "eu"
    custom = authed.put(URL, json={"host": "https://posthog.example.com/", "api_key": ""}).json()
    assert custom["host"] == "https://posthog.example.com" and custom["region"] == "custom" and custom["api_key_set"]

    assert authed.delete(URL).status_code == 204
    assert authed.get(URL).json()["enabled"] is False


def _fields(response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {".".join(str(p) for p in d["loc"][1:]): d["msg"] for d in response.json()["detail"]}


@pytest.mark.parametrize(
    ("body", "field", "phrase"),
    [
        ({"host": "us"}, "api_key", "project API key"),
        ({"api_key": KEY}, "host", "Choose where"),
        ({"host": "ftp://x", "api_key": KEY}, "host", "self-hosted"),
        ({"host": "https://us.posthog.com", "api_key": KEY}, "host", "https://us.i.posthog.com"),
        ({"host": "us", "api_key": "phx_personalkey1234567"}, "api_key", "personal API key"),
        ({"host": "us", "api_key": "nope"}, "api_key", "phc_"),
        ({"host": "us", "api_key": KEY, "kinds": ["email_sent", "pizza"]}, "kinds", "pizza"),
        ({"host": "us", "api_key": KEY, "kinds": None}, "kinds", ""),
        ({"host": "us", "api_key": KEY, "extra": 1}, "extra", ""),
        ({"host": "x" * 600, "api_key": KEY}, "host", ""),
    ],
)
def test_refusals_are_422_at_their_field_and_never_repeat_the_key(authed, body, field, phrase):
    fields = _fields(authed.put(URL, json=body))
    assert field in fields and phrase in fields[field]
    assert "phx_personalkey1234567" not in str(fields)


def test_two_refusals_at_once(authed):
    fields = _fields(authed.put(URL, json={"host": "gopher://x", "api_key": "bad"}))
    assert set(fields) == {"host", "api_key"}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgres_without_secret_key_says_so(authed, monkeypatch):
    monkeypatch.delenv("HUMANIC_SECRET_KEY")
    get_settings.cache_clear()
    status = authed.get(URL).json()
    assert not status["can_edit"] and any("HUMANIC_SECRET_KEY" in note for note in status["notes"])
    assert "HUMANIC_SECRET_KEY" in _fields(authed.put(URL, json={"host": "us", "api_key": KEY}))["api_key"]


def test_an_event_humanic_wrote_back_is_dropped_at_the_webhook_and_raises_a_finding(client, authed, source, engine):
    """A rejected delivery is never processed: no contact, no campaign rule ever sees it."""
    body = posthog_event(
        event="humanic email opened",
        distinct_id="u1",
        email="ada@example.com",
        properties={"humanic_writeback": True, "$lib": "humanic"},
    )
    answer = client.post(path_of(source), json=body)
    assert answer.status_code == 202 and "filter should exclude" in answer.json()["error"]
    ordinary = client.post(path_of(source), json=posthog_event(event="signed_up", distinct_id="u1", email="a@b.co"))
    assert ordinary.status_code == 200
    process(engine)
    with Session(engine) as s:
        rows = list(s.exec(select(Event).order_by(Event.id)))
        assert [r.outcome for r in rows] == [EventOutcome.rejected, EventOutcome.processed]
        assert rows[0].contact_id is None and s.exec(select(Enrolment)).first() is None
        findings = {f.key: f for f in diagnostics.run_checks(session=s, resend_configured=False)}
    assert "1 event Humanic wrote to PostHog came back" in findings["posthog_loop"].problem
    assert "humanic_writeback" in findings["posthog_loop"].fix
    assert "rejected" not in findings  # the loop has its own finding, not the generic one


def test_marked_events_in_a_mixed_request_are_dropped_and_raise_the_finding_too(client, authed, source, engine):
    """PostHog batches: one request may carry Humanic's own events beside ordinary ones. The ordinary one is
    processed; each marked one is a rejected row the finding counts."""
    mark = {"humanic_writeback": True, "$lib": "humanic"}
    body = [
        posthog_event(event="humanic email opened", distinct_id="u1", email="ada@example.com", properties=mark),
        posthog_event(event="signed_up", distinct_id="u1", email="ada@example.com"),
        posthog_event(event="humanic email clicked", distinct_id="u1", email="ada@example.com", properties=mark),
    ]
    answer = client.post(path_of(source), json=body)
    assert answer.status_code == 200
    process(engine)
    with Session(engine) as s:
        rows = list(s.exec(select(Event).order_by(Event.id)))
        by_name = {r.event_name: r.outcome for r in rows}
        assert by_name == {
            "humanic email opened": EventOutcome.rejected,
            "humanic email clicked": EventOutcome.rejected,
            "signed_up": EventOutcome.processed,
        }
        findings = {f.key: f for f in diagnostics.run_checks(session=s, resend_configured=False)}
    assert "2 events Humanic wrote to PostHog came back" in findings["posthog_loop"].problem
    assert "rejected" not in findings
