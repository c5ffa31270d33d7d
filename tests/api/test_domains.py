"""Sending domains through Resend's Domains API (against the fake), and the gates that depend on them."""

import pytest

from humanic_app.services.campaigns import library
from humanic_app.settings import get_settings


@pytest.fixture
def no_dns(monkeypatch):
    """The DMARC check's resolver: nothing published, and never the network."""
    from humanic_app.services import dmarc

    checker = dmarc.DmarcChecker(lambda name: [])
    monkeypatch.setattr(dmarc, "default_checker", lambda: checker)


def test_local_outbox_mode_needs_no_domain(authed, monkeypatch):
    monkeypatch.delenv("RESEND_API_KEY", raising=False)
    get_settings.cache_clear()
    response = authed.post("/api/v1/domains", json={"name": "mail.acme.io"})
    assert response.status_code == 422 and "no sending domain is needed" in response.json()["detail"][0]["msg"]
    authed.put("/api/v1/settings", json={"from_email": "hello@mail.acme.io", "physical_address": "1 Main St"})
    campaign = authed.post("/api/v1/campaigns", json=library.templates()["feature-adoption"]).json()
    assert authed.post(f"/api/v1/campaigns/{campaign['id']}/activate").status_code == 200


def test_add_verify_and_gate_activation(authed, fake_resend, no_dns):
    authed.put(
        "/api/v1/settings",
        json={"from_email": "hello@mail.acme.io", "physical_address": "1 Main St", "public_url": "https://h.acme.io"},
    )
    campaign = authed.post("/api/v1/campaigns", json=library.templates()["feature-adoption"]).json()
    refused = authed.post(f"/api/v1/campaigns/{campaign['id']}/activate")
    assert refused.status_code == 422 and "mail.acme.io is not added" in refused.json()["detail"][0]["msg"]

    assert authed.post("/api/v1/domains", json={"name": "not a domain"}).status_code == 422
    domain = authed.post("/api/v1/domains", json={"name": "Mail.Acme.io"}).json()
    assert domain["name"] == "mail.acme.io" and domain["status"] == "not_started"
    kinds = [(r["record"], r["type"]) for r in domain["records"]]
    assert kinds == [("SPF", "MX"), ("SPF", "TXT"), ("DKIM", "CNAME"), ("DMARC", "TXT")]
    assert domain["records"][-1]["name"] == "_dmarc.mail.acme.io"
    assert authed.post("/api/v1/domains", json={"name": "mail.acme.io"}).status_code == 422

    assert authed.post(f"/api/v1/domains/{domain['id']}/verify").json()["status"] == "pending"
    still = authed.post(f"/api/v1/campaigns/{campaign['id']}/activate")
    assert still.status_code == 422 and "is pending" in still.json()["detail"][0]["msg"]

    fake_resend.dns_published.add("mail.acme.io")
    verified = authed.post(f"/api/v1/domains/{domain['id']}/verify").json()
    assert verified["status"] == "verified" and verified["checked_at"]
    assert authed.post(f"/api/v1/campaigns/{campaign['id']}/activate").json()["status"] == "active"
    assert [d["status"] for d in authed.get("/api/v1/domains").json()] == ["verified"]


def test_periodic_recheck_and_sending_gate(authed, fake_resend, engine):
    from sqlmodel import Session

    from humanic_app.services import domains

    authed.put("/api/v1/settings", json={"from_email": "hello@mail.acme.io"})
    domain = authed.post("/api/v1/domains", json={"name": "mail.acme.io"}).json()
    with Session(engine) as session:
        problem = domains.sending_domain_problem(
            session=session, from_email="hello@mail.acme.io", resend_configured=True
        )
        assert problem == "The sending domain mail.acme.io is not started: add its DNS records and click Verify."
    fake_resend.dns_published.add("mail.acme.io")
    authed.post(f"/api/v1/domains/{domain['id']}/verify")  # Resend verifies in the background…
    fake_resend.domains[domain["resend_id"]]["status"] = "temporary_failure"  # …then loses a record
    with Session(engine) as session:
        assert domains.recheck_all(session=session) == 1
        session.commit()
    assert authed.get(f"/api/v1/domains/{domain['id']}").json()["status"] == "temporary_failure"
