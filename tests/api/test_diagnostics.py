"""Each troubleshooting situation, created through the webhook and the API, produces its finding and fix."""

from datetime import timedelta

from humanic_app import clock
from humanic_app.services.campaigns import library
from humanic_app.services.samples import posthog_event
from tests.api.test_webhook import path_of, process


def findings(authed) -> dict[str, dict]:
    return {f["key"]: f for f in authed.get("/api/v1/diagnostics").json()["findings"]}


def test_troubleshooting_findings(client, authed, source, engine, monkeypatch):
    assert findings(authed) == {}
    later = clock.now() + timedelta(minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    silent = findings(authed)[f"silent_source:{source['id']}"]
    assert "never received an event" in silent["problem"] and "Enabled" in silent["fix"]

    old = path_of(source)
    rotated = authed.post(f"/api/v1/sources/{source['id']}/rotate").json()
    client.post(old, json=posthog_event(event="user_signed_up", distinct_id="a", email="a@example.com"))
    client.post(path_of(rotated), content=b"{not json")
    for i in range(3):
        client.post(path_of(rotated), json=posthog_event(event="user_signed_up", distinct_id=f"u{i}",
                                                         email=f"u{i}@example.com"))
    client.post(path_of(rotated), json=posthog_event(event="user_signed_up", distinct_id="anon", person=False))
    process(engine)
    found = findings(authed)
    assert found["rotated_url"]["fix"].startswith("PostHog still uses the old URL — paste the new one")
    assert "400 The body is not valid JSON" in found["rejected"]["problem"]
    assert found["no_email"]["problem"].startswith("25% of recent events carry no email")
    assert "$identify" in found["no_email"]["fix"]
    assert "user_signed_up" in found["unused_events"]["problem"]
    assert f"silent_source:{source['id']}" not in found

    authed.put("/api/v1/settings", json={"from_email": "hello@acme.io", "status": "paused"})
    for _ in range(2):
        campaign = authed.post("/api/v1/campaigns", json=library.templates()["onboarding-activation"]).json()
        authed.post(f"/api/v1/campaigns/{campaign['id']}/activate")
    staging = authed.post("/api/v1/sources", json={"name": "Staging"}).json()
    same = posthog_event(event="user_signed_up", distinct_id="dup", email="dup@example.com")
    client.post(path_of(rotated), json=same)
    client.post(path_of(staging), json=same)
    found = findings(authed)
    assert "unused_events" not in found
    assert found["shared_trigger:user_signed_up"]["problem"].startswith("2 active campaigns fire on user_signed_up")
    assert found["two_destinations"]["fix"].startswith("Two webhook destinations point at Humanic — disable one")
    assert found["workspace_paused"]["fix"] == "Resume it in Settings."
    assert {f["case"] for f in found.values()} == {"Events aren't appearing",
                                                   "Emails aren't sending even though events are arriving",
                                                   "Users are receiving duplicate emails"}
