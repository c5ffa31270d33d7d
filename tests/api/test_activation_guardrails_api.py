"""Activation refused through the API: 422 with one entry per blocker, named by its field, saying the fix;
GET …/readiness lists blockers and the DMARC warning (with the record to add) before anyone activates."""

import pytest

from humanic_app.services import dmarc

DOC = {"name": "Welcome", "trigger": {"event": "user_signed_up"}, "steps": [{"subject": "Hi", "html": "<p>Hi</p>"}]}


@pytest.fixture
def dns_records(monkeypatch) -> dict[str, list[str]]:
    """What the fake DNS publishes: the DMARC check never asks the network in tests."""
    records: dict[str, list[str]] = {}
    checker = dmarc.DmarcChecker(lambda name: records.get(name, []))
    monkeypatch.setattr(dmarc, "default_checker", lambda: checker)
    return records


def _errors(response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {entry["loc"][-1]: entry["msg"] for entry in response.json()["detail"]}


def test_refusals_name_their_fields_and_fixes_then_activation_goes_through(authed):
    campaign = authed.post("/api/v1/campaigns", json=DOC).json()
    errors = _errors(authed.post(f"/api/v1/campaigns/{campaign['id']}/activate"))
    assert errors == {
        "from_email": "No default From address: set it in Settings → Default From address.",
        "physical_address": "No physical mailing address: every email's footer must show one. Add your postal "
        "address in Settings → Physical mailing address.",
    }
    authed.put("/api/v1/settings", json={"from_email": "hello@acme.io"})
    assert set(_errors(authed.post(f"/api/v1/campaigns/{campaign['id']}/activate"))) == {"physical_address"}
    assert authed.get(f"/api/v1/campaigns/{campaign['id']}").json()["status"] == "draft"
    authed.put("/api/v1/settings", json={"physical_address": "1 Main St, Springfield"})
    activated = authed.post(f"/api/v1/campaigns/{campaign['id']}/activate")
    assert activated.status_code == 200 and activated.json()["status"] == "active"
    assert activated.json()["warnings"] == []  # local outbox: no DNS question leaves the machine


def test_a_step_that_hides_the_unsubscribe_link_is_refused_at_its_step(authed):
    authed.put("/api/v1/settings", json={"from_email": "hello@acme.io", "physical_address": "1 Main St"})
    document = {**DOC, "steps": [DOC["steps"][0], {"subject": "Styled", "html": "<style>p { color: red }"}]}
    campaign = authed.post("/api/v1/campaigns", json=document).json()
    errors = _errors(authed.post(f"/api/v1/campaigns/{campaign['id']}/activate"))
    assert list(errors) == ["steps.1"] and "hides the unsubscribe link" in errors["steps.1"]


def test_fake_resend_domain_public_url_and_the_dmarc_warning(authed, fake_resend, dns_records):
    authed.put("/api/v1/settings", json={"from_email": "news@mail.acme.io", "physical_address": "1 Main St"})
    campaign = authed.post("/api/v1/campaigns", json=DOC).json()
    readiness = authed.get(f"/api/v1/campaigns/{campaign['id']}/readiness").json()
    assert readiness["ready"] is False
    assert [(b["field"], b["href"]) for b in readiness["blockers"]] == [
        ("from_domain", "/domains"),
        ("public_url", "/settings"),
    ]
    assert readiness["warnings"] == [
        {
            "field": "dmarc",
            "status": "missing",
            "problem": "mail.acme.io has no DMARC record. Gmail and Yahoo expect one from bulk senders; sending "
            "goes ahead, but add this TXT record at your DNS provider:",
            "record_name": "_dmarc.mail.acme.io",
            "record_type": "TXT",
            "record_value": "v=DMARC1; p=none; rua=mailto:news@mail.acme.io",
            "record": '_dmarc.mail.acme.io TXT "v=DMARC1; p=none; rua=mailto:news@mail.acme.io"',
        }
    ]
    errors = _errors(authed.post(f"/api/v1/campaigns/{campaign['id']}/activate"))
    assert errors["from_domain"] == "The sending domain mail.acme.io is not added: add it in Domains and verify it."
    assert "Settings → Public URL" in errors["public_url"]

    domain = authed.post("/api/v1/domains", json={"name": "mail.acme.io"}).json()
    fake_resend.dns_published.add("mail.acme.io")
    authed.post(f"/api/v1/domains/{domain['id']}/verify")
    authed.put("/api/v1/settings", json={"public_url": "https://humanic.acme.io"})
    activated = authed.post(f"/api/v1/campaigns/{campaign['id']}/activate")
    assert activated.status_code == 200, activated.text
    assert [w["field"] for w in activated.json()["warnings"]] == ["dmarc"]  # warned, not refused


def test_readiness_of_an_unknown_campaign_is_404(authed):
    assert authed.get("/api/v1/campaigns/999/readiness").status_code == 404
