"""Settings → PostHog API access at 390 px: a project key pasted as the personal key is refused at the key
field; the right key and project id saved once, the recover, pull and cohorts panels say they use it; the key
is never shown back (the field is an empty password field and the page text does not hold it). The section
passes the accessibility check and fits a phone (picture in the gallery)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from humanic_app import routes
from tests.e2e.test_every_page import check, contexts, open_page, signed_in  # noqa: F401  (contexts: fixture)
from tests.support.fake_posthog import FakePosthog

KEY, REPLACE_KEY, PROJECT = "Personal API key", "Replace the personal API key", "Project id"
PANELS = ("Recover missed events", "Pull events from PostHog", "PostHog cohorts")


def access_section(page: Page):
    return page.get_by_role("region", name="PostHog API access", exact=True)


def save_access(page: Page, key: str, project: str) -> None:
    """The personal API key and project id, saved in their section as a user would (a host is set already)."""
    section = access_section(page)
    section.locator("#access-personal-key").fill(key)
    section.get_by_label(PROJECT).fill(project)
    section.get_by_role("button", name="Save API access").click()
    expect(section.locator("#access-done")).to_contain_text("Saved")


def test_access_refused_then_saved_once_for_every_panel(contexts, browser, app_url, owner):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "phone")
    page.request.delete(f"{app_url}/api/v1/settings/posthog")  # from no connection, whatever ran before
    with FakePosthog() as fake:
        assert page.request.put(
            f"{app_url}/api/v1/settings/posthog", data={"host": fake.url, "api_key": fake.api_key}
        ).ok
        open_page(page, routes.SETTINGS)
        section = access_section(page)
        for name in PANELS:
            expect(page.get_by_role("region", name=name, exact=True)).to_contain_text(
                "Set the personal API key and project id in PostHog API access above first."
            )

        section.get_by_label(KEY).fill(fake.api_key)  # the project key (phc_…), pasted by mistake
        section.get_by_label(PROJECT).fill(fake.project_id)
        section.get_by_role("button", name="Save API access").click()
        expect(section.get_by_label(KEY)).to_have_accessible_description(
            "That is the project API key (phc_…): paste a personal API key (phx_…, PostHog → Settings → Personal "
            "API keys) with the Query Read scope."
        )
        expect(section.get_by_label(KEY)).to_have_attribute("aria-invalid", "true")

        section.get_by_label(KEY).fill(fake.personal_api_key)
        section.get_by_role("button", name="Save API access").click()
        expect(section.locator("#access-done")).to_contain_text("Saved")
        for name in PANELS:
            panel = page.get_by_role("region", name=name, exact=True)
            expect(panel).to_contain_text(f"Uses the PostHog API access above (project {fake.project_id}).")
            expect(panel.get_by_role("link", name="PostHog API access")).to_have_attribute("href", "#posthog-access")

        replaced = section.get_by_label(REPLACE_KEY)
        expect(replaced).to_have_value("")
        expect(replaced).to_have_attribute("type", "password")
        expect(section.get_by_label(PROJECT)).to_have_value(fake.project_id)
        assert fake.personal_api_key not in page.content()

        open_page(page, routes.SETTINGS)  # read back from what was stored
        section = access_section(page)
        expect(section.get_by_label(REPLACE_KEY)).to_have_value("")
        expect(section.get_by_label(PROJECT)).to_have_value(fake.project_id)
        expect(page.get_by_role("region", name="PostHog cohorts", exact=True)).to_contain_text(
            f"Uses the PostHog API access above (project {fake.project_id})."
        )
        assert fake.personal_api_key not in page.content()
        # the section's top just below the phone's sticky top bar, so the section before it (the write-back
        # toggles) is wholly under the bar and no control of it shows half hidden in the picture
        section.evaluate(
            "el => window.scrollBy(0, el.getBoundingClientRect().top"
            " - document.querySelector('.top-bar').getBoundingClientRect().bottom - 8)"
        )
        check(page, "settings-posthog-access-light-phone", full_page=False)
    page.request.delete(f"{app_url}/api/v1/settings/posthog")  # the journeys after it start from no connection
