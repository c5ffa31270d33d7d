"""/api/v1/settings/posthog's pull-only mode fields: turned on with an interval, read back with how the
polls go, refused per field (no query key yet, an interval under 10 s, null)."""

from __future__ import annotations

import pytest

SETTINGS = "/api/v1/settings/posthog"

pytestmark = pytest.mark.usefixtures("operator_secret_in_tmp")


def _fields(response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {".".join(str(p) for p in d["loc"][1:]): d["msg"] for d in response.json()["detail"]}


def test_pull_only_mode_is_turned_on_with_its_interval_and_read_back(authed, posthog):
    assert authed.get(SETTINGS).json()["pull_enabled"] is False
    saved = authed.put(
        SETTINGS,
        json={
            "host": posthog.url,
            "api_key": posthog.api_key,
            "personal_api_key": posthog.personal_api_key,
            "project_id": posthog.project_id,
            "pull_enabled": True,
            "pull_interval_seconds": 60,
        },
    )
    assert saved.status_code == 200, saved.text
    read = authed.get(SETTINGS).json()
    assert (read["pull_enabled"], read["pull_interval_seconds"], read["pull_failures"]) == (True, 60, 0)
    assert read["pull_cursor"] is None and read["pull_last_error"] == ""
    assert authed.put(SETTINGS, json={"pull_enabled": False}).json()["pull_enabled"] is False


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"pull_enabled": True}, {"personal_api_key", "project_id"}),
        ({"pull_interval_seconds": 9}, {"pull_interval_seconds"}),
        ({"pull_interval_seconds": 3601}, {"pull_interval_seconds"}),
        ({"pull_enabled": None}, {"pull_enabled"}),
        ({"pull_interval_seconds": "often"}, {"pull_interval_seconds"}),
    ],
)
def test_pull_settings_refusals_are_422_at_their_field(authed, body, fields):
    refused = _fields(authed.put(SETTINGS, json={"host": "us", "api_key": "phc_abcdefghijklmnop1234", **body}))
    assert fields <= set(refused)


def test_a_team_that_only_queries_needs_no_project_key_and_writes_nothing_back(authed, posthog):
    saved = authed.put(
        SETTINGS,
        json={
            "host": posthog.url,
            "personal_api_key": posthog.personal_api_key,
            "project_id": posthog.project_id,
            "pull_enabled": True,
        },
    )
    assert saved.status_code == 200, saved.text
    assert (saved.json()["pull_enabled"], saved.json()["enabled"], saved.json()["api_key_set"]) == (True, False, False)
    assert authed.put(SETTINGS, json={"pull_enabled": False}).json()["pull_enabled"] is False
