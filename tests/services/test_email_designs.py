"""The gallery of ready-made email designs (designs/*.yaml): each is a valid email step that renders with the
brand layout and passes every design check, names the workspace, and suits a ready-made campaign."""

import pytest

from humanic_app.models import Workspace
from humanic_app.services.campaigns import designs, library
from humanic_app.services.campaigns.preview import render_preview
from humanic_app.services.errors import NotFound

KINDS = {"welcome", "onboarding-tip", "feature-announcement", "cart-reminder", "upgrade-nudge", "we-miss-you"}


def _ws() -> Workspace:
    return Workspace(name="Orbit", from_email="hello@orbit.io", from_name="Orbit", physical_address="1 Main St")


def test_the_gallery_has_a_design_for_each_kind_of_email_the_ready_made_campaigns_send():
    found = designs.designs(workspace_name="Orbit")
    assert {d.slug for d in found} == KINDS
    slugs = {t.slug for t in library.catalogue()}
    assert {d.campaign for d in found} <= slugs  # each suits a ready-made campaign that exists
    assert all(d.name and d.purpose and d.subject and d.blocks for d in found)


@pytest.mark.parametrize("slug", sorted(KINDS))
def test_each_design_renders_in_the_layout_and_passes_every_check(slug):
    found = designs.design(slug=slug, workspace_name="Orbit")
    rendered = render_preview(
        ws=_ws(), document=designs.as_document(found), step=0, variables={"name": "Ada", "email": "ada@orbit.io"}
    )
    assert rendered["error"] == "", rendered["error"]
    assert [c for c in rendered["checks"] if not c["ok"]] == []
    assert "Unsubscribe" in rendered["html"] and "1 Main St" in rendered["html"]  # the layout's footer
    assert "{workspace}" not in rendered["html"] + rendered["subject"]
    assert rendered["missing"] == []
    kinds = {block["type"] for block in found.blocks}
    assert {"heading", "paragraph"} <= kinds and kinds & {"button", "columns"}


def test_copy_names_the_workspace_and_an_unknown_design_is_not_found():
    assert "Orbit" in designs.design(slug="feature-announcement", workspace_name="Orbit").subject
    assert "Orbit" in str(designs.design(slug="welcome", workspace_name="Orbit").blocks)
    with pytest.raises(NotFound):
        designs.design(slug="nope")
