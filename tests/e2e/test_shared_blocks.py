"""Shared blocks from Settings to an email: a signature written once in Settings → Brand → Shared blocks
(a malformed one refused at its field), put in a campaign's email by name from the builder, shown in the
preview, changed in Settings and shown changed, and kept while the campaign uses it. Checked on a phone and a
desktop in both themes (axe, no sideways scroll), with pictures for the gallery."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from humanic_app import routes
from tests.e2e.test_every_page import check, contexts, open_page, signed_in  # noqa: F401 (fixture)


@pytest.mark.parametrize(("theme", "size"), [("light", "phone"), ("dark", "desktop")])
def test_a_shared_signature_from_settings_to_an_email(contexts, browser, app_url, owner, theme, size):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, theme, size)
    mark = uuid.uuid4().hex[:6]
    name = f"sig-{mark}"
    open_page(page, routes.SETTINGS)
    section = page.locator("#shared-blocks")
    section.scroll_into_view_if_needed()
    section.get_by_label("Name").fill(name)
    section.locator("#shared-new-blocks").fill("- type: paragraph\n  markdown: [unclosed")
    section.get_by_role("button", name="Add shared block").click()
    expect(section.locator("#shared-new-blocks-error")).to_contain_text("This is not YAML")
    expect(section.locator("#shared-new-blocks")).to_have_attribute("aria-invalid", "true")
    section.locator("#shared-new-blocks").fill(f"- type: paragraph\n  markdown: 'Signed **{mark}** at Orbit'\n")
    section.get_by_role("button", name="Add shared block").click()
    expect(section.locator("#shared-saved")).to_contain_text(f"Shared block '{name}' saved")
    listed = section.locator(".shared-block").filter(has=page.get_by_role("heading", name=name))
    expect(listed).to_contain_text("Not used by any campaign yet")
    section.scroll_into_view_if_needed()
    check(page, f"settings-shared-blocks-{theme}-{size}")

    open_page(page, routes.CAMPAIGNS)
    if page.locator("#back-to-campaigns").count():
        page.locator("#back-to-campaigns").click()
    campaign = f"Signed {mark}"
    page.get_by_role("button", name="Blank campaign").click()
    page.fill("#campaign-name", campaign)
    page.fill("#trigger-event", f"signed_{mark}")
    step = page.locator(".step-card").first
    step.locator("input.step-subject, .step-subject input").fill("With a signature")
    step.locator("#step-0-block-kind").click()
    page.get_by_role("option", name="Shared block", exact=True).click()
    step.get_by_role("button", name="Add the block to step 1").click()
    expect(step).to_contain_text(name)  # the hint names the shared blocks there are
    page.fill("#step-0-block-3-name", name)
    page.locator("#save-campaign").click()
    expect(page.locator("#campaign-message")).to_contain_text("Saved.")
    page.locator("#render-preview").click()
    expect(page.frame_locator("#preview-html").locator("body")).to_contain_text(f"Signed {mark} at Orbit")

    open_page(page, routes.SETTINGS)
    listed = page.locator("#shared-blocks .shared-block").filter(has=page.get_by_role("heading", name=name))
    expect(listed).to_contain_text(f"Used by 1 campaign: {campaign}")
    listed.get_by_role("button", name=f"Delete the shared block {name}").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete it").click()
    expect(listed.locator("#shared-" + name + "-blocks-error")).to_contain_text(f"used by 1 campaign: {campaign}")
    listed.locator("textarea").fill(f"- type: paragraph\n  markdown: 'Changed {mark}'\n")
    listed.get_by_role("button", name=f"Save the shared block {name}").click()
    expect(page.locator("#shared-saved")).to_contain_text(f"Shared block '{name}' saved")

    open_page(page, routes.CAMPAIGNS)
    page.get_by_role("row").filter(has_text=campaign).get_by_role("button", name="Edit").click()
    page.locator("#render-preview").click()
    expect(page.frame_locator("#preview-html").locator("body")).to_contain_text(f"Changed {mark}")
