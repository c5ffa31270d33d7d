"""The PostHog webhook: every shape, every error, dedupe, signing — and nothing lost or doubled."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from starlette.responses import PlainTextResponse

from humanic_app.api import webhooks
from humanic_app.models import Contact, Event, EventOutcome
from humanic_app.services import signing
from humanic_app.services.samples import posthog_event
from tests.support.webhooks import path_of, process


def events_in(engine) -> list[Event]:
    with Session(engine) as s:
        return list(s.exec(select(Event).order_by(Event.id)))


def test_default_body_is_stored_then_processed_into_a_contact(client, source, engine, authed):
    body = posthog_event(
        event="user_signed_up",
        distinct_id="user_8412",
        email="Ada@Example.com",
        name="Ada Lovelace",
        properties={"plan": "free"},
    )
    response = client.post(path_of(source), content=json.dumps(body), headers={"Content-Type": "text/plain"})
    assert response.status_code == 200 and response.json() == {"accepted": 1, "duplicates": 0}
    [stored] = events_in(engine)
    assert stored.outcome == EventOutcome.pending and stored.event_name == "user_signed_up"
    assert authed.get(f"/api/v1/sources/{source['id']}").json()["status"] == "test_event_received"

    assert process(engine) == 1
    [stored] = events_in(engine)
    assert stored.outcome == EventOutcome.processed
    assert stored.mapped["email"] == "ada@example.com" and stored.mapped["variables"]["plan"] == "free"
    contact = authed.get(f"/api/v1/contacts/{stored.contact_id}").json()
    assert contact["email"] == "ada@example.com" and contact["name"] == "Ada Lovelace"
    assert contact["distinct_ids"] == ["user_8412"]


def test_array_rest_hook_and_legacy_text(client, source, engine):
    rest_hook = {
        "hook": {"id": "h1", "event": "action_performed", "target": "x"},
        "data": {
            "eventUuid": "rest-1",
            "event": "checkout_started",
            "distinctId": "u9",
            "properties": {"cart_value": 80, "email": "bo@example.com"},
            "timestamp": "2025-04-10T14:09:02.007Z",
            "teamId": 2,
            "groups": {"company": "acme"},
            "elementsList": [{"tag_name": "button"}],
            "person": {"uuid": "p9", "properties": {}, "created_at": "2025-01-01T00:00:00Z"},
        },
    }
    default = posthog_event(event="feature_first_used", distinct_id="u10", email="cy@example.com")
    response = client.post(path_of(source), json=[rest_hook, default, {"text": "[Signup] was triggered by Ada"}])
    assert response.status_code == 200 and response.json()["accepted"] == 3
    process(engine)
    rows = events_in(engine)
    assert [r.event_name for r in rows] == ["checkout_started", "feature_first_used", None]
    assert rows[0].outcome == EventOutcome.processed and rows[0].mapped["email"] == "bo@example.com"
    kept = rows[0].payload  # nothing PostHog sent is dropped: the Event Log shows it and a mapping can use it
    assert kept["event"]["uuid"] == "rest-1" and kept["event"]["distinct_id"] == "u9"
    assert kept["event"]["groups"] == {"company": "acme"} and kept["event"]["teamId"] == 2
    assert kept["event"]["elementsList"] == [{"tag_name": "button"}]
    assert kept["person"] == {"id": "p9", "properties": {}, "created_at": "2025-01-01T00:00:00Z"}
    assert rows[2].outcome == EventOutcome.skipped and "legacy notification" in rows[2].reason


@pytest.mark.parametrize(
    "body,status,phrase",
    [
        (b"", 400, "empty"),
        (b"{not json", 400, "not valid JSON"),
        (b"42", 422, "Expected a JSON object"),
        (b"[]", 422, "array is empty"),
        (json.dumps({"event": {"uuid": "x", "properties": {}}}).encode(), 422, "No event name"),
        (json.dumps([{"event": {"event": "ok"}}, "nope"]).encode(), 422, "[1]"),
        (b'{"event": {"event": "x", "properties": {"ratio": NaN}}}', 400, "NaN is not a JSON value"),
        (b'{"event": {"event": "x", "properties": {"big": 1e400}}}', 400, "too large a number"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "nests more than 100 levels"),
        (b'{"event": {"event": "x", "p": ' + b"[" * 150 + b"]" * 150 + b"}}", 400, "nests more than 100 levels"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_logged(client, source, engine, body, status, phrase):
    response = client.post(path_of(source), content=body)
    assert response.status_code == status
    assert phrase in response.json()["error"]
    [logged] = events_in(engine)
    assert logged.outcome == EventOutcome.rejected and logged.reason.startswith(str(status))


def test_odd_values_cost_neither_the_event_nor_the_requests_committed_with_it(client, source, engine, authed):
    """Timestamps no datetime holds, NUL characters (PostgreSQL refuses them) and unpaired surrogates
    (UTF-8 refuses them), sent concurrently with good events: every request is answered 200 and stored."""
    odd_bodies = [
        {"event": {"event": "odd_time", "uuid": "t1", "distinct_id": "t1", "timestamp": 1e20}},
        {"event": {"event": "odd_time", "uuid": "t2", "distinct_id": "t2", "timestamp": "9999-12-31T23:59:59-01:00"}},
        {"event": {"event": "odd_time", "uuid": "t3", "distinct_id": "t3", "timestamp": -1e15}},
    ]
    odd_raw = [json.dumps(body) for body in odd_bodies] + [
        '{"event": {"event": "nul\\u0000name", "uuid": "n1", "distinct_id": "n\\u0000", '
        '"properties": {"k\\u0000": "v\\u0000", "lone": "\\ud800", "pair": "\\ud83d\\ude00"}}}'
    ]
    good = [json.dumps(posthog_event(event="fine", distinct_id=f"g{i}", email=f"g{i}@example.com")) for i in range(12)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda raw: client.post(path_of(source), content=raw), odd_raw + good))
    assert [a.status_code for a in answers] == [200] * len(answers)
    stored = {e.event_uuid or e.distinct_id: e for e in events_in(engine)}
    assert len(stored) == len(answers)
    nul = stored["n1"]
    assert nul.event_name == "nul\ufffdname" and nul.distinct_id == "n\ufffd"
    assert nul.payload["event"]["properties"] == {"k\ufffd": "v\ufffd", "lone": "?", "pair": "\U0001f600"}
    assert all(e.timestamp is None for e in stored.values() if e.event_name == "odd_time")
    process(engine)
    assert {e.outcome for e in events_in(engine)} <= {EventOutcome.processed, EventOutcome.skipped}


def test_every_method_posthog_offers_is_answered_and_logged(client, source, engine):
    """The destination's method may be changed from POST: methods with a body work the same, GET (sent
    without one) is a 405 saying what to change; each is in the Event Log."""
    for i, method in enumerate(("PUT", "PATCH", "DELETE")):
        body = posthog_event(event="user_signed_up", distinct_id=f"m{i}", email=f"m{i}@example.com")
        answer = client.request(method, path_of(source), json=body)
        assert (answer.status_code, answer.json()) == (200, {"accepted": 1, "duplicates": 0})
    refused = client.get(path_of(source))
    assert refused.status_code == 405 and "set it to POST" in refused.json()["error"]
    logged = events_in(engine)
    assert [e.outcome for e in logged] == [EventOutcome.pending] * 3 + [EventOutcome.rejected]
    assert logged[-1].reason.startswith("405 the destination's method is GET")


def test_a_request_that_cannot_be_stored_is_a_logged_500_and_its_neighbours_are_stored(
    client, source, engine, monkeypatch
):
    """A bug some input reaches (simulated: the store chokes on one timestamp) costs only that request,
    which is answered 500 (PostHog retries) and still appears in the Event Log."""
    from humanic_app.services.intake import storing

    real = storing.parse_timestamp

    def choking(value):
        if value == "boom":
            raise RuntimeError("simulated bug")
        return real(value)

    monkeypatch.setattr(storing, "parse_timestamp", choking)
    bodies = [json.dumps({"event": {"event": "bad", "uuid": "b1", "distinct_id": "b", "timestamp": "boom"}})]
    bodies += [
        json.dumps(posthog_event(event="fine", distinct_id=f"g{i}", email=f"g{i}@example.com")) for i in range(10)
    ]
    with ThreadPoolExecutor(max_workers=11) as pool:
        answers = list(pool.map(lambda raw: client.post(path_of(source), content=raw), bodies))
    assert answers[0].status_code == 500 and "PostHog retries it" in answers[0].json()["error"]
    assert [a.status_code for a in answers[1:]] == [200] * 10
    logged = events_in(engine)
    assert sorted(e.event_name for e in logged if e.outcome == EventOutcome.pending) == ["fine"] * 10
    [failed] = [e for e in logged if e.outcome == EventOutcome.rejected]
    assert failed.reason.startswith("500 could not be stored (RuntimeError)")
    assert '"timestamp": "boom"' in failed.payload["raw"]


def test_body_over_one_mebibyte_is_413(client, source, engine):
    big = json.dumps({"event": {"event": "x", "properties": {"blob": "a" * (1024 * 1024)}}})
    assert client.post(path_of(source), content=big).status_code == 413
    assert events_in(engine)[0].reason.startswith("413")


def test_unknown_and_rotated_tokens_are_404(client, source, authed, engine):
    assert client.post("/api/webhooks/posthog/not-a-token", json={}).status_code == 404
    old_path = path_of(source)
    rotated = authed.post(f"/api/v1/sources/{source['id']}/rotate").json()
    assert rotated["webhook_url"] != source["webhook_url"]
    body = posthog_event(event="user_signed_up", distinct_id="u1", email="a@example.com")
    old = client.post(old_path, json=body)
    assert old.status_code == 404 and "old URL" in old.json()["error"]
    assert client.post(path_of(rotated), json=body).status_code == 200
    reasons = [e.reason for e in events_in(engine)]
    assert reasons[0].startswith("404 unknown") and "PostHog still uses the old URL" in reasons[1]


def test_retried_delivery_is_a_duplicate_and_causes_nothing(client, source, engine):
    body = posthog_event(event="user_signed_up", distinct_id="u1", email="a@example.com")
    assert client.post(path_of(source), json=body).json() == {"accepted": 1, "duplicates": 0}
    assert client.post(path_of(source), json=body).json() == {"accepted": 0, "duplicates": 1}
    process(engine)
    first, second = events_in(engine)
    assert first.outcome == EventOutcome.processed
    assert second.outcome == EventOutcome.duplicate and f"#{first.id}" in second.reason
    with Session(engine) as s:
        assert len(s.exec(select(Contact)).all()) == 1


def test_concurrent_duplicate_deliveries_store_one_event(client, source, engine):
    body = json.dumps(posthog_event(event="user_signed_up", distinct_id="u1", email="a@example.com"))
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: client.post(path_of(source), content=body).json(), range(32)))
    assert sum(a["accepted"] for a in answers) == 1 and sum(a["duplicates"] for a in answers) == 31
    outcomes = [e.outcome for e in events_in(engine)]
    assert outcomes.count(EventOutcome.pending) == 1 and outcomes.count(EventOutcome.duplicate) == 31


def test_signed_deliveries(client, source, engine, authed):
    from humanic_app.services import sources as sources_service

    with Session(engine) as s:
        sources_service.update_security(session=s, source_id=source["id"], signing_enabled=True)
        s.commit()
        secret = sources_service.get_source(session=s, source_id=source["id"]).signing_secret
    body = json.dumps(posthog_event(event="user_signed_up", distinct_id="u1", email="a@example.com")).encode()
    stamp = int(time.time())

    def headers(msg_id: str, ts: int, sig_secret: str = secret) -> dict:
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(ts),
            "webhook-signature": signing.sign(secret=sig_secret, msg_id=msg_id, timestamp=ts, body=body),
        }

    assert client.post(path_of(source), content=body, headers=headers("msg_1", stamp)).status_code == 200
    retried = client.post(path_of(source), content=body, headers=headers("msg_1", stamp + 2))
    assert retried.json() == {"accepted": 0, "duplicates": 1}
    resent = client.post(path_of(source), content=body, headers=headers("msg_9", stamp))  # same event uuid
    assert resent.json() == {"accepted": 0, "duplicates": 1}
    huge_stamp = headers("msg_4", stamp) | {"webhook-timestamp": "9" * 400}
    without_uuid = json.dumps({"event": {"event": "custom_thing", "distinct_id": "u7"}}).encode()

    def signed(msg_id: str, content: bytes) -> dict:
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": signing.sign(secret=secret, msg_id=msg_id, timestamp=stamp, body=content),
        }

    assert client.post(path_of(source), content=without_uuid, headers=signed("msg_7", without_uuid)).json() == {
        "accepted": 1,
        "duplicates": 0,
    }  # no uuid: its webhook-id identifies it
    with_uuid = json.dumps({"event": {"event": "custom_thing", "distinct_id": "u7", "uuid": "u-7"}}).encode()
    assert client.post(path_of(source), content=with_uuid, headers=signed("msg_7", with_uuid)).json() == {
        "accepted": 0,
        "duplicates": 1,
    }
    assert "not a unix time" in client.post(path_of(source), content=body, headers=huge_stamp).json()["error"]
    assert client.post(path_of(source), content=body).status_code == 401
    assert (
        client.post(path_of(source), content=body, headers=headers("msg_2", stamp, signing.new_secret())).status_code
        == 401
    )
    stale = client.post(path_of(source), content=body, headers=headers("msg_3", stamp - 301))
    assert stale.status_code == 401 and "5 minutes" in stale.json()["error"]
    logged = events_in(engine)
    assert [e.outcome for e in logged][-4:] == [EventOutcome.rejected] * 4
    assert all(e.headers.get("webhook-signature") in (None, "•••") for e in logged)


def test_required_header_is_checked_and_masked(client, source, engine, authed):
    from humanic_app.services import sources as sources_service

    with Session(engine) as s:
        sources_service.update_security(
            session=s,
            source_id=source["id"],
            signing_enabled=False,
            header_name="X-Humanic-Key",
            header_value="s3cret-value",
        )
        s.commit()
    body = posthog_event(event="user_signed_up", distinct_id="u1", email="a@example.com")
    assert client.post(path_of(source), json=body).status_code == 401
    assert client.post(path_of(source), json=body, headers={"X-Humanic-Key": "wrong"}).status_code == 401
    assert client.post(path_of(source), json=body, headers={"X-Humanic-Key": "s3cret-value"}).status_code == 200
    old_path = path_of(source)
    rotated = authed.post(f"/api/v1/sources/{source['id']}/rotate").json()
    assert client.post(old_path, json=body, headers={"X-Humanic-Key": "s3cret-value"}).status_code == 404
    assert (
        client.post("/api/webhooks/posthog/typo", json=body, headers={"X-Humanic-Key": "s3cret-value"}).status_code
        == 404
    )
    assert client.post(path_of(rotated), json=body, headers={"X-Humanic-Key": "s3cret-value"}).status_code == 200
    logged = events_in(engine)
    assert len(logged) == 6 and all("s3cret-value" not in json.dumps(e.headers) for e in logged)

    with Session(engine) as s:  # saving the panel again with the value left blank keeps it (it is never shown)
        sources_service.update_security(
            session=s, source_id=source["id"], signing_enabled=True, header_name="X-Humanic-Key", header_value=""
        )
        s.commit()
        assert sources_service.get_source(session=s, source_id=source["id"]).required_header_value == "s3cret-value"


def test_custom_body_needs_and_follows_the_mapping(client, source, authed, engine):
    custom = {"type": "checkout_started", "id": "c-1", "email": "ada@example.com", "cart_value": 129.5, "user": "u1"}
    refused = client.post(path_of(source), json=custom)
    assert refused.status_code == 422 and "field mapping" in refused.json()["error"]
    mapping = {
        "event_name": "type",
        "event_uuid": "id",
        "email": "email",
        "user_id": "user",
        "variables": {"cart": "cart_value"},
    }
    assert authed.put(f"/api/v1/sources/{source['id']}/mapping", json={"mapping": mapping}).status_code == 200
    assert client.post(path_of(source), json=custom).status_code == 200
    process(engine)
    event = events_in(engine)[-1]
    assert event.outcome == EventOutcome.processed
    assert event.mapped["variables"]["cart"] == 129.5 and event.mapped["email"] == "ada@example.com"
    bad = authed.put(f"/api/v1/sources/{source['id']}/mapping", json={"mapping": {"email": "bad path!", "colour": "x"}})
    assert bad.status_code == 422
    assert {d["loc"][-1] for d in bad.json()["detail"]} == {"email", "colour"}


def test_no_email_is_skipped_with_the_fix(client, source, engine):
    body = posthog_event(event="user_signed_up", distinct_id="anon-1", person=False)
    assert client.post(path_of(source), json=body).status_code == 200
    process(engine)
    [event] = events_in(engine)
    assert event.outcome == EventOutcome.skipped
    assert event.reason == "no email — add email to your $identify call"


def test_paused_workspace_still_accepts_and_says_so(client, source, authed, engine):
    authed.put("/api/v1/settings", json={"status": "paused"})
    body = posthog_event(event="user_signed_up", distinct_id="u1", email="a@example.com")
    assert client.post(path_of(source), json=body).status_code == 200
    process(engine)
    [event] = events_in(engine)
    assert event.outcome == EventOutcome.processed and "workspace paused" in event.reason


def test_paused_source_still_accepts_and_says_so(client, source, authed, engine):
    assert authed.post(f"/api/v1/sources/{source['id']}/activate").json()["status"] == "active"
    assert authed.post(f"/api/v1/sources/{source['id']}/pause").json()["status"] == "paused"
    with_email = posthog_event(event="user_signed_up", distinct_id="u1", email="a@example.com")
    without = posthog_event(event="user_signed_up", distinct_id="anon", person=False)
    assert client.post(path_of(source), json=[with_email, without]).json() == {"accepted": 2, "duplicates": 0}
    process(engine)
    first, second = events_in(engine)
    assert first.outcome == EventOutcome.processed and first.reason == "source paused: stored, nothing fired"
    assert second.outcome == EventOutcome.skipped
    assert second.reason.startswith("no email") and second.reason.endswith("source paused: stored, nothing fired")


def test_database_unreachable_is_503(client, source, engine):
    from sqlalchemy import create_engine

    from humanic_app import db

    db.use_engine(create_engine("postgresql+psycopg://postgres@127.0.0.1:1/x", connect_args={"connect_timeout": 1}))
    try:
        response = client.post(path_of(source), json=posthog_event(event="x", distinct_id="u"))
        assert response.status_code == 503
    finally:
        db.use_engine(engine)


def test_the_served_app_routes_webhooks_past_the_api_layers_and_everything_else_to_the_api(client, source):
    async def api(scope, receive, send):  # stands in for the API and Reflex behind it
        await PlainTextResponse("the API", status_code=418)(scope, receive, send)

    direct = TestClient(webhooks.direct_route(api))  # no lifespan: Reflex's own app runs that
    body = json.dumps(posthog_event(event="user_signed_up", distinct_id="u1", email="u1@x.io"))
    accepted = direct.post(path_of(source), content=body)
    assert accepted.status_code == 200 and accepted.json() == {"accepted": 1, "duplicates": 0}
    assert direct.post("/api/webhooks/posthog/nope", content=body).status_code == 404
    assert direct.get("/api/v1/sources").status_code == 418
    assert direct.post("/api/webhooks/resend", content="{}").status_code == 418
