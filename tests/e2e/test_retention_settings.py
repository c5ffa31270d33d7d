"""Settings → Retention: the days field, labelled, saved and read back; the section passes the accessibility
check and fits a 390 px phone in both themes (pictures in the gallery)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from humanic_app import routes
from tests.e2e.test_every_page import check, contexts, open_page, signed_in  # noqa: F401  (contexts: fixture)

FIELD = "Keep raw payloads for (days)"


def _section(page: Page):
    return page.get_by_role("region", name="Retention")


def test_retention_days_saved_and_read_back(contexts, browser, app_url, owner):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "phone")
    open_page(page, routes.SETTINGS)
    section = _section(page)
    field = section.get_by_label(FIELD)
    expect(field).to_have_value("90")
    expect(section.locator("#retention-last-run")).to_contain_text("has not run yet")
    field.fill("30")
    section.get_by_role("button", name="Save retention").click()
    expect(section.locator("#retention-saved")).to_contain_text("Retention saved.")
    open_page(page, routes.SETTINGS)
    expect(_section(page).get_by_label(FIELD)).to_have_value("30")
    _section(page).get_by_label(FIELD).fill("90")  # other journeys expect the default
    _section(page).get_by_role("button", name="Save retention").click()
    expect(_section(page).locator("#retention-saved")).to_contain_text("Retention saved.")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_retention_section_looks(contexts, browser, app_url, owner, theme):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, theme, "phone")
    open_page(page, routes.SETTINGS)
    section = _section(page)
    expect(section.get_by_label(FIELD)).to_be_visible()
    section.scroll_into_view_if_needed()
    check(page, f"settings-retention-{theme}-phone", full_page=False)
