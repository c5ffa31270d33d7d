"""Messages, filled and with an email open, and the unsubscribe page a recipient reaches from it: the
campaign column, the message view as a dialog over the list (focus trapped and returned, Escape closes), no
empty placeholders for what a scheduled email does not have yet, the email's surround following the theme,
local-outbox mode not promising Resend's delivery events; each look audited by axe-core at 1280 and 390 px,
light and dark, and written to the gallery."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from humanic_app import routes
from humanic_app.services.samples import posthog_event
from tests.e2e import test_every_page as walk
from tests.e2e.helpers import TIMEOUT_MS
from tests.e2e.test_every_page import LOOKS, check, open_page, signed_in
from tests.support.look import WIDTHS, settled
from tests.support.waiting import wait_until
from tests.support.webhooks import post_like_posthog

RUN = uuid.uuid4().hex[:6]
WORKSPACE = f"Lumen {RUN}"
CAMPAIGN = f"Look welcome {RUN}"
RECIPIENT = f"ada.{RUN}@look.example"
TRIGGER = f"look_signed_up_{RUN}"  # no other journey's campaign fires on it
WELCOME = "Welcome to Lumen, Ada"


contexts = walk.contexts  # the walk's fixture: one signed-in browser per look, for this module


@pytest.fixture(scope="module")
def outbox(contexts, browser, app_url, owner) -> Iterator[dict]:
    """One campaign of this module's own, fired once: a welcome sent at once and a follow-up scheduled in
    two days, to an address no other journey uses. Settings are put back afterwards."""
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    api = page.request
    before = api.get(f"{app_url}/api/v1/settings").json()
    assert api.put(
        f"{app_url}/api/v1/settings",
        data={"name": WORKSPACE, "from_email": "hello@lumen.example", "physical_address": "1 Main St, Springfield"},
    ).ok
    source = api.post(f"{app_url}/api/v1/sources", data={"name": f"Look messages {RUN}"}).json()
    assert api.post(f"{app_url}/api/v1/sources/{source['id']}/activate").ok
    document = {
        "name": CAMPAIGN,
        "trigger": {"event": TRIGGER},
        "steps": [
            {"delay": 0, "subject": "Welcome to Lumen, {{ name }}", "html": "<p>Thanks for signing up.</p>"},
            {"delay": "2d", "subject": "Finish setting up", "html": "<p>One more step.</p>"},
        ],
    }
    campaign = api.post(f"{app_url}/api/v1/campaigns", data=document).json()
    assert api.post(f"{app_url}/api/v1/campaigns/{campaign['id']}/activate").ok
    hook = source["webhook_url"].replace("http://testserver", app_url)
    event = posthog_event(event=TRIGGER, distinct_id=f"ada_{RUN}", email=RECIPIENT, name="Ada")
    assert post_like_posthog(hook, event) == 200
    open_page(page, routes.MESSAGES)
    expect(page.locator(".message-row", has_text=RECIPIENT).filter(has_text="sent")).to_have_count(1)
    sent = api.get(f"{app_url}/api/v1/messages", params={"to": RECIPIENT, "status": "sent"}).json()["items"][0]
    html = api.get(f"{app_url}/api/v1/messages/{sent['id']}").json()["html"]
    yield {"unsubscribe": re.search(r"/unsubscribe/[^\"']+", html).group(0)}
    assert api.post(f"{app_url}/api/v1/campaigns/{campaign['id']}/archive").ok
    assert api.put(
        f"{app_url}/api/v1/settings",
        data={k: before[k] for k in ("name", "from_email", "physical_address")},
    ).ok


def _messages(page: Page) -> None:
    open_page(page, routes.MESSAGES)
    page.fill("#message-to", RECIPIENT)
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".message-row")).to_have_count(2)


def _row(page: Page, status: str):
    return page.locator(".message-row", has_text=RECIPIENT).filter(has=page.locator(".message-status", has_text=status))


def test_rows_name_their_campaign_and_a_scheduled_email_shows_only_what_it_has(
    contexts, browser, app_url, owner, outbox
):
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    _messages(page)
    expect(page.get_by_role("columnheader", name="Campaign")).to_be_visible()
    expect(_row(page, "sent").locator(".message-campaign")).to_have_text(f"{CAMPAIGN}Step 1")
    scheduled = _row(page, "scheduled")
    expect(scheduled.locator(".message-campaign")).to_have_text(f"{CAMPAIGN}Step 2")

    scheduled.get_by_role("button", name="View").click()
    view = page.get_by_role("dialog")
    expect(view.locator("#message-details")).to_contain_text("Due (UTC)")
    for placeholder in ("From", "via", "Provider id", "Sent (UTC)"):  # nothing known yet, so nothing shown
        expect(view.locator("#message-details")).not_to_contain_text(placeholder)
    expect(view.locator("#message-not-rendered")).to_contain_text("rendered when it is sent")
    expect(view.locator("#message-html")).to_have_count(0)
    settled(page)
    check(page, "messages-view-scheduled-light-desktop", full_page=False)


def test_a_message_opens_in_a_dialog_over_its_row(contexts, browser, app_url, owner, outbox):
    """Keyboard only: Enter on View opens the email over the list, Tab stays inside, Escape closes and
    focus is back on View. In local-outbox mode nothing speaks of Resend's delivery events."""
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    _messages(page)
    view_button = _row(page, "sent").get_by_role("button", name="View")
    view_button.focus()
    page.keyboard.press("Enter")
    view = page.get_by_role("dialog")
    expect(view.locator("#message-subject")).to_have_text(WELCOME)
    expect(view).to_be_in_viewport()
    box = view.bounding_box()
    assert box and box["y"] < 200, box  # over the list, not below it
    expect(page.frame_locator("#message-html").locator("body")).to_contain_text("Thanks for signing up")
    expect(view.locator("#message-details")).to_contain_text("hello@lumen.example")
    expect(view.locator("#message-details")).to_contain_text("Local outbox")
    expect(view).not_to_contain_text("Resend")
    expect(view.get_by_role("heading", name="Delivery events")).to_have_count(0)
    for _ in range(8):  # focus is trapped inside the dialog (the email's own links included)
        page.keyboard.press("Tab")
        wait_until(
            lambda: page.evaluate("!!document.activeElement.closest('[role=dialog]')"),
            timeout_s=5,
            what="focus back inside the dialog after Tab",
        )
    # Keys typed inside the email's sandboxed frame belong to the email; on the dialog itself Escape closes.
    view.get_by_role("button", name="Close").focus()
    page.keyboard.press("Escape")
    expect(view).to_have_count(0)
    expect(view_button).to_be_focused()


@pytest.mark.parametrize(("theme", "width"), LOOKS)
def test_message_view_look(contexts, browser, app_url, owner, outbox, theme, width):
    """The open email in both themes and widths: it fits, axe finds nothing serious, and the frame's surround
    is dark in dark mode (the email itself stays as designed, on white)."""
    page = signed_in(contexts, browser, app_url, owner, theme, width)
    _messages(page)
    check(page, f"messages-filled-{theme}-{width}")
    _row(page, "sent").get_by_role("button", name="View").click()
    view = page.get_by_role("dialog")
    expect(page.frame_locator("#message-html").locator("body")).to_contain_text("Thanks for signing up")
    box = view.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= WIDTHS[width], box
    surround = page.evaluate(
        "getComputedStyle(document.querySelector('.email-surround')).backgroundColor.match(/[\\d.]+/g)"
        ".slice(0, 3).reduce((a, b) => a + Number(b), 0) / 3"
    )
    assert (surround < 60) if theme == "dark" else (surround > 200), surround
    settled(page)
    check(page, f"messages-view-{theme}-{width}", full_page=False)
    page.keyboard.press("Escape")
    expect(view).to_have_count(0)


@pytest.mark.parametrize(("theme", "width"), LOOKS)
def test_unsubscribe_page_look(browser, app_url, outbox, theme, width):
    """What a recipient sees from the email's footer: the workspace's name, nothing sideways, nothing axe
    calls serious, in the recipient's light or dark scheme."""
    context = browser.new_context(
        base_url=app_url, viewport={"width": WIDTHS[width], "height": 800}, color_scheme=theme
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(outbox["unsubscribe"])
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Your emails from {WORKSPACE}")
        expect(page).to_have_title(re.compile(re.escape(WORKSPACE)))
        expect(page.get_by_role("button", name="Unsubscribe from all")).to_be_visible()
        check(page, f"unsubscribe-{theme}-{width}")
    finally:
        context.close()
