"""Journey: a campaign's emails go out (local outbox), Resend's signed delivery events come back, one complaint
crosses the pause line: the campaign and all sending pause, Settings and Campaigns say why with the numbers,
and Resume (in Settings → Sending reputation) restarts the count so the old complaint never pauses it again.
The section passes the accessibility check at 1280 and 390 px in both themes and goes to the gallery."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import APIRequestContext, Page, expect

from humanic_app import routes
from humanic_app.services import signing
from humanic_app.services.samples import posthog_event
from tests.e2e.helpers import RESEND_WEBHOOK_SECRET
from tests.e2e.test_every_page import LOOKS, check, contexts, open_page, signed_in  # noqa: F401  (contexts: fixture)
from tests.support.server import RunningApp, create_owner, running_app
from tests.support.waiting import wait_until
from tests.support.webhooks import post_like_posthog

EMAILS = 10  # the minimum volume this journey sets, so ten delivered emails make a rate
NAME = "reputation"


# Its own app: the workspace's rate counts every email of the workspace, and the pause it causes holds every
# other journey's sending, so this journey cannot share the suite's app.
@pytest.fixture(scope="module")
def own_app() -> Iterator[RunningApp]:
    with running_app(NAME, {"RESEND_WEBHOOK_SECRET": RESEND_WEBHOOK_SECRET}) as app:
        yield app


@pytest.fixture(scope="module")
def app_url(own_app: RunningApp) -> str:
    return own_app.url


@pytest.fixture(scope="module")
def owner(own_app: RunningApp) -> tuple[str, str]:
    return create_owner(NAME, ("owner@reputation.test", "owner password 123"))


def _resend_event(api: APIRequestContext, app_url: str, kind: str, email_id: str) -> None:
    """What Resend posts through Svix: signed on the raw body with the endpoint's secret."""
    body = json.dumps({"type": kind, "created_at": "2026-12-02T12:00:00.000Z", "data": {"email_id": email_id}})
    msg_id, stamp = f"msg_{uuid.uuid4().hex}", int(time.time())
    headers = {
        "svix-id": msg_id,
        "svix-timestamp": str(stamp),
        "svix-signature": signing.sign(
            secret=RESEND_WEBHOOK_SECRET, msg_id=msg_id, timestamp=stamp, body=body.encode()
        ),
        "content-type": "application/json",
    }
    answer = api.post(f"{app_url}/api/webhooks/resend", data=body, headers=headers)
    assert answer.status == 200, answer.text()


def _set_lines(page: Page, **values: str) -> None:
    section = page.get_by_role("region", name="Sending reputation")
    for label, value in values.items():
        section.get_by_label(label).fill(value)
    section.get_by_role("button", name="Save lines").click()


def test_complaints_pause_a_campaign_until_resume(contexts, browser, app_url, owner):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    api = page.request
    tag = uuid.uuid4().hex[:6]
    assert api.put(
        f"{app_url}/api/v1/settings", data={"from_email": "hello@acme.io", "physical_address": "1 Main St, Springfield"}
    ).ok
    source = api.post(f"{app_url}/api/v1/sources", data={"name": f"Reputation {tag}"}).json()
    assert api.post(f"{app_url}/api/v1/sources/{source['id']}/activate").ok
    document = {
        "name": f"Winback {tag}",
        "trigger": {"event": f"winback_{tag}"},
        "steps": [{"subject": "We miss you", "html": "<p>Come back</p>"}],
    }
    campaign = api.post(f"{app_url}/api/v1/campaigns", data=document).json()
    assert api.post(f"{app_url}/api/v1/campaigns/{campaign['id']}/activate").ok

    open_page(page, routes.SETTINGS)
    section = page.get_by_role("region", name="Sending reputation")
    _set_lines(page, **{"Complaints: pause at (%)": "0.05"})  # under its warning line (0.1 %): refused at the field
    expect(section.locator("#reputation-complaint-pause-pct-error")).to_contain_text("at or above the warning line")
    expect(section.get_by_label("Complaints: pause at (%)")).to_have_attribute("aria-invalid", "true")
    _set_lines(page, **{"Complaints: pause at (%)": "0.3", "Minimum volume (emails delivered or bounced)": str(EMAILS)})
    expect(section.locator("#reputation-saved")).to_contain_text("Lines saved.")

    hook = source["webhook_url"].replace("http://testserver", app_url)
    for n in range(EMAILS):
        event = posthog_event(event=f"winback_{tag}", distinct_id=f"rep_{tag}_{n}", email=f"rep{n}.{tag}@example.com")
        assert post_like_posthog(hook, event) == 200

    def sent() -> list[dict]:
        query = f"campaign_id={campaign['id']}&status=sent&limit=100"
        return api.get(f"{app_url}/api/v1/messages?{query}").json()["items"]

    emails = wait_until(lambda: len(found := sent()) == EMAILS and found, what=f"{EMAILS} emails sent")
    for email in emails:
        _resend_event(api, app_url, "email.delivered", email["provider_message_id"])
    assert api.get(f"{app_url}/api/v1/campaigns/{campaign['id']}").json()["status"] == "active"  # 0 of 10
    _resend_event(api, app_url, "email.complained", emails[0]["provider_message_id"])

    cause = f"10 % complaints (1 of {EMAILS} delivered or bounced) in the last 24 h, over 0.3 %"
    open_page(page, routes.SETTINGS)
    expect(page.locator("#sending-blocked-banner")).to_contain_text(f"All sending paused: {cause}")
    paused = section.locator(".reputation-paused", has_text=f"Winback {tag}")
    expect(paused).to_contain_text(f"Campaign “Winback {tag}” paused: {cause}.")
    expect(section.locator(".reputation-row", has_text=f"Winback {tag}")).to_contain_text("Paused")
    for theme, width in LOOKS:
        look = signed_in(contexts, browser, app_url, owner, theme, width)
        open_page(look, routes.SETTINGS)
        region = look.get_by_role("region", name="Sending reputation")
        expect(region.locator(".reputation-paused", has_text=f"Winback {tag}")).to_be_visible()
        region.scroll_into_view_if_needed()
        check(look, f"settings-reputation-paused-{theme}-{width}")

    open_page(page, routes.CAMPAIGNS)
    expect(page.get_by_text(f"Campaign “Winback {tag}” paused: {cause}.").first).to_be_visible()  # banner, finding

    open_page(page, routes.SETTINGS)
    paused.get_by_role("button", name="Resume").click()
    expect(paused).to_have_count(0)
    row = section.locator(".reputation-row", has_text=f"Winback {tag}")
    expect(row).to_contain_text("since Resume")
    expect(row).to_contain_text("Too few emails")  # the old delivered emails and the complaint no longer count
    section.locator(".reputation-paused", has_text="All sending paused").get_by_role("button", name="Resume").click()
    expect(page.locator("#sending-blocked-banner")).to_have_count(0)
    assert api.get(f"{app_url}/api/v1/campaigns/{campaign['id']}").json()["status"] == "active"

    _resend_event(api, app_url, "email.bounced", emails[1]["provider_message_id"])  # checked: the old ones are gone
    assert api.get(f"{app_url}/api/v1/campaigns/{campaign['id']}").json()["status"] == "active"
    assert api.get(f"{app_url}/api/v1/settings").json()["sending_blocked"] == ""

    # leave the shared app as the other journeys expect it
    _set_lines(page, **{"Minimum volume (emails delivered or bounced)": "200"})
    expect(section.locator("#reputation-saved")).to_contain_text("Lines saved.")
    assert api.post(f"{app_url}/api/v1/campaigns/{campaign['id']}/archive").ok
