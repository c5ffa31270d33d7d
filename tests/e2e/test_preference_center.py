"""A recipient on a phone (390 px) opens the preference page from an email in the local outbox, opts out of
one topic with the keyboard, and the next email of that topic is refused (suppressed, saying why) while
another topic's is sent. The page is audited by axe-core, fits the phone and goes to the gallery."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import APIRequestContext, Page, expect

from humanic_app import routes
from humanic_app.services.samples import posthog_event
from tests.e2e import test_every_page as walk
from tests.e2e.test_every_page import check, open_page, signed_in
from tests.support.look import settled
from tests.support.waiting import wait_until
from tests.support.webhooks import post_like_posthog

RUN = uuid.uuid4().hex[:6]
EMAIL = f"lin.{RUN}@prefs.example"

contexts = walk.contexts


def _campaign(api: APIRequestContext, app_url: str, event: str, topic: str) -> None:
    document = {
        "name": f"{event} campaign",
        "trigger": {"event": event},
        "reentry": "every_time",
        "topic": topic,
        "steps": [{"delay": 0, "subject": f"News on {event}", "html": "<p>Hello {{ name }}</p>"}],
    }
    made = api.post(f"{app_url}/api/v1/campaigns", data=document)
    assert made.ok, made.text()
    assert api.post(f"{app_url}/api/v1/campaigns/{made.json()['id']}/activate").ok


def _fire(api: APIRequestContext, hook: str, event: str) -> None:
    assert post_like_posthog(hook, posthog_event(event=event, distinct_id=f"lin-{RUN}", email=EMAIL, name="Lin")) == 200


def _settled(api: APIRequestContext, app_url: str, subject: str, count: int) -> list[dict]:
    """The `count` emails with this subject once none is still scheduled."""

    def done() -> list[dict]:
        items = api.get(f"{app_url}/api/v1/messages", params={"to": EMAIL, "limit": 50}).json()["items"]
        mine = [m for m in items if m["subject"] == subject]
        return mine if len(mine) >= count and all(m["status"] not in ("scheduled", "sending") for m in mine) else []

    return wait_until(done, what=f"{count} settled emails '{subject}'")


def test_opt_out_of_one_topic_on_a_phone(contexts, browser, app_url, owner):
    page: Page = signed_in(contexts, browser, app_url, owner, "light", "phone")
    api = page.request
    assert api.put(
        f"{app_url}/api/v1/settings",
        data={"from_email": "hello@acme.io", "from_name": "Acme", "physical_address": "1 Main St, Springfield"},
    ).ok
    tips = api.post(f"{app_url}/api/v1/topics", data={"name": f"Product tips {RUN}"}).json()
    news = api.post(f"{app_url}/api/v1/topics", data={"name": f"Announcements {RUN}"}).json()
    source = api.post(f"{app_url}/api/v1/sources", data={"name": f"Prefs {RUN}"}).json()
    assert api.post(f"{app_url}/api/v1/sources/{source['id']}/activate").ok
    hook = source["webhook_url"].replace("http://testserver", app_url)
    _campaign(api, app_url, f"tip_{RUN}", tips["key"])
    _campaign(api, app_url, f"news_{RUN}", news["key"])

    _fire(api, hook, f"tip_{RUN}")
    first = _settled(api, app_url, f"News on tip_{RUN}", 1)[0]
    assert first["status"] == "sent"
    html = api.get(f"{app_url}/api/v1/messages/{first['id']}").json()["html"]
    link = re.search(r'href="[^"]*(/unsubscribe/[^"]+)"', html)
    assert link, "the footer carries the preference link"

    recipient = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="light")
    try:
        phone = recipient.new_page()  # the recipient: not signed in, no cookies
        phone.goto(app_url + link.group(1))
        expect(phone.get_by_role("heading", level=1)).to_contain_text("Your emails from")
        expect(phone.get_by_text(EMAIL)).to_be_visible()
        box = phone.get_by_role("checkbox", name=f"Product tips {RUN}")
        expect(box).to_be_checked()
        check(phone, "preference-page-light-phone")
        box.focus()
        phone.keyboard.press("Space")  # the keyboard is enough
        expect(box).not_to_be_checked()
        phone.get_by_role("button", name="Save choices").focus()
        phone.keyboard.press("Enter")
        expect(phone.get_by_role("status")).to_have_text("Your choices are saved.")
        expect(phone.get_by_role("checkbox", name=f"Product tips {RUN}")).not_to_be_checked()
        expect(phone.get_by_role("checkbox", name=f"Announcements {RUN}")).to_be_checked()
        check(phone, "preference-page-saved-light-phone")
    finally:
        recipient.close()
    in_the_dark = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    try:
        phone = in_the_dark.new_page()
        phone.goto(app_url + link.group(1))
        expect(phone.get_by_role("checkbox", name=f"Announcements {RUN}")).to_be_checked()
        check(phone, "preference-page-dark-phone")
    finally:
        in_the_dark.close()

    _fire(api, hook, f"tip_{RUN}")
    _fire(api, hook, f"news_{RUN}")
    news_sent = _settled(api, app_url, f"News on news_{RUN}", 1)
    assert news_sent[0]["status"] == "sent"
    refused = wait_until(
        lambda: [
            m
            for m in api.get(f"{app_url}/api/v1/messages", params={"to": EMAIL, "status": "suppressed"}).json()["items"]
        ],
        what="the tip refused",
    )
    assert f"opted out of the topic '{tips['key']}'" in refused[0]["last_error"]

    # the team sees the choice in the contact's dialog, and the topics in Settings
    open_page(page, routes.CONTACTS)
    page.fill("#contact-search", RUN)
    wait_until(
        lambda: page.get_by_role("button", name="Search").click() or page.locator(".contact-row").count() == 1,
        what="the contact listed",
    )
    page.locator(".contact-row").get_by_role("button", name=EMAIL).click()
    topics_list = page.get_by_role("dialog").locator("#contact-topics")
    expect(topics_list).to_contain_text(f"Product tips {RUN}: Opted out")
    expect(topics_list).to_contain_text(f"Announcements {RUN}: Subscribed")
    settled(page)
    check(page, "contacts-topics-light-phone", full_page=False)
    page.keyboard.press("Escape")
    open_page(page, routes.SETTINGS)
    tips_row = page.get_by_role("region", name="Topics").locator(".topic-row", has_text=f"product-tips-{RUN}")
    expect(tips_row.get_by_role("textbox")).to_have_value(f"Product tips {RUN}")
    expect(tips_row).to_contain_text("1 contact opted out")
    page.get_by_role("region", name="Topics").scroll_into_view_if_needed()
    check(page, "settings-topics-light-phone", full_page=False)


def test_topics_are_added_renamed_and_deleted_in_settings(contexts, browser, app_url, owner):
    """Settings → Topics in the browser: add, rename in place (the key stays; a clash is said at the row's
    own field), and Delete asks first, saying the opt-outs it forgets."""
    page: Page = signed_in(contexts, browser, app_url, owner, "dark", "desktop")
    open_page(page, routes.SETTINGS)
    region = page.get_by_role("region", name="Topics")
    region.get_by_label("New topic").fill(f"Webinars {RUN}")
    region.get_by_role("button", name="Add topic").click()
    expect(region.locator("#topic-saved")).to_contain_text(f"campaigns name it as webinars-{RUN}")
    region.get_by_label("New topic").fill(f"Release notes {RUN}")
    region.get_by_label("New topic").press("Enter")
    expect(region.get_by_role("textbox", name=f"Name of topic Release notes {RUN}")).to_be_visible()

    name = region.get_by_role("textbox", name=f"Name of topic Webinars {RUN}")
    name.fill(f"release notes {RUN}")
    region.get_by_role("button", name=f"Rename topic Webinars {RUN}").click()
    expect(name).to_have_attribute("aria-invalid", "true")
    described = page.locator("#" + name.get_attribute("aria-describedby"))
    expect(described).to_contain_text(f"Another topic is named release notes {RUN}")

    name.fill(f"Live sessions {RUN}")
    name.press("Enter")  # the keyboard is enough
    renamed = region.get_by_role("textbox", name=f"Name of topic Live sessions {RUN}")
    expect(renamed).to_have_value(f"Live sessions {RUN}")
    expect(region.locator("#topic-saved")).to_contain_text(f"campaigns still name it as webinars-{RUN}")
    expect(renamed).to_have_attribute("aria-invalid", "false")
    row = region.locator(".topic-row", has_text=f"webinars-{RUN}")
    expect(row.get_by_role("textbox")).to_have_value(f"Live sessions {RUN}")
    expect(row).to_contain_text("0 contacts opted out")
    settled(page)
    check(page, "settings-topics-rename-dark-desktop", full_page=False)

    region.get_by_role("button", name=f"Delete topic Live sessions {RUN}").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text(f"Delete the topic Live sessions {RUN}?")
    expect(dialog).to_contain_text("Its opt-outs go with it (0 contacts opted out)")
    dialog.get_by_role("button", name="Keep it").click()
    expect(renamed).to_be_visible()  # Keep it deletes nothing
    region.get_by_role("button", name=f"Delete topic Live sessions {RUN}").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete topic").click()
    expect(region.get_by_role("textbox", name=f"Name of topic Live sessions {RUN}")).to_have_count(0)
    expect(region.locator("#topic-saved")).to_contain_text("Topic deleted.")
