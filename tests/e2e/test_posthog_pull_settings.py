"""Settings → Pull events from PostHog: refusals at their fields (and, with no PostHog API access yet, under
the form), pull-only mode turned on once the access is set and read back, the personal key never shown back;
the section passes the accessibility check and fits a 390 px phone in both themes (pictures in the gallery)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from humanic_app import routes
from tests.e2e.test_every_page import check, contexts, open_page, signed_in  # noqa: F401  (contexts: fixture)
from tests.e2e.test_posthog_access import access_section, save_access
from tests.support.fake_posthog import FakePosthog

INTERVAL = "Poll every (seconds)"


def _section(page: Page):
    return page.get_by_role("region", name="Pull events from PostHog", exact=True)


def test_pull_only_mode_turned_on_and_read_back(contexts, browser, app_url, owner):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "phone")
    page.request.delete(f"{app_url}/api/v1/settings/posthog")  # from no connection, whatever ran before
    open_page(page, routes.SETTINGS)
    section = _section(page)
    expect(section.locator("#pull-badge")).to_have_text("Off")
    with FakePosthog() as fake:  # the app's worker polls here while this test runs
        section.get_by_label("PostHog address").fill(fake.url)
        section.get_by_label("Pull events from PostHog").check()
        section.get_by_label(INTERVAL).fill("5")
        section.get_by_role("button", name="Save pull settings").click()
        expect(section.get_by_label(INTERVAL)).to_have_accessible_description(
            "Poll every 10 to 3600 seconds (whole seconds)."
        )
        expect(section.locator("#pull-form-error")).to_have_text(
            "Pulling events needs a personal API key with the Query Read scope (phx_…). "
            "Pulling events needs the PostHog project id."
        )
        expect(section).to_contain_text("Set the personal API key and project id in PostHog API access above first.")

        save_access(page, fake.personal_api_key, fake.project_id)
        expect(section).to_contain_text(f"Uses the PostHog API access above (project {fake.project_id}).")
        section.get_by_label(INTERVAL).fill("30")
        section.get_by_role("button", name="Save pull settings").click()
        expect(section.locator("#pull-done")).to_contain_text("Saved: Humanic pulls new events")
        expect(section.locator("#pull-badge")).to_have_text("Pulling")

        open_page(page, routes.SETTINGS)
        section = _section(page)
        access = access_section(page)
        expect(access.get_by_label("Project id")).to_have_value(fake.project_id)
        expect(section.get_by_label(INTERVAL)).to_have_value("30")
        expect(access.get_by_label("Replace the personal API key")).to_have_value("")  # never shown back
        expect(section.get_by_label("Pull events from PostHog")).to_be_checked()
        section.get_by_label("Pull events from PostHog").uncheck()
        section.get_by_role("button", name="Save pull settings").click()
        expect(section.locator("#pull-badge")).to_have_text("Off")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_pull_section_looks(contexts, browser, app_url, owner, theme):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, theme, "phone")
    open_page(page, routes.SETTINGS)
    section = _section(page)
    expect(section.get_by_label(INTERVAL)).to_be_visible()
    section.scroll_into_view_if_needed()
    check(page, f"settings-posthog-pull-{theme}-phone", full_page=False)
