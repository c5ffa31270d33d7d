"""Starting an email from the design gallery: from a blank campaign's first email, "Start from a design"
opens the ready-made designs, each shown as sent in the workspace's brand; choosing one puts its subject and
blocks in the email, which stays editable, saves and previews as chosen. Checked on a phone and a desktop in
both themes (axe, no sideways scroll), with the open gallery in the screenshot gallery."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from humanic_app import routes
from tests.e2e.test_every_page import check, contexts, open_page, signed_in  # noqa: F401 (fixture)


@pytest.mark.parametrize(("theme", "size"), [("light", "phone"), ("dark", "desktop")])
def test_start_an_email_from_a_ready_made_design(contexts, browser, app_url, owner, theme, size):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, theme, size)
    open_page(page, routes.CAMPAIGNS)
    if page.locator("#back-to-campaigns").count():
        page.locator("#back-to-campaigns").click()
    mark = uuid.uuid4().hex[:8]
    name = f"Designed {mark}"
    page.get_by_role("button", name="Blank campaign").click()
    page.fill("#campaign-name", name)
    page.fill("#trigger-event", f"designed_{mark}")
    step = page.locator(".step-card").first
    expect(step.locator(".brand-note")).to_contain_text("reaches emails already scheduled")  # the builder says so

    step.get_by_role("button", name="Start step 1 from a ready-made design").click()
    gallery = page.get_by_role("dialog", name="Start from a design")
    expect(gallery).to_be_visible()
    cards = gallery.locator(".design-card")
    expect(cards).to_have_count(6)
    expect(gallery).to_contain_text("replaces step 1's subject and blocks")
    reminder = cards.filter(has=page.get_by_role("heading", name="Cart reminder"))
    expect(reminder.frame_locator("iframe").locator("body")).to_contain_text("Return to my cart")
    expect(reminder.frame_locator("iframe").locator("body")).to_contain_text("Unsubscribe")  # the layout's footer
    check(page, f"campaigns-design-gallery-{theme}-{size}")

    reminder.get_by_role("button", name="Use this design").click()
    expect(gallery).to_have_count(0)
    subject = step.locator("input.step-subject, .step-subject input")
    expect(subject).to_have_value("You left something behind, {{ name | default('there') }}")
    expect(step.get_by_role("radio", name="Blocks")).to_be_checked()
    expect(page.locator("#step-0-block-0-text")).to_have_value("Still thinking it over?")
    page.fill("#step-0-block-0-text", f"Your cart misses you {mark}")  # the design is the marketer's to change

    page.locator("#save-campaign").click()
    expect(page.locator("#campaign-message")).to_contain_text("Saved.")
    saved = next(c for c in page.request.get(f"{app_url}/api/v1/campaigns").json() if c["name"] == name)
    blocks = saved["document"]["steps"][0]["blocks"]
    assert [b["type"] for b in blocks] == ["heading", "paragraph", "button", "divider", "paragraph"]
    assert blocks[0]["text"] == f"Your cart misses you {mark}"

    page.locator("#render-preview").click()
    email = page.frame_locator("#preview-html").locator("body")
    expect(email).to_contain_text(f"Your cart misses you {mark}")
    expect(email.get_by_role("link", name="Return to my cart")).to_have_attribute("href", "https://example.com/cart")
