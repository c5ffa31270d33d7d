"""The API is handed its work when the app is built: the webhook stores through the intake writer it was
given, and a test send wakes the dispatcher through the wake-up it was given."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from humanic_app.api import build_api
from humanic_app.api.deps import get_db_engine
from humanic_app.services.intake.writer import IntakeWriter
from humanic_app.services.samples import posthog_event
from tests.support.campaign_world import linear


def test_a_test_send_wakes_the_dispatcher_it_was_given(engine, api_key):
    woken: list[str] = []
    api = build_api(wake_dispatcher=lambda: woken.append("dispatcher"))
    api.dependency_overrides[get_db_engine] = lambda: engine
    with TestClient(api, headers={"Authorization": f"Bearer {api_key}"}) as client:
        campaign = client.post("/api/v1/campaigns", json=linear("drop-off-recovery")).json()
        sent = client.post(f"/api/v1/campaigns/{campaign['id']}/test-send", json={"to": "ada@example.com"})
    assert sent.status_code == 200 and sent.json()["is_test"] is True
    assert woken == ["dispatcher"]


def test_the_webhook_stores_through_the_writer_it_was_given_and_wakes_processing(engine, api_key):
    from humanic_app import db

    woken: list[str] = []
    intake = IntakeWriter(wake_processing=lambda: woken.append("processing"))
    api = build_api(intake=intake)
    api.dependency_overrides[get_db_engine] = lambda: engine
    db.use_engine(engine)
    try:
        with TestClient(api, headers={"Authorization": f"Bearer {api_key}"}) as client:
            source = client.post("/api/v1/sources", json={"name": "Production"}).json()
            path = "/api/webhooks/posthog/" + source["webhook_url"].rsplit("/", 1)[1]
            body = json.dumps(posthog_event(event="user_signed_up", distinct_id="u1", email="u1@example.com"))
            answer = client.post(path, content=body)
    finally:
        db.use_engine(None)
    assert answer.status_code == 200 and answer.json() == {"accepted": 1, "duplicates": 0}
    assert woken == ["processing"]
