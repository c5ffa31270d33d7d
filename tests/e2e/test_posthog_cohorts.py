"""Settings → PostHog cohorts at 390 px: the personal key and project saved in PostHog API access, PostHog's
cohorts listed, one imported and kept in sync (its last sync result shown), the schedule switched off, the
cohort removed; the section passes the accessibility check and fits a phone (picture in the gallery).
Meanwhile a campaign's trigger is kept to the imported cohort in the builder: a cohort not imported is
refused at its field."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from humanic_app import routes
from tests.e2e.helpers import write_html
from tests.e2e.test_every_page import check, contexts, open_page, signed_in  # noqa: F401  (contexts: fixture)
from tests.e2e.test_posthog_access import save_access
from tests.support.fake_posthog import FakePosthog


def test_a_cohort_imported_kept_in_sync_and_removed(contexts, browser, app_url, owner):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "phone")
    page.request.delete(f"{app_url}/api/v1/settings/posthog")  # from no connection, whatever ran before
    email = f"cohort-{uuid.uuid4().hex[:8]}@example.com"  # a person no other journey made a contact
    with FakePosthog() as fake:
        fake.add_cohort(
            7,
            "Power users",
            [{"uuid": "p-1", "distinct_ids": [f"u-{email}"], "properties": {"email": email, "plan": "pro"}}],
        )
        open_page(page, routes.SETTINGS)
        posthog = page.get_by_role("region", name="PostHog", exact=True)
        posthog.get_by_label("PostHog host").fill(fake.url)
        posthog.get_by_label("Project API key").fill(fake.api_key)
        posthog.get_by_role("button", name="Save PostHog settings").click()
        expect(posthog.locator("#posthog-done")).to_contain_text("Saved")

        section = page.get_by_role("region", name="PostHog cohorts", exact=True)
        expect(section).to_contain_text("Set the personal API key and project id in PostHog API access above first.")
        save_access(page, fake.personal_api_key, fake.project_id)
        expect(section).to_contain_text(f"Uses the PostHog API access above (project {fake.project_id}).")

        section.get_by_role("button", name="Show PostHog cohorts").click()
        listed = section.get_by_role("list", name="PostHog cohorts")
        expect(listed).to_contain_text("Power users")
        listed.get_by_role("button", name="Import Power users and keep it in sync").click()
        expect(section.locator("#cohort-done")).to_contain_text("Power users: 1 person: 1 new, 1 joined, 0 left.")
        imported = section.get_by_role("list", name="Imported cohorts")
        expect(imported).to_contain_text("1 contact")
        expect(imported.get_by_label("Keep in sync (every hour)")).to_be_checked()
        expect(imported).to_contain_text("Next sync")
        section.scroll_into_view_if_needed()
        check(page, "settings-posthog-cohorts-light-phone", full_page=False)

        _a_campaign_only_for_the_cohort(page, email)
        open_page(page, routes.SETTINGS)
        section = page.get_by_role("region", name="PostHog cohorts", exact=True)
        imported = section.get_by_role("list", name="Imported cohorts")
        imported.get_by_label("Keep in sync (every hour)").click()
        expect(section.locator("#cohort-done")).to_contain_text("no longer synced")
        expect(imported).to_contain_text("Imported once.")

        imported.get_by_role("button", name="Remove").click()
        page.get_by_role("alertdialog").get_by_role("button", name="Remove cohort").click()
        expect(section.get_by_text("None yet.")).to_be_visible()
    page.request.delete(f"{app_url}/api/v1/settings/posthog")  # the journeys after it start from no connection


def _a_campaign_only_for_the_cohort(page, email: str) -> None:
    open_page(page, routes.CAMPAIGNS)
    page.get_by_role("button", name="Blank").click()
    page.fill("#campaign-name", f"Power welcome {email}")
    page.fill("#trigger-event", "user_signed_up")
    page.locator("input.step-subject, .step-subject input").fill("Welcome")
    write_html(page.locator(".step-card").first, "<p>Hi</p>")
    cohort = page.get_by_label("Only contacts in PostHog cohort (optional)")
    expect(page.locator("#known-cohorts option[value='Power users']")).to_have_count(1)  # offered by name
    cohort.fill("Trial")
    page.locator("#save-campaign").click()
    error = page.locator("#campaign-trigger-cohort-error")
    expect(error).to_contain_text("The trigger asks about cohort 'Trial', which is not imported")
    expect(cohort).to_have_attribute("aria-invalid", "true")
    page.get_by_role("heading", name="Trigger").scroll_into_view_if_needed()
    check(page, "campaign-trigger-cohort-light-phone", full_page=False)
    cohort.fill("Power users")
    page.locator("#save-campaign").click()
    expect(page.locator("#campaign-message")).to_contain_text("Saved.")
    expect(error).to_have_count(0)
