"""/api/v1/posthog/cohorts: list PostHog's cohorts, import one (once or kept in sync), change its schedule,
remove it; every refusal a 4xx (PostHog's 403 and 404 included), never a 5xx."""

from __future__ import annotations

import pytest

URL = "/api/v1/posthog/cohorts"

pytestmark = pytest.mark.usefixtures("operator_secret_in_tmp")


@pytest.fixture
def connected(authed, posthog):
    saved = authed.put(
        "/api/v1/settings/posthog",
        json={
            "host": posthog.url,
            "api_key": posthog.api_key,
            "personal_api_key": posthog.personal_api_key,
            "project_id": posthog.project_id,
        },
    )
    assert saved.status_code == 200, saved.text
    posthog.add_cohort(
        7, "Power users", [{"uuid": "p-1", "distinct_ids": ["u1"], "properties": {"email": "ada@example.com"}}]
    )
    return posthog


def test_import_keep_in_sync_stop_and_remove(connected, authed):
    listed = authed.get(URL)
    assert listed.status_code == 200, listed.text
    assert listed.json() == [
        {
            "posthog_id": 7,
            "name": "Power users",
            "count": 1,
            "is_static": False,
            "imported_id": None,
            "keep_in_sync": False,
        }
    ]
    synced = authed.post(f"{URL}/7/sync", json={"keep_in_sync": True})
    assert synced.status_code == 200, synced.text
    body = synced.json()
    assert (body["name"], body["members"], body["keep_in_sync"]) == ("Power users", 1, True)
    assert body["last_result"].startswith("1 person: 1 new, 1 joined") and body["next_sync_at"]
    assert authed.get("/api/v1/contacts", params={"email": "ada@example.com"}).json()
    stopped = authed.put(f"{URL}/7/schedule", json={"keep_in_sync": False})
    assert stopped.status_code == 200 and stopped.json()["next_sync_at"] is None
    assert [c["posthog_id"] for c in authed.get(f"{URL}/imported").json()] == [7]
    assert authed.delete(f"{URL}/7").status_code == 204
    assert authed.get(f"{URL}/imported").json() == []
    assert authed.delete(f"{URL}/7").status_code == 404


def test_refusals_are_4xx(connected, authed):
    assert authed.post(f"{URL}/8/sync", json={}).status_code == 404  # PostHog has no cohort 8
    assert authed.put(f"{URL}/8/schedule", json={"keep_in_sync": True}).status_code == 404  # not imported
    assert authed.post(f"{URL}/7/sync", json={"keep_in_sync": "often"}).status_code == 422
    assert authed.post(f"{URL}/0/sync", json={}).status_code == 422
    assert authed.post(f"{URL}/99999999999/sync", json={}).status_code == 422
    assert authed.post(f"{URL}/7/sync", content=b"{", headers={"Content-Type": "application/json"}).status_code in (
        400,
        422,
    )
    connected.scopes.discard("cohort:read")
    refused = authed.get(URL)
    assert refused.status_code == 422 and "Cohort Read" in refused.text
    assert connected.personal_api_key not in refused.text


def test_without_a_personal_key_the_list_says_what_to_set(authed):
    refused = authed.get(URL)
    assert refused.status_code == 422
    assert {d["loc"][-1] for d in refused.json()["detail"]} >= {"host", "personal_api_key", "project_id"}
