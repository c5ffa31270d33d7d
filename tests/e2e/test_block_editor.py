"""Composing an email of blocks in the builder on a phone: from a blank campaign, every simple block kind
added and filled in place, one moved, a missing alt text refused at its field, then saved and previewed at
390 px with the design checks listed under the email; the screen passes axe and goes to the gallery."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from humanic_app import routes
from tests.e2e.test_every_page import check, contexts, open_page, signed_in  # noqa: F401 (fixture)


def _add_block(page: Page, step, kind: str) -> None:
    step.locator("#step-0-block-kind").click()
    page.get_by_role("option", name=kind, exact=True).click()
    step.get_by_role("button", name="Add the block to step 1").click()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_compose_an_email_of_blocks_on_a_phone(contexts, browser, app_url, owner, theme):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, theme, "phone")
    open_page(page, routes.CAMPAIGNS)
    if page.locator("#back-to-campaigns").count():
        page.locator("#back-to-campaigns").click()
    mark = uuid.uuid4().hex[:8]
    name = f"Blocks {mark}"
    page.get_by_role("button", name="Blank campaign").click()
    page.fill("#campaign-name", name)
    page.fill("#trigger-event", f"blocks_{mark}")
    step = page.locator(".step-card").first
    step.locator("input.step-subject, .step-subject input").fill("Welcome, {{ name | default('there') }}")

    expect(step.get_by_role("radio", name="Blocks")).to_be_checked()  # a new email starts as blocks:
    blocks = step.locator(".email-block")
    expect(blocks).to_have_count(3)  # a heading, a text and a button, rewritten here
    page.fill("#step-0-block-0-text", "Hello {{ name | default('there') }}")
    page.fill("#step-0-block-1-markdown", "Thanks for joining **Northwind**.")
    page.fill("#step-0-block-2-label", "Open your dashboard")
    page.fill("#step-0-block-2-url", "https://northwind.example/dashboard")
    _add_block(page, step, "Image")
    page.fill("#step-0-block-3-url", f"{app_url}/favicon.ico")
    page.fill("#step-0-block-3-width", "64")
    _add_block(page, step, "Divider")
    _add_block(page, step, "Spacer")
    page.fill("#step-0-block-5-height", "32")
    expect(blocks).to_have_count(6)
    step.get_by_role("button", name="Move block 5 of step 1 up").click()  # the divider above the image
    expect(blocks.nth(3)).to_have_attribute("data-kind", "divider")

    page.locator("#save-campaign").click()  # the image has no alt text yet: refused, at the field
    expect(page.locator("#step-0-block-4-alt-error")).to_have_text("Required.")
    expect(page.locator("#step-0-block-4-alt")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".builder-error")).to_contain_text("Step 1 · Block 5 · Alt text")
    page.fill("#step-0-block-4-alt", "The Northwind logo")
    page.locator("#save-campaign").click()
    expect(page.locator("#campaign-message")).to_contain_text("Saved.")

    saved = next(c for c in page.request.get(f"{app_url}/api/v1/campaigns").json() if c["name"] == name)
    steps = saved["document"]["steps"]
    assert [b["type"] for b in steps[0]["blocks"]] == ["heading", "paragraph", "button", "divider", "image", "spacer"]
    assert "html" not in steps[0]

    page.locator("#render-preview").click()
    email = page.frame_locator("#preview-html").locator("body")
    expect(email).to_contain_text("Hello Ada")
    expect(email).to_contain_text("Thanks for joining Northwind.")
    expect(email.get_by_role("link", name="Open your dashboard")).to_have_attribute(
        "href", "https://northwind.example/dashboard"
    )
    expect(email.get_by_role("img", name="The Northwind logo")).to_have_count(1)
    checks = page.locator("#preview-checks")
    expect(checks).to_contain_text("Every image has alt text")
    expect(checks).to_contain_text("Every link is absolute")
    expect(checks.locator(".preview-check-failed")).to_have_count(0)
    step.scroll_into_view_if_needed()
    check(page, f"campaigns-block-editor-{theme}-phone")
