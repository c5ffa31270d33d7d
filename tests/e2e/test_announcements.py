"""Action results a screen reader hears: Integrations' Copy, Save in the campaign builder and Settings'
invite each answer in a live region that was on the page before the answer arrived (a region inserted together
with its text is not announced by every screen reader), polite for done and an alert for refused."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from humanic_app import routes
from tests.e2e.test_every_page import contexts, open_page, signed_in  # noqa: F401 (fixture)

TAG = uuid.uuid4().hex[:6]


def mark_live_regions(page: Page) -> None:
    """Tags every live region on the page now; a region made later (with its message) carries no tag."""
    page.evaluate(
        """() => document.querySelectorAll('[role=status], [role=alert], [aria-live]')
             .forEach(region => region.setAttribute('data-before-the-answer', ''))"""
    )


def expect_announced(page: Page, answer: str, role: str) -> None:
    """`answer` (a selector) shows inside a live region of `role` that was already on the page."""
    expect(page.locator(answer)).to_be_visible()
    waiting = page.locator(f"[role={role}][data-before-the-answer]").filter(has=page.locator(answer))
    expect(waiting).to_have_count(1)


def test_copying_the_webhook_url_is_announced(contexts, browser, app_url, owner):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    name = f"Announced {TAG}"
    assert page.request.post(f"{app_url}/api/v1/sources", data={"name": name}).ok
    open_page(page, routes.INTEGRATIONS)
    picker = page.get_by_role("button", name=name, exact=True)
    if picker.count():  # several sources: pick this one
        picker.click()
    expect(page.locator("#rename-source")).to_have_value(name)
    mark_live_regions(page)
    page.locator("#copy-webhook-url").click()
    expect(page.locator("#integrations-message")).to_contain_text("Webhook URL copied")
    expect_announced(page, "#integrations-message", "status")


def test_saving_a_campaign_is_announced(contexts, browser, app_url, owner):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    open_page(page, routes.CAMPAIGNS)
    if page.locator("#back-to-campaigns").count():  # the builder stays open across pages
        page.locator("#back-to-campaigns").click()
    page.get_by_role("button", name="Use Re-engagement").click()
    page.fill("#campaign-name", f"Announced {TAG}")
    mark_live_regions(page)
    page.locator("#save-campaign").click()
    expect(page.locator("#campaign-message")).to_contain_text("Saved.")
    expect_announced(page, "#campaign-message", "status")


def test_an_invite_and_its_refusal_are_announced(contexts, browser, app_url, owner):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    open_page(page, routes.SETTINGS)
    teammate = f"announced-{TAG}@example.com"
    page.get_by_label("Teammate's email").fill(teammate)
    page.get_by_label("Temporary password (10+ characters)").fill("short")
    mark_live_regions(page)
    page.get_by_role("button", name="Invite user").click()
    expect_announced(page, "#invite-error", "alert")
    expect(page.locator("#invite-message")).to_have_count(0)

    page.get_by_label("Temporary password (10+ characters)").fill("temporary password 1")
    page.get_by_role("button", name="Invite user").click()
    expect(page.locator("#invite-message")).to_contain_text(teammate)
    expect_announced(page, "#invite-message", "status")
    expect(page.locator("#invite-error")).to_have_count(0)
