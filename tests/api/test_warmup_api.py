"""The warm-up settings of a sending domain and a campaign's send rate through the API: shown with the
domain, switched and edited, and refused with a field-named 422 when a ladder or a rate is not valid."""

import pytest

from humanic_app.services.campaigns import library


def test_a_new_domain_warms_up_from_the_day_it_verifies(authed, fake_resend):
    domain = authed.post("/api/v1/domains", json={"name": "mail.acme.io"}).json()
    assert domain["warmup_enabled"] and domain["warmup_ladder"] == [50, 100, 250, 500, 1000, 2500, 5000]
    assert domain["warmup"]["day"] is None and domain["warmup"]["cap"] is None
    assert domain["warmup"]["summary"] == "Starts the day the domain is verified, at 50 emails."
    fake_resend.dns_published.add("mail.acme.io")
    verified = authed.post(f"/api/v1/domains/{domain['id']}/verify").json()
    assert verified["verified_at"] and (verified["warmup"]["day"], verified["warmup"]["cap"]) == (1, 50)
    assert verified["warmup"]["summary"] == "Day 1 of 7: 0 of 50 sent today."


def test_the_ladder_is_edited_and_switched_off(authed, fake_resend):
    domain = authed.post("/api/v1/domains", json={"name": "mail.acme.io"}).json()
    url = f"/api/v1/domains/{domain['id']}/warmup"
    edited = authed.patch(url, json={"warmup_ladder": [20, 40, 80]})
    assert edited.status_code == 200 and edited.json()["warmup_ladder"] == [20, 40, 80]
    off = authed.patch(url, json={"warmup_enabled": False}).json()
    assert not off["warmup_enabled"] and off["warmup"]["summary"] == "Off: no daily cap."
    assert authed.get(f"/api/v1/domains/{domain['id']}").json()["warmup_ladder"] == [20, 40, 80]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"warmup_ladder": []}, "at least 1"),
        ({"warmup_ladder": [0]}, "greater than or equal to 1"),
        ({"warmup_ladder": [100, 50]}, "Day 2: 50 is below day 1's 100; a warm-up only rises."),
        ({"warmup_ladder": ["50"]}, "valid integer"),
        ({"warmup_ladder": [1.5]}, "valid integer"),
        ({"warmup_ladder": [50] * 61}, "at most 60"),
        ({"warmup_ladder": [10**7]}, "less than or equal to 1000000"),
        ({"warmup_enabled": "yes"}, "valid boolean"),
        ({"ladder": [50]}, "Extra inputs"),
    ],
)
def test_a_bad_ladder_is_a_422_naming_the_field(authed, fake_resend, body, says):
    domain = authed.post("/api/v1/domains", json={"name": "mail.acme.io"}).json()
    refused = authed.patch(f"/api/v1/domains/{domain['id']}/warmup", json=body)
    assert refused.status_code == 422
    [error] = refused.json()["detail"][:1]
    assert error["loc"][1] == next(iter(body)) and says in error["msg"]


def test_warmup_of_an_unknown_domain_is_a_404(authed):
    assert authed.patch("/api/v1/domains/999/warmup", json={"warmup_enabled": True}).status_code == 404


def test_a_campaign_carries_its_send_rate(authed):
    document = library.templates()["feature-adoption"] | {"emails_per_minute": 600}
    created = authed.post("/api/v1/campaigns", json=document)
    assert created.status_code == 201 and created.json()["document"]["emails_per_minute"] == 600
    for bad in (0, -5, "600", 100_001, 2.5):
        refused = authed.post("/api/v1/campaigns", json=document | {"emails_per_minute": bad})
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"][-1] == "emails_per_minute"
