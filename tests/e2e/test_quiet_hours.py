"""Quiet hours on a 390 px phone: Settings' workspace default (labelled fields, a refusal at its field, saved
and read back) and the builder's own window (labelled, refused by field, Preview saying when the email would
go), each audited by axe, checked for sideways scrolling and written to the gallery."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from humanic_app import routes
from tests.e2e.test_every_page import check, contexts, open_page, signed_in  # noqa: F401  (contexts: fixture)


def _section(page: Page):
    return page.get_by_role("region", name="Quiet hours")


def test_settings_default_refused_by_field_then_saved_and_read_back(contexts, browser, app_url, owner):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "phone")
    open_page(page, routes.SETTINGS)
    section = _section(page)
    on = section.get_by_label("Send campaigns only within a window")
    expect(on).not_to_be_checked()
    on.click()
    section.get_by_label("From (HH:MM)").fill("8:00")
    section.get_by_role("button", name="Save quiet hours").click()
    expect(section.get_by_label("From (HH:MM)")).to_have_attribute("aria-invalid", "true")
    expect(section).to_contain_text("HH:MM")
    section.get_by_label("From (HH:MM)").fill("08:00")
    section.get_by_label("Days").fill("mon, tue, wed, thu, fri, sat")
    section.get_by_role("button", name="Save quiet hours").click()
    expect(section.locator("#quiet-hours-saved")).to_contain_text("Quiet hours saved.")
    assert page.request.get(f"{app_url}/api/v1/settings").json()["quiet_hours"] == {
        "between": ["08:00", "19:00"],
        "days": ["mon", "tue", "wed", "thu", "fri", "sat"],
    }
    open_page(page, routes.SETTINGS)
    section = _section(page)
    expect(section.get_by_label("Send campaigns only within a window")).to_be_checked()
    expect(section.get_by_label("From (HH:MM)")).to_have_value("08:00")
    section.scroll_into_view_if_needed()
    check(page, "settings-quiet-hours-light-phone", full_page=False)
    assert page.request.put(f"{app_url}/api/v1/settings", data={"quiet_hours": "off"}).ok  # other journeys: none


def test_builder_own_window_and_preview(contexts, browser, app_url, owner):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "dark", "phone")
    name = f"Quiet {uuid.uuid4().hex[:6]}"
    document = {
        "name": name,
        "trigger": {"event": "quiet_hours_look"},
        "quiet_hours": {"between": ["09:00", "10:00"], "days": ["sat"]},
        "steps": [{"delay": "1d", "subject": "Hello", "html": "<p>Hi</p>"}],
    }
    assert page.request.post(f"{app_url}/api/v1/campaigns", data=document).ok
    open_page(page, routes.CAMPAIGNS)
    back = page.locator("#back-to-campaigns")
    if back.count():
        back.click()
    page.locator(".campaign-row", has_text=name).get_by_role("button", name="Edit").click()
    expect(page.locator("#campaign-name")).to_have_value(name)
    expect(page.locator("#campaign-quiet-mode")).to_contain_text("Own window")
    expect(page.get_by_label("From (HH:MM)")).to_have_value("09:00")
    expect(page.locator("#preview-sends")).to_contain_text("quiet hours")  # waits for Saturday 09:00 UTC
    page.get_by_label("To (HH:MM)").fill("09:00")
    page.locator("#save-campaign").click()
    expect(page.get_by_label("To (HH:MM)")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#campaign-builder")).to_contain_text("The window ends when it starts")
    page.locator("#campaign-quiet-mode").evaluate("field => field.scrollIntoView({block: 'center'})")
    check(page, "campaigns-builder-quiet-hours-dark-phone", full_page=False)  # the refusal at its field
