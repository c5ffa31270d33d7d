"""JSON logs: one line per webhook request, enrolment and send, all carrying the PostHog event's
correlation id, so the chain webhook → event → enrolment → message → provider id can be followed."""

import io
import json

from humanic_app import logs
from humanic_app.services.campaigns import library
from humanic_app.services.delivery import dispatcher
from humanic_app.services.delivery.senders import LocalOutboxSender
from humanic_app.services.samples import posthog_event
from tests.support.webhooks import path_of, process


def test_one_correlation_id_links_webhook_enrolment_and_send(client, authed, source, engine):
    authed.put("/api/v1/settings", json={"from_email": "hello@acme.io", "physical_address": "1 Main St"})
    authed.post(f"/api/v1/sources/{source['id']}/activate")
    campaign = authed.post("/api/v1/campaigns", json=library.templates()["onboarding-activation"]).json()
    authed.post(f"/api/v1/campaigns/{campaign['id']}/activate")
    out = io.StringIO()
    logs.configure(process="test", stream=out, fmt="json")
    try:
        client.post(
            path_of(source),
            json=posthog_event(event="user_signed_up", distinct_id="l1", email="lin@example.com", name="Lin"),
        )
        client.post(path_of(source), content=b"{nope")
        process(engine)
        dispatcher.dispatch_due(engine=engine, sender=LocalOutboxSender(), public_url="https://h.acme.io")
    finally:
        logs.configure(process="test", fmt="text")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    webhook = [r for r in lines if r["message"].startswith("webhook 200")]
    assert len(webhook) == 1 and webhook[0]["status"] == 200 and len(webhook[0]["event_ids"]) == 1
    correlation = webhook[0]["correlation_id"]
    assert correlation == f"evt-{webhook[0]['event_ids'][0]}"
    assert any(r["message"].startswith("webhook 400") and "not valid JSON" in r["message"] for r in lines)

    chain = [r for r in lines if r.get("correlation_id") == correlation]
    enrolled = next(r for r in chain if "enrolled contact" in r["message"])
    assert enrolled["campaign_id"] == campaign["id"] and enrolled["enrolment_id"]
    sent = next(r for r in chain if r["message"].startswith("msg-"))
    assert sent["enrolment_id"] == enrolled["enrolment_id"] and sent["outcome"] == "sent"
    assert sent["provider_message_id"] == f"local-{sent['message_id']}"
    assert all({"time", "level", "logger", "process"} <= set(r) for r in lines)
