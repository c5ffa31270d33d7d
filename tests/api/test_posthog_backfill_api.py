"""/api/v1/settings/posthog's backfill fields (the personal key never shown back, per-field 422s) and
POST /api/v1/posthog/backfill: a dry run by default, 4xx for every refusal, PostHog's 401 and 429 included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, func, select

from humanic_app.models import Event

SETTINGS = "/api/v1/settings/posthog"
URL = "/api/v1/posthog/backfill"


pytestmark = pytest.mark.usefixtures("operator_secret_in_tmp")


@pytest.fixture
def connected(authed, posthog):
    saved = authed.put(
        SETTINGS,
        json={
            "host": posthog.url,
            "api_key": posthog.api_key,
            "personal_api_key": posthog.personal_api_key,
            "project_id": posthog.project_id,
        },
    )
    assert saved.status_code == 200, saved.text
    return saved


def _fields(response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {".".join(str(p) for p in d["loc"][1:]): d["msg"] for d in response.json()["detail"]}


def _window() -> dict[str, str]:
    now = datetime.now(UTC)
    return {"since": (now - timedelta(hours=2)).isoformat(), "until": now.isoformat()}


def test_the_personal_key_and_project_are_stored_and_the_key_never_shown(connected, authed, posthog):
    body = connected.json()
    assert body["personal_api_key_set"] and body["project_id"] == posthog.project_id
    assert posthog.personal_api_key not in connected.text
    assert posthog.personal_api_key not in authed.get(SETTINGS).text
    kept = authed.put(SETTINGS, json={"personal_api_key": "", "project_id": "77"}).json()
    assert kept["personal_api_key_set"] and kept["project_id"] == "77"


@pytest.mark.parametrize(
    ("body", "field", "phrase"),
    [
        ({"personal_api_key": "phc_abcdefghijklmnop1234"}, "personal_api_key", "project API key"),
        ({"personal_api_key": "nope"}, "personal_api_key", "phx_"),
        ({"project_id": "my-project"}, "project_id", "number"),
        ({"project_id": ""}, "project_id", "number"),
        ({"project_id": "1" * 40}, "project_id", ""),
    ],
)
def test_backfill_settings_refusals_are_422_at_their_field(authed, body, field, phrase):
    fields = _fields(authed.put(SETTINGS, json={"host": "us", "api_key": "phc_abcdefghijklmnop1234", **body}))
    assert field in fields and phrase in fields[field]


def test_a_dry_run_by_default_then_an_import_that_fires_nothing(connected, authed, posthog, engine):
    at = datetime.now(UTC) - timedelta(minutes=30)
    posthog.add_event(
        uuid="0190d5a4-0000-7000-8000-0000000000aa",
        event="user_signed_up",
        distinct_id="u9",
        timestamp=at.isoformat(),
        properties={"email": "zoe@example.com"},
    )
    dry = authed.post(URL, json={"events": ["user_signed_up"], **_window()})
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True and dry.json()["fire_emails"] is False and dry.json()["to_import"] == 1
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Event)).one() == 0
    done = authed.post(URL, json={"events": ["user_signed_up"], "dry_run": False, **_window()}).json()
    assert done["imported"] == 1 and done["emails"].startswith("No active campaign")
    with Session(engine) as session:
        stored = session.exec(select(Event)).one()
    assert stored.event_uuid == "0190d5a4-0000-7000-8000-0000000000aa" and stored.source_id is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": []}, "events"),
        ({"events": ["x" * 201]}, "events.0"),
        ({"events": ["a"], "since": "2026-12-02T10:00:00Z", "until": "2026-12-01T10:00:00Z"}, "until"),
        ({"events": ["a"], "since": "2020-01-01T00:00:00Z", "until": "2026-12-01T10:00:00Z"}, "since"),
        ({"events": ["a"], "since": "0001-01-01T00:00:00+05:00", "until": "9999-12-31T23:59:59-05:00"}, "since"),
        ({"events": ["a"], "fire": True}, "fire"),
    ],
)
def test_backfill_refusals_are_422_at_their_field(connected, authed, body, field):
    assert field in _fields(authed.post(URL, json={**_window(), **body}))


def test_posthog_refusing_the_key_is_a_422_saying_it_lacks_query_scope(connected, authed, posthog):
    posthog.scopes = set()
    fields = _fields(authed.post(URL, json={"events": ["a"], **_window()}))
    assert "Query Read" in fields["personal_api_key"] and "403" in fields["personal_api_key"]


def test_a_long_retry_after_is_a_409_and_nothing_configured_is_a_422(connected, authed, posthog):
    posthog.inject(429, {"Retry-After": "600"})
    limited = authed.post(URL, json={"events": ["a"], **_window()})
    assert limited.status_code == 409 and "600 s" in limited.json()["detail"]
    assert authed.delete(SETTINGS).status_code == 204
    assert "personal_api_key" in _fields(authed.post(URL, json={"events": ["a"], **_window()}))
