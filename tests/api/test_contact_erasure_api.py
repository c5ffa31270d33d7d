"""DELETE /api/v1/contacts/{id} erases a contact; GET /api/v1/contacts/{id}/export downloads everything held
about it. Unknown ids answer 404, malformed ones 422, never 5xx."""

from __future__ import annotations

import logging

import pytest

from humanic_app.services.samples import posthog_event
from humanic_app.settings import get_settings
from tests.support.webhooks import path_of, process


@pytest.fixture(autouse=True)
def secret(monkeypatch, tmp_path):
    monkeypatch.setenv("HUMANIC_SECRET_KEY", "erasure-api-secret")
    monkeypatch.setenv("HUMANIC_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()


def _ada(client, authed, source, engine) -> int:
    client.post(path_of(source), json=posthog_event(event="user_signed_up", distinct_id="ada-1", email="ada@x.io"))
    process(engine)
    return authed.get("/api/v1/contacts", params={"email": "ada@x.io"}).json()["items"][0]["id"]


def test_export_then_erase_then_the_address_stays_suppressed_as_a_hash(client, authed, source, engine, caplog):
    contact_id = _ada(client, authed, source, engine)
    export = authed.get(f"/api/v1/contacts/{contact_id}/export")
    assert export.status_code == 200
    assert export.headers["content-disposition"] == f'attachment; filename="humanic-contact-{contact_id}.json"'
    body = export.json()
    assert body["contact"]["email"] == "ada@x.io" and body["events"][0]["payload"]["event"]["distinct_id"] == "ada-1"

    with caplog.at_level(logging.INFO, logger="humanic_app.services.erasure"):
        erased = authed.delete(f"/api/v1/contacts/{contact_id}")
    assert erased.status_code == 200, erased.text
    assert erased.json()["events"] == 1 and erased.json()["address_suppressed"] is True
    logged = [r.getMessage() for r in caplog.records if r.name == "humanic_app.services.erasure"]
    assert len(logged) == 1 and f"contact {contact_id} erased by API key #" in logged[0]
    assert "ada" not in logged[0]  # neither the address nor the distinct_id

    assert authed.get(f"/api/v1/contacts/{contact_id}").status_code == 404
    assert authed.get(f"/api/v1/contacts/{contact_id}/export").status_code == 404
    assert authed.delete(f"/api/v1/contacts/{contact_id}").status_code == 404
    assert authed.get("/api/v1/events", params={"contact_id": contact_id}).json()["items"] == []
    listed = authed.get("/api/v1/suppressions").json()
    rows = listed["items"] if isinstance(listed, dict) else listed
    assert [r["reason"] for r in rows] == ["erased"] and "ada" not in rows[0]["email"]


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "1.5", "99999999999999999999999"])
def test_malformed_ids_are_422_and_unknown_ones_404(authed, bad):
    assert authed.delete(f"/api/v1/contacts/{bad}").status_code == 422
    assert authed.get(f"/api/v1/contacts/{bad}/export").status_code == 422
    assert authed.delete("/api/v1/contacts/424242").status_code == 404
    assert authed.get("/api/v1/contacts/424242/export").status_code == 404


def test_erasure_needs_a_key(client):
    assert client.delete("/api/v1/contacts/1").status_code == 401
    assert client.get("/api/v1/contacts/1/export").status_code == 401
