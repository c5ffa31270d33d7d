"""Each troubleshooting situation, created through the webhook and the API, produces its finding and fix."""

from datetime import timedelta

from humanic_app import clock
from humanic_app.services.campaigns import library
from humanic_app.services.samples import posthog_event
from tests.support.webhooks import path_of, process


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
        client.post(
            path_of(rotated), json=posthog_event(event="user_signed_up", distinct_id=f"u{i}", email=f"u{i}@example.com")
        )
    client.post(path_of(rotated), json=posthog_event(event="user_signed_up", distinct_id="anon", person=False))
    process(engine)
    found = findings(authed)
    assert found["rotated_url"]["fix"].startswith("PostHog still uses the old URL — paste the new one")
    assert "400 The body is not valid JSON" in found["rejected"]["problem"]
    assert "(latest example: event #" in found["rejected"]["problem"]
    assert found["no_email"]["problem"].startswith("25% of recent events carry no email")
    assert "$identify" in found["no_email"]["fix"]
    assert "user_signed_up" in found["unused_events"]["problem"]
    assert f"silent_source:{source['id']}" not in found

    authed.put(
        "/api/v1/settings", json={"from_email": "hello@acme.io", "physical_address": "1 Main St", "status": "paused"}
    )
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
    assert {f["case"] for f in found.values()} == {
        "Events aren't appearing",
        "Emails aren't sending even though events are arriving",
        "Users are receiving duplicate emails",
    }


def test_provider_quota_and_key_problems_are_found_and_quota_can_be_resumed(client, authed, source, engine):
    import resend
    from sqlmodel import Session

    from humanic_app.models import Domain
    from humanic_app.services import rate_limit
    from humanic_app.services.delivery import dispatcher
    from humanic_app.services.delivery.resend_sender import ResendSender
    from tests.support.fake_resend import FakeResend

    authed.put("/api/v1/settings", json={"from_email": "hello@acme.io", "physical_address": "1 Main St"})
    authed.post(f"/api/v1/sources/{source['id']}/activate")
    campaign = authed.post("/api/v1/campaigns", json=library.templates()["onboarding-activation"]).json()
    authed.post(f"/api/v1/campaigns/{campaign['id']}/activate")
    with Session(engine) as session:
        session.add(Domain(name="acme.io", resend_id="d-1", status="verified"))
        session.commit()
    client.post(path_of(source), json=posthog_event(event="user_signed_up", distinct_id="q", email="q@example.com"))
    process(engine)
    before = resend.api_url
    try:
        with FakeResend() as fake:
            sender = ResendSender(api_key=fake.api_key, api_url=fake.url, limiter=rate_limit.LocalRateLimiter(100))
            fake.inject(429, "daily_quota_exceeded")
            assert dispatcher.dispatch_due(engine=engine, sender=sender, public_url="https://h.acme.io").held == 1
            quota = findings(authed)["provider_quota"]
            assert "daily sending quota is used up" in quota["problem"] and "Resume sending" in quota["fix"]
            assert "daily sending quota" in authed.get("/api/v1/settings").json()["sending_blocked"]

            assert authed.post("/api/v1/settings/resume-sending").json()["sending_blocked"] == ""
            fake.inject(403, "invalid_api_key")
            assert dispatcher.dispatch_due(engine=engine, sender=sender, public_url="https://h.acme.io").failed == 1
            found = findings(authed)
            assert "provider_quota" not in found
            assert found["provider_key"]["problem"] == "Resend refuses the API key (invalid or restricted)."
            assert "RESEND_API_KEY" in found["provider_key"]["fix"]
            assert found["provider_errors"]["problem"].startswith("1 emails failed in the last 7 days")
    finally:
        resend.api_url = before


def test_counters_follow_the_webhook_and_processing(client, authed, source, engine):
    from sqlmodel import Session

    from humanic_app.services import stats

    for i in range(3):
        client.post(
            path_of(source), json=posthog_event(event="user_signed_up", distinct_id=f"c{i}", email=f"c{i}@example.com")
        )
    same = posthog_event(event="pricing_page_viewed", distinct_id="anon", person=False)
    client.post(path_of(source), json=same)
    client.post(path_of(source), json=same)  # a retry: duplicate
    client.post(path_of(source), content=b"[1, 2")
    process(engine)
    with Session(engine) as session:
        total = lambda name: stats.totals(session=session, name=name)  # noqa: E731
        assert total("received") == {str(source["id"]): 4}
        assert total("duplicate") == {str(source["id"]): 1}
        assert total("event") == {"user_signed_up": 3, "pricing_page_viewed": 1}
        assert total("processed") == {"user_signed_up": 3}
        assert total("no_email") == {str(source["id"]): 1}
        assert total("contact_created") == {"": 3}
        assert total("rejected") == {"400 The body is not valid JSON": 1}
        assert total("webhook_non2xx") == {"400": 1}
        assert sum(total("webhook_ms").values()) == 6


def test_quiet_source_and_campaign_triggers_that_never_arrive_or_never_match(
    client, authed, source, engine, monkeypatch
):
    authed.put("/api/v1/settings", json={"from_email": "hello@acme.io", "physical_address": "1 Main St"})
    authed.post(f"/api/v1/sources/{source['id']}/activate")
    onboarding = authed.post("/api/v1/campaigns", json=library.templates()["onboarding-activation"]).json()
    authed.post(f"/api/v1/campaigns/{onboarding['id']}/activate")
    paid = authed.post("/api/v1/campaigns", json=library.templates()["paid-conversion-pricing"]).json()
    authed.post(f"/api/v1/campaigns/{paid['id']}/activate")
    found = findings(authed)
    assert found[f"trigger_missing:{onboarding['id']}"]["problem"].endswith(
        "triggers on user_signed_up, which has not arrived in the last 7 days."
    )

    for i in range(200):
        client.post(
            path_of(source),
            json=posthog_event(event="pricing_page_viewed", distinct_id=f"p{i}", email=f"p{i}@example.com"),
        )
    process(engine)
    found = findings(authed)
    never = found[f"trigger_never_matched:{paid['id']}"]
    assert "enrolled nobody" in never["problem"] and "occurrence 1 of 3" in never["problem"]

    later = clock.now() + timedelta(hours=9)  # ~1.2 events an hour usually: 10 expected gaps
    monkeypatch.setattr(clock, "now", lambda: later)
    quiet = findings(authed)[f"quiet_source:{source['id']}"]
    assert "has received nothing for 9 h" in quiet["problem"] and "Enable it" in quiet["fix"]
    assert "In the 24 h before, Humanic answered 200 requests" in quiet["problem"]
    assert "0 with an error" in quiet["problem"]


def test_repeated_deliveries_and_a_paused_campaign_holding_due_emails(client, authed, source, engine):
    authed.put("/api/v1/settings", json={"from_email": "hello@acme.io", "physical_address": "1 Main St"})
    authed.post(f"/api/v1/sources/{source['id']}/activate")
    campaign = authed.post("/api/v1/campaigns", json=library.templates()["onboarding-activation"]).json()
    authed.post(f"/api/v1/campaigns/{campaign['id']}/activate")
    for i in range(25):
        body = posthog_event(event="user_signed_up", distinct_id=f"r{i}", email=f"r{i}@example.com")
        client.post(path_of(source), json=body)
        client.post(path_of(source), json=body)  # a second destination on the same URL
    process(engine)
    authed.post(f"/api/v1/campaigns/{campaign['id']}/pause")
    found = findings(authed)
    repeated = found["repeated_deliveries"]
    assert repeated["problem"].startswith("25 deliveries in the last 7 days repeated an event")
    assert "disable one" in repeated["fix"]
    paused = found[f"campaign_paused:{campaign['id']}"]
    assert "is paused: 25 of its emails are due and waiting" in paused["problem"]
    assert paused["fix"].startswith("Resume it in Campaigns")
