"""/api/v1/settings/brand and /api/v1/email-preview, and block documents through /api/v1/campaigns."""

import copy

import yaml

from humanic_app.services.campaigns import library
from humanic_app.services.campaigns.schema import document_as_dict, validate_document
from tests.support.cli import run_cli

BLOCKS = [
    {"type": "heading", "text": "Hi {{ name | default('there') }}", "level": 2, "align": "center"},
    {"type": "paragraph", "markdown": "See **what's new**: [changelog](https://acme.io/changelog)"},
    {"type": "button", "label": "Open", "url": "https://acme.io/app", "colour": "#0b7a3b"},
    {"type": "image", "url": "https://acme.io/hero.png", "alt": "The new dashboard", "width": 560},
    {"type": "divider"},
    {"type": "spacer", "height": 16},
    {"type": "columns", "columns": [[{"type": "paragraph", "markdown": "A"}], [{"type": "html", "html": "<b>B</b>"}]]},
    {"type": "html", "html": "<p>{{ plan }}</p>"},
]
DOCUMENT = {
    "name": "Announcement",
    "trigger": {"event": "feature_released"},
    "steps": [{"subject": "New: {{ feature_name }}", "blocks": BLOCKS, "text": "Plain {{ name }}"}],
}


def test_brand_round_trip_and_per_field_refusals(authed):
    defaults = authed.get("/api/v1/settings/brand").json()
    assert defaults["primary_colour"] == "#1a5fd0" and defaults["logo_url"] == ""
    changed = authed.put(
        "/api/v1/settings/brand", json={"logo_url": "https://acme.io/logo.png", "footer_text": "Acme Inc."}
    )
    assert changed.status_code == 200, changed.text
    assert authed.get("/api/v1/settings/brand").json() == defaults | {
        "logo_url": "https://acme.io/logo.png",
        "footer_text": "Acme Inc.",
    }
    refused = authed.put(
        "/api/v1/settings/brand",
        json={"primary_colour": "blue", "logo_width": 5, "logo_url": None, "shadow": True},
    )
    assert refused.status_code == 422
    assert {tuple(d["loc"]) for d in refused.json()["detail"]} == {
        ("body", "primary_colour"),
        ("body", "logo_width"),
        ("body", "logo_url"),
        ("body", "shadow"),
    }
    relative = authed.put("/api/v1/settings/brand", json={"logo_url": "/static/logo.png"})
    assert relative.status_code == 422
    assert (
        relative.json()["detail"][0]["loc"] == ["body", "logo_url"]
        and "absolute" in relative.json()["detail"][0]["msg"]
    )
    assert authed.get("/api/v1/settings/brand").json()["logo_url"] == "https://acme.io/logo.png"


def test_block_documents_round_trip_through_the_api_and_yaml(authed):
    created = authed.post("/api/v1/campaigns", json=DOCUMENT)
    assert created.status_code == 201, created.text
    stored = created.json()["document"]
    assert stored["steps"][0]["blocks"][0] == BLOCKS[0]
    assert stored["steps"][0]["blocks"][6]["columns"][1] == [{"type": "html", "html": "<b>B</b>"}]
    again = authed.post("/api/v1/campaigns", json=library.load_text(library.dump(stored)))
    assert again.json()["document"] == stored
    fetched = authed.get(f"/api/v1/campaigns/{created.json()['id']}").json()["document"]
    assert fetched == stored


def test_block_refusals_are_422_at_the_block_field(authed):
    bad = copy.deepcopy(DOCUMENT)
    bad["steps"][0]["blocks"][2]["url"] = "/app"
    del bad["steps"][0]["blocks"][3]["alt"]
    detail = authed.post("/api/v1/campaigns", json=bad).json()["detail"]
    assert {d["loc"][-1] for d in detail} == {"steps.0.blocks.2.url", "steps.0.blocks.3.alt"}


def test_campaign_preview_renders_blocks_with_the_checks(authed):
    campaign = authed.post("/api/v1/campaigns", json=DOCUMENT).json()
    preview = authed.post(f"/api/v1/campaigns/{campaign['id']}/preview", json={"step": 0}).json()
    assert preview["error"] == "" and "max-width:600px" in preview["html"]
    assert preview["text"].startswith("Plain Ada Lovelace\n\n--\n")
    assert {c["check"]: c["ok"] for c in preview["checks"]} == {
        "size": True,
        "alt": True,
        "links": True,
        "width": True,
        "contrast": True,
    }


def test_email_preview_of_an_unsaved_document_and_brand(authed):
    answer = authed.post(
        "/api/v1/email-preview",
        json={
            "document": DOCUMENT,
            "step": 0,
            "variables": {"name": "<script>"},
            "brand": {"primary_colour": "#aa0000"},
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "Hi &lt;script&gt;</h2>" in body["html"] and 'style="color:#aa0000;' in body["html"]
    assert body["missing"] == ["feature_name", "plan"]
    refused = authed.post(
        "/api/v1/email-preview",
        json={
            "document": {**DOCUMENT, "steps": [{"subject": "x", "blocks": [{"type": "image", "url": "x"}]}]},
            "brand": {"text_colour": "black"},
        },
    )
    assert refused.status_code == 422
    assert {d["loc"][-1] for d in refused.json()["detail"]} == {"brand.text_colour"}
    refused = authed.post(
        "/api/v1/email-preview",
        json={"document": {**DOCUMENT, "steps": [{"subject": "x", "blocks": [{"type": "image", "url": "x"}]}]}},
    )
    assert {d["loc"][-1] for d in refused.json()["detail"]} == {
        "document.steps.0.blocks.0.url",
        "document.steps.0.blocks.0.alt",
    }


def test_a_block_campaign_passes_the_activation_checks_and_a_raw_html_block_that_hides_the_footer_does_not(authed):
    authed.put("/api/v1/settings", json={"from_email": "hello@acme.io", "physical_address": "1 Main St"})
    campaign = authed.post("/api/v1/campaigns", json=DOCUMENT).json()
    activated = authed.post(f"/api/v1/campaigns/{campaign['id']}/activate")
    assert activated.status_code == 200, activated.text
    hiding = copy.deepcopy(DOCUMENT)
    hiding["steps"][0]["blocks"].append({"type": "html", "html": "<textarea>Bye"})
    refused = authed.post(f"/api/v1/campaigns/{authed.post('/api/v1/campaigns', json=hiding).json()['id']}/activate")
    assert refused.status_code == 422
    assert [d["loc"][-1] for d in refused.json()["detail"]] == ["steps.0"]


def test_a_block_campaign_file_imports_and_exports_unchanged(tmp_path):
    env = {"HUMANIC_DATA_DIR": str(tmp_path / "data")}
    assert run_cli("migrate", env=env).returncode == 0
    source = tmp_path / "announcement.yaml"
    source.write_text(library.dump(DOCUMENT))
    done = run_cli("campaigns", "import", str(source), env=env)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "all.yaml"
    assert run_cli("campaigns", "export", str(out), env=env).returncode == 0
    (exported,) = yaml.safe_load(out.read_text())
    assert exported["steps"] == document_as_dict(validate_document(DOCUMENT))["steps"]
    assert exported["steps"][0]["blocks"][2] == BLOCKS[2] and "html" not in exported["steps"][0]


def test_the_design_gallery_lists_ready_made_designs_in_the_workspace_name(authed):
    assert authed.put("/api/v1/settings", json={"name": "Orbit"}).status_code == 200
    listed = authed.get("/api/v1/email-designs")
    assert listed.status_code == 200, listed.text
    by_slug = {d["slug"]: d for d in listed.json()}
    assert {"welcome", "cart-reminder", "we-miss-you"} <= set(by_slug)
    welcome = by_slug["welcome"]
    assert welcome["subject"].startswith("Welcome to Orbit") and welcome["campaign"] == "onboarding-activation"
    document = {
        "name": "W",
        "trigger": {"event": "user_signed_up"},
        "steps": [{"subject": welcome["subject"], "blocks": welcome["blocks"]}],
    }
    created = authed.post("/api/v1/campaigns", json=document)
    assert created.status_code == 201, created.text


def test_shared_blocks_round_trip_render_in_previews_and_are_kept_while_used(authed):
    signature = [{"type": "paragraph", "markdown": "Ada at **Orbit**"}]
    saved = authed.put("/api/v1/partials/signature", json={"blocks": signature})
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"name": "signature", "blocks": signature, "used_by": []}
    refused = authed.put("/api/v1/partials/Not%20a%20name", json={"blocks": [{"type": "partial", "name": "x"}]})
    assert refused.status_code == 422
    document = {
        "name": "Signed",
        "trigger": {"event": "user_signed_up"},
        "steps": [
            {"subject": "Hi", "blocks": [{"type": "heading", "text": "Hi"}, {"type": "partial", "name": "signature"}]}
        ],
    }
    shown = authed.post("/api/v1/email-preview", json={"document": document})
    assert shown.status_code == 200 and "Ada at <strong>Orbit</strong>" in shown.json()["html"]
    created = authed.post("/api/v1/campaigns", json=document)
    assert created.status_code == 201, created.text
    assert authed.get("/api/v1/partials").json() == [{"name": "signature", "blocks": signature, "used_by": ["Signed"]}]
    in_use = authed.delete("/api/v1/partials/signature")
    assert in_use.status_code == 409 and "Signed" in in_use.json()["detail"]
    unknown = {**document, "steps": [{"subject": "Hi", "blocks": [{"type": "partial", "name": "nope"}]}]}
    missing = authed.post("/api/v1/email-preview", json={"document": unknown}).json()
    assert "no shared block named 'nope'" in missing["error"]
    assert authed.delete("/api/v1/partials/nope").status_code == 404
