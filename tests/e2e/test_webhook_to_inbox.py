"""Journey: a PostHog-shaped webhook fires the onboarding campaign and the welcome email appears in
Messages, rendered as the recipient sees it (local outbox: no RESEND_API_KEY)."""

from playwright.sync_api import expect

from humanic_app.services.campaigns import library
from humanic_app.services.samples import posthog_event
from tests.support.campaign_world import linear
from tests.support.webhooks import post_like_posthog


def test_event_to_email_in_messages(signed_in_page, app_url):
    page = signed_in_page
    api = page.request
    assert api.put(
        f"{app_url}/api/v1/settings",
        data={"from_email": "hello@acme.io", "from_name": "Acme", "physical_address": "1 Main St, Springfield"},
    ).ok
    source = api.post(f"{app_url}/api/v1/sources", data={"name": "Inbox journey"}).json()
    assert api.post(f"{app_url}/api/v1/sources/{source['id']}/activate").ok
    document = library.in_workspace(linear("onboarding-activation"), "Acme")  # four emails written at once
    document["name"] = "Onboarding (inbox journey)"
    campaign = api.post(f"{app_url}/api/v1/campaigns", data=document).json()
    assert api.post(f"{app_url}/api/v1/campaigns/{campaign['id']}/activate").ok

    hook = source["webhook_url"].replace("http://testserver", app_url)
    assert (
        post_like_posthog(
            hook,
            posthog_event(event="user_signed_up", distinct_id="inbox_1", email="grace.inbox@example.com", name="Grace"),
        )
        == 200
    )
    page.goto("/messages")
    expect(page.locator("#local-outbox-banner")).to_contain_text("nothing leaves this machine")
    row = page.locator(".message-row", has_text="Welcome to Acme, Grace")
    expect(row).to_contain_text("sent")
    expect(page.locator(".message-row", has_text="grace.inbox@example.com").filter(has_text="scheduled")).to_have_count(
        3
    )
    row.get_by_role("button", name="View").click()
    expect(page.locator("#message-subject")).to_have_text("Welcome to Acme, Grace")
    frame = page.frame_locator("#message-html")
    expect(frame.locator("body")).to_contain_text("Thanks for signing up")
    expect(frame.locator("body")).to_contain_text("1 Main St, Springfield")
    page.keyboard.press("Escape")  # the email opens in a dialog over the list
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.get_by_role("link", name="Domains", exact=True).click()
    expect(page.locator("#domains-not-needed")).to_contain_text("no sending domain is needed")
