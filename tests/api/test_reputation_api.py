"""The reputation guardrail over HTTP: signed Resend events pause a campaign, the rates and the finding say why
with the numbers, Resume restarts the count; the lines are validated field by field."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from humanic_app.models import Message, MessageStatus
from humanic_app.services import signing
from tests.api.test_campaigns_api import DROP_OFF
from tests.api.test_resend_webhook_and_suppressions import post_event

SECRET = signing.new_secret()
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def resend_secret(monkeypatch):
    monkeypatch.setenv("RESEND_WEBHOOK_SECRET", SECRET)


def _sent(engine, campaign_id: int) -> str:
    n = next(_ids)
    with Session(engine) as s:
        s.add(
            Message(
                campaign_id=campaign_id,
                to_email=f"r{n}@example.com",
                due_at=datetime.now(UTC),
                idempotency_key=f"k-{n}",
                status=MessageStatus.sent,
                provider_message_id=f"re-{n}",
            )
        )
        s.commit()
    return f"re-{n}"


def _report(client, engine, campaign_id: int, kind: str) -> None:
    email_id = _sent(engine, campaign_id)
    payload = {"type": f"email.{kind}", "created_at": "2026-12-02T12:00:00Z", "data": {"email_id": email_id}}
    answer = post_event(client, payload, f"msg_{email_id}", secret=SECRET)
    assert answer.status_code == 200, answer.text


def test_defaults(authed):
    body = authed.get("/api/v1/reputation").json()
    assert body["thresholds"] == {
        "rate_min_volume": 200,
        "complaint_warn_pct": 0.1,
        "complaint_pause_pct": 0.3,
        "bounce_warn_pct": 2.0,
        "bounce_pause_pct": 4.0,
    }
    assert [(r["scope"], r["level"], r["denominator"], r["complaint_pct"]) for r in body["rates"]] == [
        ("*", "too_few", 0, None)
    ]


@pytest.mark.parametrize(
    "body,fields",
    [
        ({"complaint_warn_pct": 0.5}, {"complaint_warn_pct"}),  # over the saved pause line (0.3)
        ({"bounce_warn_pct": 3, "bounce_pause_pct": 2}, {"bounce_pause_pct"}),
        ({"bounce_pause_pct": 0}, {"bounce_pause_pct"}),
        ({"complaint_pause_pct": 100.5}, {"complaint_pause_pct"}),
        ({"complaint_pause_pct": "0.3", "rate_min_volume": 0}, {"complaint_pause_pct", "rate_min_volume"}),
        ({"rate_min_volume": True}, {"rate_min_volume"}),
        ({"rate_min_volume": 2.5}, {"rate_min_volume"}),
        ({"colour": 1}, {"colour"}),
    ],
)
def test_lines_are_refused_by_field(authed, body, fields):
    answer = authed.put("/api/v1/reputation/thresholds", json=body)
    assert answer.status_code == 422, answer.text
    assert {d["loc"][-1] for d in answer.json()["detail"]} == fields
    assert authed.get("/api/v1/reputation").json()["thresholds"]["complaint_warn_pct"] == 0.1


def test_signed_events_pause_a_campaign_and_resume_restarts_the_count(authed, client, engine):
    authed.put("/api/v1/settings", json={"from_email": "hello@acme.io", "physical_address": "1 Main St, Springfield"})
    lines = {"rate_min_volume": 20, "complaint_warn_pct": 1, "complaint_pause_pct": 5}
    assert authed.put("/api/v1/reputation/thresholds", json=lines).json()["complaint_pause_pct"] == 5.0
    campaign = authed.post("/api/v1/campaigns", json=DROP_OFF).json()["id"]
    assert authed.post(f"/api/v1/campaigns/{campaign}/activate").status_code == 200
    for _ in range(19):
        _report(client, engine, campaign, "delivered")
    _report(client, engine, campaign, "complained")  # 1 of 19: under the minimum volume
    assert authed.get(f"/api/v1/campaigns/{campaign}").json()["status"] == "active"
    _report(client, engine, campaign, "delivered")  # the 20th email: a delivery raises no rate, nothing to check
    assert authed.get(f"/api/v1/campaigns/{campaign}").json()["status"] == "active"
    _report(client, engine, campaign, "complained")  # 2 of 20
    assert authed.get(f"/api/v1/campaigns/{campaign}").json()["status"] == "paused"

    reason = (
        "Campaign “Drop-off recovery” paused: 10 % complaints (2 of 20 delivered or bounced) in the last 24 h, "
        "over 5 %."
    )
    rates = {r["scope"]: r for r in authed.get("/api/v1/reputation").json()["rates"]}
    assert rates[str(campaign)]["paused_reason"] == reason
    assert (rates[str(campaign)]["complaint_pct"], rates[str(campaign)]["bounce_pct"]) == (10.0, 0.0)
    assert rates["*"]["paused_reason"].startswith("All sending paused: 10 % complaints (2 of 20")  # all its volume
    assert authed.get("/api/v1/settings").json()["sending_blocked"] == rates["*"]["paused_reason"]
    findings = {f["key"]: f for f in authed.get("/api/v1/diagnostics").json()["findings"]}
    assert findings[f"reputation_paused:{campaign}"]["problem"] == reason
    assert "Resume" in findings[f"reputation_paused:{campaign}"]["fix"]

    assert authed.post(f"/api/v1/campaigns/{campaign}/activate").json()["status"] == "active"
    assert authed.post("/api/v1/settings/resume-sending").json()["sending_blocked"] == ""
    rates = {r["scope"]: r for r in authed.get("/api/v1/reputation").json()["rates"]}
    assert (rates[str(campaign)]["denominator"], rates[str(campaign)]["paused_reason"]) == (0, "")
    assert rates[str(campaign)]["counting_since"] is not None
    _report(client, engine, campaign, "bounced")  # 1 of 1 since Resume: the old complaints no longer count
    assert authed.get(f"/api/v1/campaigns/{campaign}").json()["status"] == "active"
    assert authed.get("/api/v1/settings").json()["sending_blocked"] == ""
    assert not [k for k in (f["key"] for f in authed.get("/api/v1/diagnostics").json()["findings"]) if "reput" in k]
