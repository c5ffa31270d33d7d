"""Composing an email of blocks in the builder on a phone: from a blank campaign, every simple block kind
added and filled in place, one moved, a missing alt text refused at its field, then saved and previewed at
390 px with the design checks listed under the email; the screen passes axe and goes to the gallery."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from humanic_app import routes
from humanic_app.services.samples import posthog_event
from tests.e2e.test_every_page import check, contexts, open_page, signed_in  # noqa: F401 (fixture)
from tests.support.look import shot
from tests.support.webhooks import post_like_posthog


def _add_block(page: Page, step, kind: str) -> None:
    step.locator("#step-0-block-kind").click()
    page.get_by_role("option", name=kind, exact=True).click()
    step.get_by_role("button", name="Add the block to step 1").click()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_compose_an_email_of_blocks_on_a_phone(contexts, browser, app_url, owner, theme):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, theme, "phone")
    open_page(page, routes.CAMPAIGNS)
    if page.locator("#back-to-campaigns").count():
        page.locator("#back-to-campaigns").click()
    mark = uuid.uuid4().hex[:8]
    name = f"Blocks {mark}"
    page.get_by_role("button", name="Blank campaign").click()
    page.fill("#campaign-name", name)
    page.fill("#trigger-event", f"blocks_{mark}")
    step = page.locator(".step-card").first
    step.locator("input.step-subject, .step-subject input").fill("Welcome, {{ name | default('there') }}")

    expect(step.get_by_role("radio", name="Blocks")).to_be_checked()  # a new email starts as blocks:
    blocks = step.locator(".email-block")
    expect(blocks).to_have_count(3)  # a heading, a text and a button, rewritten here
    page.fill("#step-0-block-0-text", "Hello {{ name | default('there') }}")
    page.fill("#step-0-block-1-markdown", "Thanks for joining **Northwind**.")
    page.fill("#step-0-block-2-label", "Open your dashboard")
    page.fill("#step-0-block-2-url", "https://northwind.example/dashboard")
    _add_block(page, step, "Image")
    page.fill("#step-0-block-3-url", f"{app_url}/favicon.ico")
    page.fill("#step-0-block-3-width", "64")
    _add_block(page, step, "Divider")
    _add_block(page, step, "Spacer")
    page.fill("#step-0-block-5-height", "32")
    expect(blocks).to_have_count(6)
    step.get_by_role("button", name="Move block 5 of step 1 up").click()  # the divider above the image
    expect(blocks.nth(3)).to_have_attribute("data-kind", "divider")

    page.locator("#save-campaign").click()  # the image has no alt text yet: refused, at the field
    expect(page.locator("#step-0-block-4-alt-error")).to_have_text("Required.")
    expect(page.locator("#step-0-block-4-alt")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".builder-error")).to_contain_text("Step 1 · Block 5 · Alt text")
    page.fill("#step-0-block-4-alt", "The Northwind logo")
    page.locator("#save-campaign").click()
    expect(page.locator("#campaign-message")).to_contain_text("Saved.")

    saved = next(c for c in page.request.get(f"{app_url}/api/v1/campaigns").json() if c["name"] == name)
    steps = saved["document"]["steps"]
    assert [b["type"] for b in steps[0]["blocks"]] == ["heading", "paragraph", "button", "divider", "image", "spacer"]
    assert "html" not in steps[0]

    page.locator("#render-preview").click()
    email = page.frame_locator("#preview-html").locator("body")
    expect(email).to_contain_text("Hello Ada")
    expect(email).to_contain_text("Thanks for joining Northwind.")
    expect(email.get_by_role("link", name="Open your dashboard")).to_have_attribute(
        "href", "https://northwind.example/dashboard"
    )
    expect(email.get_by_role("img", name="The Northwind logo")).to_have_count(1)
    checks = page.locator("#preview-checks")
    expect(checks).to_contain_text("Every image has alt text")
    expect(checks).to_contain_text("Every link is absolute")
    expect(checks.locator(".preview-check-failed")).to_have_count(0)
    step.scroll_into_view_if_needed()
    check(page, f"campaigns-block-editor-{theme}-phone")


def _pick(page: Page, picker: str, option: str) -> None:
    """Chooses from a select (the variables picker, a column's Add a block) with the keyboard: focus, open,
    type to the option, Enter."""
    page.locator(picker).focus()
    page.keyboard.press("Enter")
    page.get_by_role("option", name=option).first.wait_for()
    page.get_by_role("option", name=option).first.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("listbox")).to_have_count(0)


@contextlib.contextmanager
def _sending_settings(page: Page, app_url: str) -> Iterator[None]:
    """A From address and a postal address, so a test send goes out; the journeys share one app with other
    files, so they are put back."""
    api = page.request
    before = api.get(f"{app_url}/api/v1/settings").json()
    changes = {"from_email": "hello@northwind.example", "physical_address": "1 Main St, Springfield"}
    assert api.put(f"{app_url}/api/v1/settings", data=changes).ok
    try:
        yield
    finally:
        restore = {"from_email": before["from_email"], "physical_address": before["physical_address"]}
        assert api.put(f"{app_url}/api/v1/settings", data=restore).ok


def _latest_event(page: Page, app_url: str, trigger: str, mark: str) -> None:
    """One received event of the trigger, from a contact whose company the picker should offer."""
    api = page.request
    source = api.post(f"{app_url}/api/v1/sources", data={"name": f"Design {mark}"}).json()
    assert api.post(f"{app_url}/api/v1/sources/{source['id']}/activate").ok
    hook = source["webhook_url"].replace("http://testserver", app_url)
    body = posthog_event(
        event=trigger,
        distinct_id=f"design_{mark}",
        email=f"grace.{mark}@example.com",
        name="Grace",
        properties={"company": "Northwind Labs"},
    )
    assert post_like_posthog(hook, body) == 200


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_compose_every_kind_insert_a_variable_preview_dark_on_a_phone_and_send_it(
    contexts,  # noqa: F811
    browser,
    app_url,
    owner,
    theme,
):
    page = signed_in(contexts, browser, app_url, owner, theme, "phone")
    with _sending_settings(page, app_url):
        _compose_preview_and_send(page, app_url, theme)


def _compose_preview_and_send(page: Page, app_url: str, theme: str) -> None:
    mark = uuid.uuid4().hex[:8]
    trigger = f"design_{mark}"
    _latest_event(page, app_url, trigger, mark)
    open_page(page, routes.CAMPAIGNS)
    if page.locator("#back-to-campaigns").count():
        page.locator("#back-to-campaigns").click()
    page.get_by_role("button", name="Blank campaign").click()
    page.fill("#campaign-name", f"Design {mark}")
    page.fill("#trigger-event", trigger)
    expect(page.locator("#preview-event")).to_contain_text(trigger)  # the latest matching event is previewed
    step = page.locator(".step-card").first

    # the picker lists what that event and contact have, and inserts a reference with a fallback
    step.locator("input.step-subject, .step-subject input").fill("Welcome,")
    _pick(page, "#step-0-subject-variable", "name · Grace")
    expect(step.locator("input.step-subject, .step-subject input")).to_have_value(
        "Welcome, {{ name | default('there') }}"
    )
    page.fill("#step-0-block-0-text", "Hello")
    _pick(page, "#step-0-block-0-text-variable", "company · Northwind Labs")
    expect(page.locator("#step-0-block-0-text")).to_have_value("Hello {{ company | default('') }}")
    page.fill("#step-0-block-1-markdown", "Thanks for joining **us**.")
    page.fill("#step-0-block-2-label", "Open your dashboard")
    page.fill("#step-0-block-2-url", "https://northwind.example/dashboard")
    for kind in ("Image", "Divider", "Spacer", "Two columns", "Raw HTML"):
        _add_block(page, step, kind)
    page.fill("#step-0-block-3-url", f"{app_url}/favicon.ico")
    page.fill("#step-0-block-3-alt", "The Northwind logo")
    page.fill("#step-0-block-3-width", "64")
    page.fill("#step-0-block-7-html", "<p>Raw words from an expert</p>")

    # two columns, edited in place: the left one's text, and a button added to the right one
    columns = step.locator(".email-block[data-kind='columns']")
    page.fill("#step-0-block-6-columns-0-0-markdown", "Left column text")
    _pick(page, "#step-0-block-6-columns-1-add", "Button")
    expect(columns.locator(".email-column-1 .column-block")).to_have_count(2)
    page.fill("#step-0-block-6-columns-1-1-label", "Right button")
    page.fill("#step-0-block-6-columns-1-1-url", "https://northwind.example/right")
    step.get_by_role("button", name="Remove block 1 of the right column of block 7 of step 1").click()
    expect(columns.locator(".email-column-1 .column-block")).to_have_count(1)

    page.locator("#save-campaign").click()
    expect(page.locator("#campaign-message")).to_contain_text("Saved.")
    saved = next(c for c in page.request.get(f"{app_url}/api/v1/campaigns").json() if c["name"] == f"Design {mark}")
    blocks = saved["document"]["steps"][0]["blocks"]
    assert [b["type"] for b in blocks] == [
        "heading", "paragraph", "button", "image", "divider", "spacer", "columns", "html"
    ]  # fmt: skip
    assert blocks[6]["columns"] == [
        [{"type": "paragraph", "markdown": "Left column text", "align": "left"}],
        [{"type": "button", "label": "Right button", "url": "https://northwind.example/right"}],
    ]

    # preview at a phone's width in the email's dark colours, on that event
    page.locator("#preview-width").get_by_text("Phone (390 px)").click()
    page.locator("#preview-scheme").get_by_text("Dark").click()
    frame_element = page.locator("#preview-html")
    expect(frame_element).to_have_attribute("data-scheme", "dark")
    expect(frame_element).to_have_attribute("data-width", "phone")
    email = page.frame_locator("#preview-html").locator("body")
    expect(email).to_contain_text("Hello Northwind Labs")
    expect(email).to_contain_text("Left column text")
    expect(email).to_contain_text("Raw words from an expert")
    expect(email.get_by_role("link", name="Right button")).to_have_attribute("href", "https://northwind.example/right")
    expect(email.get_by_role("link", name="Unsubscribe")).to_have_count(1)
    expect(email).to_contain_text("1 Main St, Springfield")
    frame_box = frame_element.bounding_box()
    left, right = email.get_by_text("Left column text").bounding_box(), email.get_by_role("link", name="Right button")
    right_box = right.bounding_box()
    assert frame_box and left and right_box and frame_box["width"] <= 390
    assert right_box["y"] > left["y"] + left["height"] - 1  # at a phone's width the columns stack, as in a phone
    # the email's own dark rules apply: its background is the dark one, not white
    expect(email).to_have_css("background-color", "rgb(17, 19, 23)")
    expect(page.locator("#preview-subject")).to_have_text("Subject: Welcome, Grace")
    previewed = " ".join(email.inner_text().split())
    check(page, f"campaigns-email-design-{theme}-phone")
    page.locator("#preview-html").scroll_into_view_if_needed()
    shot(page, f"campaigns-email-design-preview-{theme}-phone", full_page=False)
    columns.scroll_into_view_if_needed()
    shot(page, f"campaigns-email-design-columns-{theme}-phone", full_page=False)

    # a test of exactly that, to an address; on Messages with the same subject and text
    to = f"design.{mark}@example.com"
    page.fill("#test-to", to)
    page.locator("#send-test").click()
    expect(page.locator("#test-send-result")).to_contain_text(f"Test email queued to {to}")
    page.goto(routes.MESSAGES)
    page.get_by_placeholder("Recipient email").fill(to)
    page.get_by_role("button", name="Filter").click()
    row = page.locator(".message-row", has_text=to)
    expect(row).to_contain_text("sent")
    row.get_by_role("button", name="View").click()
    expect(page.locator("#message-subject")).to_have_text("[Test] Welcome, Grace")  # a test says so
    sent = page.frame_locator("#message-html").locator("body")
    expect(sent).to_contain_text("Hello Northwind Labs")
    assert " ".join(sent.inner_text().split()) == previewed
