"""Settings → Brand: the fields labelled, a refusal shown at its field, saved and read back; the section passes
the accessibility check and fits a 390 px phone in both themes (pictures in the gallery)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from humanic_app import routes
from tests.e2e.test_every_page import check, contexts, open_page, signed_in  # noqa: F401  (contexts: fixture)


def _section(page: Page):
    return page.get_by_role("region", name="Brand")


def test_brand_saved_read_back_and_refused_at_its_field(contexts, browser, app_url, owner):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "phone")
    open_page(page, routes.SETTINGS)
    section = _section(page)
    expect(section.get_by_label("Buttons and links")).to_have_value("#1a5fd0")
    section.get_by_label("Buttons and links").fill("blue")
    section.get_by_label("Logo URL").fill("/logo.png")
    section.get_by_role("button", name="Save brand").click()
    expect(section.get_by_label("Logo URL")).to_have_attribute("aria-invalid", "true")
    expect(section.locator("#brand-logo-url-error")).to_contain_text("absolute")
    expect(section.get_by_label("Buttons and links")).to_have_attribute("aria-invalid", "true")

    section.get_by_label("Buttons and links").fill("#7a1fd0")
    section.get_by_label("Logo URL").fill("https://acme.io/logo.png")
    section.get_by_label("Footer text").fill("Acme Inc.")
    section.get_by_role("button", name="Save brand").click()
    expect(section.locator("#brand-saved")).to_contain_text("Brand saved")
    open_page(page, routes.SETTINGS)
    expect(_section(page).get_by_label("Buttons and links")).to_have_value("#7a1fd0")
    expect(_section(page).get_by_label("Footer text")).to_have_value("Acme Inc.")

    open_page(page, routes.CAMPAIGNS)  # the brand applied: a block email's preview is in it
    if page.locator("#back-to-campaigns").count():
        page.locator("#back-to-campaigns").click()
    page.get_by_role("button", name="Blank campaign").click()
    page.fill("#campaign-name", "Branded preview")
    page.fill("#trigger-event", "branded_preview")
    page.locator(".step-card").first.locator("input.step-subject, .step-subject input").fill("Branded")
    page.locator("#render-preview").click()
    email = page.frame_locator("#preview-html")
    expect(email.locator("body")).to_contain_text("Acme Inc.")  # the footer text, above the unsubscribe link
    expect(email.locator("img[src='https://acme.io/logo.png']")).to_have_count(1)
    button_colour = email.get_by_role("link", name="Get started").evaluate(
        "a => getComputedStyle(a.closest('td')).backgroundColor"
    )
    assert button_colour == "rgb(122, 31, 208)", button_colour  # #7a1fd0
    open_page(page, routes.SETTINGS)
    # other journeys expect the defaults
    _section(page).get_by_label("Buttons and links").fill("#1a5fd0")
    _section(page).get_by_label("Logo URL").fill("")
    _section(page).get_by_label("Footer text").fill("")
    _section(page).get_by_role("button", name="Save brand").click()
    expect(_section(page).locator("#brand-saved")).to_contain_text("Brand saved")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_brand_section_looks(contexts, browser, app_url, owner, theme):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, theme, "phone")
    open_page(page, routes.SETTINGS)
    section = _section(page)
    expect(section.get_by_label("Logo URL")).to_be_visible()
    section.scroll_into_view_if_needed()
    check(page, f"settings-brand-{theme}-phone", full_page=False)
