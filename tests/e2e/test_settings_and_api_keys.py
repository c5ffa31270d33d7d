"""Journey: the owner fills in Settings, pauses the workspace, and scripts the API with a key made in the UI."""

import re

from playwright.sync_api import expect


def test_settings_pause_banner_and_api_key(signed_in_page, app_url):
    page = signed_in_page
    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page.locator("#settings-from-email")).to_be_visible()

    page.fill("#settings-from-email", "not an email")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#settings-from-email-error")).to_contain_text("valid email")

    page.fill("#settings-from-email", "hello@acme.io")
    page.fill("#settings-from-name", "Acme")
    page.fill("#settings-physical-address", "1 Main St, Springfield")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#settings-saved")).to_be_visible()

    expect(page.locator("#paused-banner")).to_have_count(0)
    page.get_by_role("button", name="Pause workspace").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Pause workspace").click()
    expect(page.locator("#paused-banner")).to_contain_text("paused")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.locator("#paused-banner")).to_be_visible()

    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_placeholder("Key name, e.g. Terraform").fill("playwright")
    page.get_by_role("button", name="Create API key").click()
    key = page.locator("#new-api-key").inner_text()
    assert re.fullmatch(r"hmc_[\w-]{40,}", key)

    api = page.context.browser.new_context()
    try:
        refused = api.request.get(f"{app_url}/api/v1/settings")
        assert refused.status == 401
        accepted = api.request.get(f"{app_url}/api/v1/settings", headers={"Authorization": f"Bearer {key}"})
        assert accepted.status == 200
        assert accepted.json() == {
            "name": "My workspace",
            "from_name": "Acme",
            "from_email": "hello@acme.io",
            "physical_address": "1 Main St, Springfield",
            "status": "paused",
            "public_url": "",
            "frequency_cap": 3,
            "sending_blocked": "",
            "timezone": "UTC",
            "retention_days": 90,
            "quiet_hours": None,
        }
        resumed = api.request.put(
            f"{app_url}/api/v1/settings", headers={"Authorization": f"Bearer {key}"}, data={"status": "active"}
        )
        assert resumed.status == 200
    finally:
        api.close()
    page.reload()
    expect(page.locator("#paused-banner")).to_have_count(0)
    expect(page.get_by_role("button", name="Pause workspace")).to_be_visible()

    page.get_by_role("button", name="Revoke").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Revoke key").click()
    expect(page.get_by_role("button", name="Revoke")).to_have_count(0)


def test_signed_out_cannot_reach_protected_pages(page, owner):
    for path in ("/", "/settings", "/events", "/campaigns", "/contacts"):
        page.goto(path)
        expect(page).to_have_url(re.compile(r"/signin/?(\?next=%2F\w*)?$"))  # back to the page once signed in
        expect(page.locator("#signed-in-as")).to_have_count(0)
