import copy

import yaml

from humanic_app.services.campaigns import library
from tests.support.campaign_world import linear
from tests.support.cli import run_cli

DROP_OFF = linear("drop-off-recovery")  # the linear form these tests were written for


def test_create_read_update_and_round_trip(authed):
    created = authed.post("/api/v1/campaigns", json=DROP_OFF)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "draft" and body["trigger_event"] == "checkout_started"
    assert body["document"]["trigger"]["where"] == [{"property": "cart_value", "op": "gt", "value": 50}]
    fetched = authed.get(f"/api/v1/campaigns/{body['id']}").json()
    assert fetched["document"] == body["document"]
    again = authed.post("/api/v1/campaigns", json=fetched["document"]).json()
    assert again["document"] == body["document"]

    edited = copy.deepcopy(body["document"])
    edited["steps"][0]["delay"] = "12h"
    assert authed.put(f"/api/v1/campaigns/{body['id']}", json=edited).json()["document"]["steps"][0]["delay"] == "12h"
    assert [c["name"] for c in authed.get("/api/v1/campaigns").json()] == ["Drop-off recovery"] * 2


def test_field_level_validation(authed):
    bad = copy.deepcopy(DROP_OFF)
    bad["trigger"]["where"][0]["op"] = "bigger"
    bad["steps"][0]["delay"] = "soon"
    bad["reentry"] = "sometimes"
    response = authed.post("/api/v1/campaigns", json=bad)
    assert response.status_code == 422
    fields = {d["loc"][-1] for d in response.json()["detail"]}
    assert fields == {"trigger.where.0.op", "steps.0.delay", "reentry"}
    broken = copy.deepcopy(DROP_OFF)
    broken["steps"][0]["html"] = "<p>\\n{% if cart_value %}\\n{{ cart_value </p>"
    detail = authed.post("/api/v1/campaigns", json=broken).json()["detail"]
    assert detail[0]["loc"][-1] == "steps.0.html" and detail[0]["msg"].startswith("line ")


def test_status_changes_and_activation_refusal(authed):
    campaign = authed.post("/api/v1/campaigns", json=DROP_OFF).json()
    refused = authed.post(f"/api/v1/campaigns/{campaign['id']}/activate")
    assert refused.status_code == 422 and "From address" in refused.json()["detail"][0]["msg"]
    authed.put("/api/v1/settings", json={"from_email": "hello@acme.io", "physical_address": "1 Main St"})
    assert authed.post(f"/api/v1/campaigns/{campaign['id']}/activate").json()["status"] == "active"
    second = authed.post("/api/v1/campaigns", json=DROP_OFF).json()
    assert authed.post(f"/api/v1/campaigns/{second['id']}/activate").json()["overlapping_active_campaigns"] == [
        "Drop-off recovery"
    ]
    assert authed.post(f"/api/v1/campaigns/{campaign['id']}/pause").json()["status"] == "paused"
    assert authed.post(f"/api/v1/campaigns/{campaign['id']}/archive").json()["status"] == "archived"
    assert authed.post(f"/api/v1/campaigns/{campaign['id']}/activate").status_code == 422
    assert authed.put(f"/api/v1/campaigns/{campaign['id']}", json=DROP_OFF).status_code == 422
    spec = authed.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/campaigns/{campaign_id}/activate", "/api/v1/campaigns/{campaign_id}/archive"} <= set(spec)


def test_cli_import_export_round_trip(tmp_path):
    env_dir = tmp_path / "data"
    env = {"HUMANIC_DATA_DIR": str(env_dir)}
    assert run_cli("migrate", env=env).returncode == 0
    for slug in ("drop-off-recovery", "onboarding-activation"):
        done = run_cli("campaigns", "import", str(library.LIBRARY_DIR / f"{slug}.yaml"), env=env)
        assert done.returncode == 0 and "draft campaign" in done.stdout
    out = tmp_path / "all.yaml"
    assert run_cli("campaigns", "export", str(out), env=env).returncode == 0
    exported = yaml.safe_load(out.read_text())
    assert [d["name"] for d in exported] == ["Drop-off recovery", "Onboarding activation"]
    assert run_cli("campaigns", "import", str(out), env=env).returncode == 0
    again = tmp_path / "again.yaml"
    run_cli("campaigns", "export", str(again), env=env)
    assert yaml.safe_load(again.read_text()) == exported + exported
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntrigger: {event: a}\nsteps: []\n")
    failed = run_cli("campaigns", "import", str(bad), env=env)
    assert failed.returncode == 2 and "steps" in failed.stderr


def test_quiet_hours_round_trip_and_are_refused_by_field(authed):
    document = {**copy.deepcopy(DROP_OFF), "quiet_hours": {"between": ["22:00", "06:00"], "days": ["sat", "sun"]}}
    created = authed.post("/api/v1/campaigns", json=document)
    assert created.status_code == 201, created.text
    assert created.json()["document"]["quiet_hours"] == document["quiet_hours"]
    assert (
        authed.post("/api/v1/campaigns", json={**document, "quiet_hours": "off"}).json()["document"]["quiet_hours"]
        == "off"
    )
    for bad, field in (
        ({"between": ["09:00", "9:30"]}, "quiet_hours.between.1"),
        ({"between": ["09:00", "09:00"]}, "quiet_hours.between"),
        ({"between": ["09:00", "19:00"], "days": ["mon", "someday"]}, "quiet_hours.days"),
        ({"between": ["09:00", "19:00"], "timezone": "Europe/Berlin"}, "quiet_hours.timezone"),
        ({"days": ["mon"]}, "quiet_hours.between"),
        ("never", "quiet_hours"),
        (9, "quiet_hours"),
    ):
        refused = authed.post("/api/v1/campaigns", json={**document, "quiet_hours": bad})
        assert refused.status_code == 422, bad
        assert [d["loc"][-1] for d in refused.json()["detail"]] == [field], refused.text


def test_dry_run_endpoint(authed):
    campaign = authed.post("/api/v1/campaigns", json=DROP_OFF).json()
    result = authed.post(f"/api/v1/campaigns/{campaign['id']}/dry-run", params={"days": 7})
    assert result.status_code == 200
    assert result.json()["emails"] == 0 and result.json()["days"] == 7
