"""Every text a person types has a limit that fits its use, refused by the API with the limit; a value stored
before its limit existed stays readable and sendable, and saving it again asks to shorten it."""

import copy

from sqlmodel import Session

from humanic_app.models import Campaign, limits
from humanic_app.services.campaigns import preview
from tests.support.campaign_world import linear

DOC = linear("drop-off-recovery")  # its first step is an email


def _with(**step):
    doc = copy.deepcopy(DOC)
    doc["steps"][0].update(step)
    return doc


def test_campaign_texts_over_their_limit_are_refused_per_field(authed):
    for field, limit in (("subject", limits.SUBJECT), ("html", limits.HTML)):
        response = authed.post("/api/v1/campaigns", json=_with(**{field: "x" * (limit + 1)}))
        assert response.status_code == 422, response.text
        [detail] = response.json()["detail"]
        assert detail["loc"][-1] == f"steps.0.{field}" and f"{limit:,} characters" in detail["msg"]
    named = authed.post("/api/v1/campaigns", json={**DOC, "name": "n" * (limits.NAME + 1)})
    assert named.status_code == 422 and named.json()["detail"][0]["loc"][-1] == "name"
    assert authed.post("/api/v1/campaigns", json=_with(subject="s" * limits.SUBJECT)).status_code == 201


def test_a_stored_value_over_a_new_limit_stays_readable_and_previewable_but_saving_asks_to_shorten(authed, engine):
    created = authed.post("/api/v1/campaigns", json=DOC).json()
    long_subject = "s" * 20_000
    with Session(engine) as session:  # as stored before the limit existed
        campaign = session.get(Campaign, created["id"])
        campaign.definition = {
            **campaign.definition,
            "steps": [{**campaign.definition["steps"][0], "subject": long_subject}],
        }
        session.add(campaign)
        session.commit()
    read = authed.get(f"/api/v1/campaigns/{created['id']}")
    assert read.status_code == 200 and read.json()["document"]["steps"][0]["subject"] == long_subject
    with Session(engine) as session:
        rendered = preview.preview_step(
            session=session, document=session.get(Campaign, created["id"]).definition, step_index=0, event=None
        )
    assert rendered["subject"] == long_subject
    again = authed.put(f"/api/v1/campaigns/{created['id']}", json=read.json()["document"])
    assert again.status_code == 422 and again.json()["detail"][0]["loc"][-1] == "steps.0.subject"


def test_settings_sources_and_keys_have_limits(authed):
    response = authed.put(
        "/api/v1/settings", json={"name": "w" * (limits.NAME + 1), "physical_address": "a" * (limits.ADDRESS + 1)}
    )
    assert response.status_code == 422
    assert {d["loc"][-1] for d in response.json()["detail"]} == {"name", "physical_address"}
    assert authed.post("/api/v1/sources", json={"name": "p" * (limits.NAME + 1)}).status_code == 422
    assert (
        authed.post(
            "/api/v1/users", json={"email": "a@b.co", "temporary_password": "p" * (limits.PASSWORD + 1)}
        ).status_code
        == 422
    )
