from datetime import timedelta

import pytest
from sqlalchemy import create_engine

from humanic_app.api import build_api
from humanic_app.api.deps import SESSION_COOKIE, get_db_engine
from humanic_app.db import session_scope
from humanic_app.services import auth


def test_v1_refuses_without_credentials(client):
    for path in ("/api/v1/settings", "/api/v1/users", "/api/v1/openapi.json"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert "Bearer" in response.json()["detail"]
    assert client.get("/api/v1/settings", headers={"Authorization": "Bearer hmc_wrong"}).status_code == 401
    assert client.get("/api/v1/settings", headers={"Authorization": "Basic abc"}).status_code == 401


def test_settings_round_trip(authed):
    assert authed.get("/api/v1/settings").json()["status"] == "active"
    response = authed.put(
        "/api/v1/settings",
        json={
            "from_email": "hi@acme.io",
            "from_name": "Acme",
            "physical_address": "1 Main St",
            "status": "paused",
            "public_url": "https://h.acme.io",
            "timezone": "Europe/Paris",
        },
    )
    assert response.status_code == 200, response.text
    assert authed.get("/api/v1/settings").json() == {
        "name": "My workspace",
        "from_name": "Acme",
        "from_email": "hi@acme.io",
        "physical_address": "1 Main St",
        "status": "paused",
        "public_url": "https://h.acme.io",
        "frequency_cap": 3,
        "timezone": "Europe/Paris",
        "retention_days": 90,
        "quiet_hours": None,
        "sending_blocked": "",
    }
    refused = authed.put("/api/v1/settings", json={"timezone": "Mars/Olympus"})
    assert refused.status_code == 422 and "IANA timezone" in refused.text


def test_quiet_hours_default_round_trips_and_is_refused_by_field(authed):
    window = {"between": ["09:00", "19:00"], "days": ["mon", "tue", "wed", "thu", "fri"]}
    response = authed.put("/api/v1/settings", json={"quiet_hours": window})
    assert response.status_code == 200, response.text
    assert authed.get("/api/v1/settings").json()["quiet_hours"] == window
    for bad, field in (
        ({"between": ["09:00", "24:00"]}, "quiet_hours.between.1"),
        ({"between": ["09:00", "19:00"], "days": ["weekdays"]}, "quiet_hours.days"),
        ({"from": "09:00"}, "quiet_hours.between"),
        ("sometimes", "quiet_hours"),
        (["09:00", "19:00"], "quiet_hours"),
    ):
        refused = authed.put("/api/v1/settings", json={"quiet_hours": bad})
        assert refused.status_code == 422, bad
        assert field in [d["loc"][-1] for d in refused.json()["detail"]], refused.text
    assert authed.get("/api/v1/settings").json()["quiet_hours"] == window  # a refusal changes nothing
    assert authed.put("/api/v1/settings", json={"quiet_hours": "off"}).json()["quiet_hours"] is None


def test_settings_validation_is_field_level(authed):
    response = authed.put("/api/v1/settings", json={"from_email": "nope", "public_url": "ftp://x"})
    assert response.status_code == 422
    fields = {tuple(d["loc"]) for d in response.json()["detail"]}
    assert fields == {("body", "from_email"), ("body", "public_url")}
    response = authed.put("/api/v1/settings", json={"status": "sleeping"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "status"
    response = authed.put("/api/v1/settings", json={"colour": "red"})
    assert response.status_code == 422


@pytest.mark.parametrize("days", [0, 3651, "90", 1.5, None, True, -5])
def test_retention_days_out_of_bounds_is_refused_by_name(authed, days):
    response = authed.put("/api/v1/settings", json={"retention_days": days})
    assert response.status_code == 422, response.text
    assert {d["loc"][-1] for d in response.json()["detail"]} == {"retention_days"}
    assert authed.get("/api/v1/settings").json()["retention_days"] == 90


def test_retention_days_is_set(authed):
    response = authed.put("/api/v1/settings", json={"retention_days": 30})
    assert response.status_code == 200 and response.json()["retention_days"] == 30
    assert authed.get("/api/v1/settings").json()["retention_days"] == 30


def test_session_cookie_authenticates_v1(client, engine):
    with session_scope(engine) as session:
        user = auth.create_owner(session=session, email="o@example.com", password="0123456789")
        token = auth.start_session(session=session, user=user, ttl=timedelta(hours=1))
    client.cookies.set(SESSION_COOKIE, token)
    assert client.get("/api/v1/settings").status_code == 200
    with session_scope(engine) as session:
        auth.end_session(session=session, token=token)
    assert client.get("/api/v1/settings").status_code == 401


def test_invite_users(authed):
    response = authed.post("/api/v1/users", json={"email": "new@acme.io", "temporary_password": "temporary-pw"})
    assert response.status_code == 201, response.text
    assert response.json()["must_change_password"] is True
    assert (
        authed.post("/api/v1/users", json={"email": "new@acme.io", "temporary_password": "temporary-pw"}).status_code
        == 409
    )
    assert [u["email"] for u in authed.get("/api/v1/users").json()] == ["new@acme.io"]


def test_openapi_documents_every_route(authed):
    spec = authed.get("/api/v1/openapi.json").json()
    assert {"/api/v1/settings", "/api/v1/users", "/healthz"} <= set(spec["paths"])
    assert set(spec["paths"]["/api/v1/settings"]) == {"get", "put"}


def test_healthz_reports_database(client):
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}


def test_healthz_and_api_answer_503_when_database_is_down():
    api = build_api()
    dead = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/nothing", connect_args={"connect_timeout": 1})
    api.dependency_overrides[get_db_engine] = lambda: dead
    from fastapi.testclient import TestClient

    with TestClient(api) as client:
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["status"] == "unavailable"
        response = client.get("/api/v1/settings", headers={"Authorization": "Bearer hmc_x"})
        assert response.status_code == 503
        assert "unreachable" in response.json()["detail"]
