"""Settings → PostHog: refusals at their fields, host and kinds saved and read back, the project key never
shown back, stopping the write-back; the section passes the accessibility check and fits a 390 px phone in
both themes (pictures in the gallery)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from humanic_app import routes
from tests.e2e.test_every_page import check, contexts, open_page, signed_in  # noqa: F401  (contexts: fixture)
from tests.support.fake_posthog import FakePosthog

HOST = "PostHog host"
KEY = "Project API key"


def _section(page: Page):
    return page.get_by_role("region", name="PostHog", exact=True)


def test_posthog_write_back_set_read_back_and_stopped(contexts, browser, app_url, owner):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "phone")
    page.request.delete(f"{app_url}/api/v1/settings/posthog")  # from no connection, whatever ran before
    open_page(page, routes.SETTINGS)
    section = _section(page)
    expect(section.get_by_text("Off", exact=True)).to_be_visible()

    section.get_by_label(HOST).fill("https://us.posthog.com")
    section.get_by_label(KEY).fill("phx_personalkey1234567")
    section.get_by_role("button", name="Save PostHog settings").click()
    expect(section.get_by_label(HOST)).to_have_accessible_description(
        "us.posthog.com is PostHog's app, which takes no events: choose US cloud (https://us.i.posthog.com)."
    )
    expect(section.get_by_label(KEY)).to_have_accessible_description(
        "That is a personal API key (phx_…): paste the project API key instead (phc_…, PostHog → Project "
        "settings → Project API key)."
    )

    with FakePosthog() as fake:  # the app's write-back posts here while this test runs; nothing waits
        section.get_by_label(HOST).fill(fake.url)
        section.get_by_label(KEY).fill(fake.api_key)
        section.get_by_label("humanic email opened").uncheck()
        section.get_by_role("button", name="Save PostHog settings").click()
        expect(section.locator("#posthog-done")).to_contain_text("Saved")
        expect(section.get_by_text("Writing back", exact=True)).to_be_visible()

        open_page(page, routes.SETTINGS)
        section = _section(page)
        expect(section.get_by_label(HOST)).to_have_value(fake.url)
        expect(section.get_by_label("Replace the project API key")).to_have_value("")  # never shown back
        expect(section.get_by_label("humanic email opened")).not_to_be_checked()
        expect(section.get_by_label("humanic email sent")).to_be_checked()

        section.get_by_role("button", name="Stop writing back").click()
        page.get_by_role("alertdialog").get_by_role("button", name="Stop writing back").click()
        expect(section.get_by_text("Off", exact=True)).to_be_visible()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_posthog_section_looks(contexts, browser, app_url, owner, theme):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, theme, "phone")
    open_page(page, routes.SETTINGS)
    section = _section(page)
    expect(section.get_by_label(HOST)).to_be_visible()
    section.scroll_into_view_if_needed()
    check(page, f"settings-posthog-{theme}-phone", full_page=False)
