"""Journey: two Event Log tabs show new deliveries live; a row opens its payload, headers and mapping."""

import time
import uuid

from playwright.sync_api import expect

from humanic_app.services.samples import posthog_event
from tests.e2e.helpers import TIMEOUT_MS, sign_in
from tests.support.webhooks import post_like_posthog


def _create_source(page, name: str) -> str:
    page.goto("/integrations")
    page.fill("#source-name", name)  # source names are unique
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("#integrations-message")).to_contain_text("Source created")  # else: the last URL shown
    return page.locator("#webhook-url").inner_text()


def test_new_events_appear_in_every_open_tab(signed_in_page, browser, app_url, owner):
    first = signed_in_page
    url = _create_source(first, "Live log")
    first.goto("/events")
    expect(first.get_by_role("heading", name="Event Log")).to_be_visible()

    other_context = browser.new_context(base_url=app_url)
    second = other_context.new_page()
    sign_in(second, *owner)
    second.goto("/events")
    expect(second.get_by_role("heading", name="Event Log")).to_be_visible()
    # Both tabs have loaded their first page once a delivery shows in each, so what arrives next can only
    # reach them live, through their polling.
    settled = f"live_settled_{int(time.time())}"
    assert post_like_posthog(url, posthog_event(event=settled, distinct_id="live-0")) == 200
    for tab in (first, second):
        expect(tab.locator(".event-row", has_text=settled)).to_be_visible()

    marker = f"live_check_{int(time.time())}"
    assert (
        post_like_posthog(
            url, posthog_event(event=marker, distinct_id="live-1", email="live@example.com", properties={"plan": "pro"})
        )
        == 200
    )
    assert post_like_posthog(url, {"event": {"uuid": "x"}}) == 422
    for tab in (first, second):
        expect(tab.locator(".event-row", has_text=marker)).to_be_visible()
        expect(tab.locator(".event-row", has_text="rejected").first).to_be_visible()
    expect(first.locator(".event-row", has_text=marker)).to_contain_text("processed")

    first.locator(".event-row", has_text=marker).click()
    expect(first.locator("#detail-payload")).to_contain_text('"plan": "pro"')
    first.get_by_role("tab", name="Mapped result").click()
    expect(first.locator("#detail-mapped")).to_contain_text("live@example.com")
    other_context.close()


def test_contacts_search_and_timeline(signed_in_page):
    page = signed_in_page
    url = _create_source(page, "Contacts journey")
    grace = f"grace_{uuid.uuid4().hex[:8]}"  # a contact of this test alone: the search must find exactly one
    assert (
        post_like_posthog(
            url,
            posthog_event(event="user_signed_up", distinct_id=grace, email=f"{grace}@example.com", name="Grace Hopper"),
        )
        == 200
    )
    page.goto("/contacts")
    page.fill("#contact-search", grace)
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:  # processing runs just after the webhook answered; search until it has
        page.get_by_role("button", name="Search").click()
        try:
            expect(page.locator(".contact-row")).to_have_count(1, timeout=500)
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
    page.locator(".contact-row").first.click()
    expect(page.locator("#contact-email")).to_have_text(f"{grace}@example.com")
    expect(page.locator("#contact-identities")).to_contain_text(grace)
    expect(page.locator("#contact-timeline")).to_contain_text("user_signed_up")

    page.locator("#contact-events-link").click()  # the contact's events, filtered in the Event Log
    expect(page.get_by_role("heading", name="Event Log")).to_be_visible()
    expect(page.locator(".event-row")).to_have_count(1)
    expect(page.locator(".event-row").first).to_contain_text(f"{grace}@example.com")
    for key in (f"{grace.upper()}@example.com", grace):  # the filter takes an email (any case) or a distinct_id
        page.fill("#contact-filter", key)
        page.get_by_role("button", name="Filter", exact=True).click()
        expect(page.locator(".event-row")).to_have_count(1)
        expect(page.locator(".event-row").first).to_contain_text("user_signed_up")
    field = page.locator("#contact-filter")
    field.evaluate("el => { el.humanicTyped = true }")  # gone if the answer remounts the field
    field.fill("nobody@example.com")
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(page.locator("#event-log-error")).to_contain_text("No contact has the id, email or distinct_id")
    # The answer to a filter leaves the field alone: remounting it would put the submitted text back over
    # whatever was typed while the answer was on its way.
    assert field.evaluate("el => el.humanicTyped === true")
    expect(field).to_have_value("nobody@example.com")
    expect(page.locator(".event-row")).to_have_count(0)


def test_manual_suppression_from_the_contacts_page(signed_in_page):
    page = signed_in_page
    page.goto("/contacts")
    page.fill("#suppress-email", "Blocked@Example.com")
    page.get_by_role("button", name="Suppress", exact=True).click()
    row = page.locator(".suppression-row", has_text="blocked@example.com")
    expect(row).to_contain_text("manual")
    row.get_by_role("button", name="Remove").click()
    expect(page.locator(".suppression-row", has_text="blocked@example.com")).to_have_count(0)
