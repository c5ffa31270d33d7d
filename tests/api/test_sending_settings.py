"""/api/v1/settings/sending against the fake Resend: connect, test, the registered webhook verifying Resend's
events, remove; the environment winning; PostgreSQL without HUMANIC_SECRET_KEY; never the key in an answer."""

from __future__ import annotations

import pytest
import resend

from humanic_app.settings import get_settings
from tests.support.fake_resend import FakeResend

URL = "/api/v1/settings/sending"
PUBLIC = "https://humanic.acme.io"


@pytest.fixture
def fake(monkeypatch, database_url, tmp_path):
    before = (resend.api_key, resend.api_url)
    with FakeResend() as fake:
        monkeypatch.setenv("DATABASE_URL", database_url)
        monkeypatch.setenv("HUMANIC_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("HUMANIC_SECRET_KEY", "api-test-secret-key")
        monkeypatch.setenv("RESEND_API_URL", fake.url)
        monkeypatch.delenv("RESEND_API_KEY", raising=False)
        monkeypatch.delenv("RESEND_WEBHOOK_SECRET", raising=False)
        get_settings.cache_clear()
        yield fake
    get_settings.cache_clear()
    resend.api_key, resend.api_url = before


def test_connect_test_webhook_and_remove(authed, fake):
    assert authed.get(URL).json()["mode"] == "local_outbox"
    authed.put("/api/v1/settings", json={"public_url": PUBLIC})
    connected = authed.put(URL, json={"api_key": fake.api_key})
    assert connected.status_code == 200, connected.text
    body = connected.json()
    assert body["test"]["outcome"] == "full" and body["webhook_problem"] is None
    assert body["status"]["api_key_source"] == "stored" and body["status"]["key_access"] == "full"
    assert body["status"]["webhook_endpoint"] == PUBLIC + "/api/webhooks/resend" and body["status"]["api_key_set_at"]
    (hook,) = fake.webhooks.values()
    assert fake.api_key not in connected.text and hook["signing_secret"] not in connected.text

    tested = authed.post(URL + "/test")
    assert tested.status_code == 200 and tested.json()["outcome"] == "full"
    assert fake.api_key not in authed.get(URL).text

    # Resend's events now verify with the signing secret Humanic captured.
    payload = {"type": "email.complained", "created_at": "2026-12-02T10:00:00Z", "data": {"to": ["ann@acme.io"]}}
    body_bytes, headers = fake.signed_event(payload)
    assert authed.post("/api/webhooks/resend", content=body_bytes, headers=headers).json() == {"result": "recorded"}
    assert [s["email"] for s in authed.get("/api/v1/suppressions").json()] == ["ann@acme.io"]

    assert authed.delete(URL).status_code == 204
    assert fake.webhooks == {} and authed.get(URL).json()["mode"] == "local_outbox"
    assert authed.post("/api/webhooks/resend", content=body_bytes, headers=headers).status_code == 404
    assert authed.post(URL + "/test").status_code == 422


def test_bad_input_is_422_and_never_shows_the_key(authed, fake):
    for body in (
        {"api_key": "not-a-key"},
        {"apiKey": "re_secret_in_the_wrong_field"},
        {"api_key": "re_secret_abc", "extra": "re_secret_extra"},
        {"api_key": ["re_secret_in_a_list"]},
        {},
        [],
    ):
        answer = authed.put(URL, json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert "re_secret" not in answer.text and "not-a-key" not in answer.text
    assert authed.put(URL, content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 422
    refused = authed.put(URL, json={"api_key": "re_wrong_key_123"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "api_key"]
    assert "refused this key" in refused.json()["detail"][0]["msg"] and "re_wrong_key_123" not in refused.text


def test_sending_only_key_says_what_to_do_for_the_webhook(authed, fake):
    fake.sending_keys.add("re_sending_only_1")
    body = authed.put(URL, json={"api_key": "re_sending_only_1"}).json()
    assert body["test"]["outcome"] == "sending" and body["status"]["key_access"] == "sending"
    assert "RESEND_WEBHOOK_SECRET" in body["webhook_problem"]
    assert authed.post(URL + "/webhook").json()["webhook_problem"] == body["webhook_problem"]


def test_environment_wins_and_offers_no_edit(authed, fake, monkeypatch):
    monkeypatch.setenv("RESEND_API_KEY", fake.api_key)
    get_settings.cache_clear()
    status = authed.get(URL).json()
    assert status["api_key_source"] == "environment" and not status["can_edit"] and status["mode"] == "resend"
    assert any("RESEND_API_KEY is set" in note for note in status["notes"])
    assert authed.put(URL, json={"api_key": fake.api_key}).status_code == 422
    assert authed.delete(URL).status_code == 422
    assert authed.post(URL + "/test").json()["outcome"] == "full"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgres_without_secret_key_says_so(authed, fake, monkeypatch):
    monkeypatch.delenv("HUMANIC_SECRET_KEY")
    get_settings.cache_clear()
    status = authed.get(URL).json()
    assert not status["can_edit"] and any("HUMANIC_SECRET_KEY" in note for note in status["notes"])
    refused = authed.put(URL, json={"api_key": fake.api_key})
    assert refused.status_code == 422 and "HUMANIC_SECRET_KEY" in refused.json()["detail"][0]["msg"]
