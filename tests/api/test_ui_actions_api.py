"""Routes for what the UI could do and the API could not: source security, rename and delete, the mapping
preview, sample events, campaign previews and templates, API keys and password change."""

import json
import time
import uuid

from humanic_app.db import session_scope
from humanic_app.services import auth, sample_sender, signing
from humanic_app.services.campaigns import library
from humanic_app.services.samples import posthog_event
from tests.support.webhooks import path_of, process


def _signed(secret: str, body: dict) -> tuple[bytes, dict]:
    raw, msg_id, stamp = json.dumps(body).encode(), f"msg_{uuid.uuid4().hex}", int(time.time())
    return raw, {
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": signing.sign(secret=secret, msg_id=msg_id, timestamp=stamp, body=raw),
    }


def test_source_security_signing_and_required_header(client, authed, source):
    url, body = f"/api/v1/sources/{source['id']}/security", posthog_event(event="x", distinct_id="d1")
    on = authed.put(url, json={"signing_enabled": True})
    assert on.status_code == 200 and on.json()["signing_enabled"] and on.json()["signing_secret"].startswith("whsec_")
    secret = on.json()["signing_secret"]
    assert authed.put(url, json={"signing_enabled": True}).json()["signing_secret"] is None  # shown once
    assert client.post(path_of(source), json=body).status_code == 401
    raw, headers = _signed(secret, body)
    assert client.post(path_of(source), content=raw, headers=headers).status_code == 200

    header = authed.put(
        url,
        json={"signing_enabled": False, "required_header_name": "X-Hook-Key", "required_header_value": "s3cret-value"},
    )
    assert header.json()["required_header_name"] == "x-hook-key" and "s3cret-value" not in header.text
    assert client.post(path_of(source), json=body).status_code == 401
    assert client.post(path_of(source), json=body, headers={"X-Hook-Key": "s3cret-value"}).status_code == 200
    kept = authed.put(url, json={"signing_enabled": False, "required_header_name": "x-hook-key"})
    assert kept.status_code == 200
    assert client.post(path_of(source), json=body, headers={"X-Hook-Key": "s3cret-value"}).status_code == 200
    assert authed.put(url, json={"signing_enabled": False, "required_header_name": "X-Other"}).status_code == 422


def test_rename_and_delete_a_source(client, authed, source):
    renamed = authed.patch(f"/api/v1/sources/{source['id']}", json={"name": "Staging"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Staging"
    assert authed.patch(f"/api/v1/sources/{source['id']}", json={"name": " "}).status_code == 422
    assert client.post(path_of(source), json=posthog_event(event="x", distinct_id="d1")).status_code == 200
    assert authed.delete(f"/api/v1/sources/{source['id']}").status_code == 204
    kept = authed.get(f"/api/v1/sources/{source['id']}")  # a soft delete: its history keeps its name
    assert kept.status_code == 200 and kept.json()["status"] == "deleted"
    assert client.post(path_of(source), json=posthog_event(event="x", distinct_id="d1")).status_code == 404
    assert authed.delete(f"/api/v1/sources/{source['id']}").status_code == 422


def test_mapping_preview_tries_an_unsaved_mapping_on_the_latest_event(client, authed, source, engine):
    url = f"/api/v1/sources/{source['id']}/mapping/preview"
    assert authed.post(url).json()["event_id"] is None
    client.post(
        path_of(source),
        json=posthog_event(event="signed_up", distinct_id="d1", properties={"work_email": "ada@acme.io"}),
    )
    process(engine)
    saved = authed.post(url).json()
    assert saved["event_id"] and saved["mapped"]["email"] is None and saved["warnings"]
    tried = authed.post(url, json={"mapping": {"email": ["event.properties.work_email"]}}).json()
    assert tried["mapped"]["email"] == "ada@acme.io" and tried["match"]
    assert authed.get(f"/api/v1/sources/{source['id']}/mapping").json()["mapping"] == {}  # nothing saved


def test_send_sample_posts_signed_samples_with_the_required_header_to_the_source(client, authed, source, monkeypatch):
    class _ThroughTestClient:  # the samples go through the real webhook route, in-process
        def __init__(self, timeout):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def post(self, url, content, headers):
            return client.post("/" + url.split("/", 3)[3], content=content, headers=headers)

    monkeypatch.setattr(sample_sender.httpx, "Client", _ThroughTestClient)
    authed.put(
        f"/api/v1/sources/{source['id']}/security",
        json={"signing_enabled": True, "required_header_name": "X-Hook-Key", "required_header_value": "s3cret-value"},
    )
    sent = authed.post(f"/api/v1/sources/{source['id']}/send-sample")
    assert sent.status_code == 200
    statuses = [s["status"] for s in sent.json()["sent"]]
    assert statuses and set(statuses) == {200}
    assert authed.get("/api/v1/events").json()["items"][0]["source_id"] == source["id"]


def test_campaign_preview_and_templates(client, authed, source, engine):
    templates = authed.get("/api/v1/campaign-templates").json()
    assert templates == library.templates()
    document = templates["feature-adoption"]  # a campaign whose step 0 is an email
    campaign = authed.post("/api/v1/campaigns", json=document).json()
    preview = authed.post(f"/api/v1/campaigns/{campaign['id']}/preview", json={"step": 0})
    assert preview.status_code == 200 and preview.json()["subject"] and preview.json()["event_id"] is None
    client.post(
        path_of(source),
        json=posthog_event(event=document["trigger"]["event"], distinct_id="d1", email="ada@acme.io", name="Ada"),
    )
    process(engine)
    event_id = authed.get("/api/v1/events").json()["items"][0]["id"]
    on_event = authed.post(f"/api/v1/campaigns/{campaign['id']}/preview", json={"step": 0, "event_id": event_id})
    assert on_event.json()["event_id"] == event_id


def test_api_keys_create_list_revoke(client, authed):
    created = authed.post("/api/v1/api-keys", json={"name": "terraform"})
    assert created.status_code == 201 and created.json()["key"].startswith(auth.API_KEY_PREFIX)
    key = created.json()["key"]
    listed = authed.get("/api/v1/api-keys")
    assert key not in listed.text and "terraform" in [k["name"] for k in listed.json()]
    other = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/settings", headers=other).status_code == 200
    assert authed.delete(f"/api/v1/api-keys/{created.json()['id']}").status_code == 204
    assert client.get("/api/v1/settings", headers=other).status_code == 401


def test_password_change_for_a_signed_in_user_not_an_api_key(client, authed, engine):
    with session_scope(engine) as session:
        user = auth.create_owner(session=session, email="owner@acme.io", password="old password 1")
        token = auth.start_session(session=session, user=user, ttl=__import__("datetime").timedelta(hours=1))
    body = {"current_password": "old password 1", "new_password": "new password 2"}
    assert authed.post("/api/v1/me/password", json=body).status_code == 403
    client.headers.pop("Authorization")
    client.cookies.set("humanic_session", token)
    with session_scope(engine) as session:
        elsewhere = auth.start_session(session=session, user=user, ttl=__import__("datetime").timedelta(hours=1))
    wrong = client.post("/api/v1/me/password", json={**body, "current_password": "nope"})
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"] == ["body", "current_password"]
    assert client.post("/api/v1/me/password", json=body).status_code == 204
    with session_scope(engine) as session:
        assert auth.authenticate(session=session, email="owner@acme.io", password="new password 2").id == user.id
        assert auth.principal_for_session(session=session, token=token) is not None  # the caller stays in
        assert auth.principal_for_session(session=session, token=elsewhere) is None  # every other device is out


def test_password_guesses_through_the_api_meet_growing_delays(client, engine):
    with session_scope(engine) as session:
        user = auth.create_owner(session=session, email="owner@acme.io", password="old password 1")
        token = auth.start_session(session=session, user=user, ttl=__import__("datetime").timedelta(hours=1))
    client.headers.pop("Authorization", None)
    client.cookies.set("humanic_session", token)
    guess = {"current_password": "guess 0000", "new_password": "new password 2"}
    answers = [client.post("/api/v1/me/password", json=guess).status_code for _ in range(6)]
    assert answers == [422] * 5 + [429]
    held = client.post("/api/v1/me/password", json={**guess, "current_password": "old password 1"})
    assert held.status_code == 429 and int(held.headers["retry-after"]) >= 1
    assert "Too many attempts" in held.json()["detail"]
