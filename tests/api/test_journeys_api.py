"""The journey document through /api/v1/campaigns: created and read back whole, refused per node with the
builder's names, the edit preview and the per-node counts, and the schema the API documents."""

import copy

from humanic_app.services.campaigns import library

JOURNEY = library.templates()["re-engagement"]


def test_a_journey_is_created_read_back_and_exported_whole(authed):
    created = authed.post("/api/v1/campaigns", json=JOURNEY)
    assert created.status_code == 201, created.text
    document = created.json()["document"]
    kinds = [step.get("type", "email") for step in document["steps"]]
    assert kinds == ["email", "wait", "branch", "email", "email", "exit"]
    assert document["steps"][2]["paths"][0] == {
        "name": "opened",
        "when": [{"email": "we-miss-you", "was": "opened"}],
        "then": "idea",
    }
    again = authed.post("/api/v1/campaigns", json=document).json()
    assert again["document"] == document
    fetched = authed.get(f"/api/v1/campaigns/{again['id']}").json()
    assert fetched["document"] == document


def test_refusals_name_each_node(authed):
    looping = copy.deepcopy(JOURNEY)
    looping["steps"][4]["next"] = "we-miss-you"
    response = authed.post("/api/v1/campaigns", json=looping)
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert detail["loc"][-1] == "steps.4"
    subject = JOURNEY["steps"][0]["subject"][:39] + "…"
    assert detail["msg"] == (
        f'Step 5 (email "One idea for this week") leads back to Step 1 (email "{subject}"): a journey cannot loop'
    )
    broken = copy.deepcopy(JOURNEY)
    broken["steps"][2]["paths"][0]["when"] = [{"email": "we-miss-you", "was": "forwarded"}]
    broken["steps"][1]["duration"] = "soon"
    fields = {d["loc"][-1] for d in authed.post("/api/v1/campaigns", json=broken).json()["detail"]}
    assert fields == {"steps.2.paths.0.when.0.was", "steps.1.duration"}
    empty_window = copy.deepcopy(JOURNEY)
    empty_window["steps"][1] = {"type": "wait", "until": {"between": ["09:00", "09:00"]}}
    [detail] = authed.post("/api/v1/campaigns", json=empty_window).json()["detail"]
    assert detail["loc"][-1] == "steps.1.until.between.1"  # the node, and its end time
    assert detail["msg"] == "the window ends when it starts: pick a different end time"


def test_edit_preview_and_node_counts(authed):
    campaign = authed.post("/api/v1/campaigns", json=library.templates()["drop-off-recovery"]).json()
    edited = copy.deepcopy(campaign["document"])
    edited["steps"][0]["timeout"] = "48h"
    effects = authed.post(f"/api/v1/campaigns/{campaign['id']}/edit-preview", json=edited)
    assert effects.status_code == 200 and effects.json() == {
        "in_progress": 0,
        "rule": "Contacts already in this journey finish the version they entered under; only contacts who enrol "
        "after saving follow the new version.",
        "nodes": [],
    }
    bad = authed.post(f"/api/v1/campaigns/{campaign['id']}/edit-preview", json={**edited, "steps": []})
    assert bad.status_code == 422
    counts = authed.get(f"/api/v1/campaigns/{campaign['id']}/journey").json()
    assert list(counts) == ["wait-for-checkout", "reminder", "done"]
    assert counts["wait-for-checkout"] == {
        "label": "Step 1 (wait for checkout_completed)",
        "waiting": 0,
        "passed": 0,
        "took": {},
    }
    assert authed.get("/api/v1/campaigns/999/journey").status_code == 404


def test_the_api_documents_the_node_kinds(authed):
    spec = authed.get("/api/v1/openapi.json").json()
    body = spec["paths"]["/api/v1/campaigns"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    kinds = {
        variant["properties"]["type"].get("const") or "email"
        for variant in body["properties"]["steps"]["items"]["oneOf"]
        if "type" in variant["properties"]
    }
    assert kinds >= {"wait", "wait_for", "branch", "exit"}
    assert {"/api/v1/campaigns/{campaign_id}/edit-preview", "/api/v1/campaigns/{campaign_id}/journey"} <= set(
        spec["paths"]
    )
