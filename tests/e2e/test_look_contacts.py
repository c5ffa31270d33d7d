"""Contacts, filled and with a contact open: the list uses the page's whole width, its tables are the app's
data_table, and a contact opens in a dialog over the list (focus returned, Escape closes) that fits a 390 px
phone; each look audited by axe-core at 1280 and 390 px, light and dark, and written to the gallery."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from humanic_app import routes
from humanic_app.services.samples import posthog_event
from tests.e2e import test_every_page as walk
from tests.e2e.test_every_page import LOOKS, check, open_page, signed_in
from tests.support.look import WIDTHS, settled
from tests.support.webhooks import post_like_posthog

RUN = uuid.uuid4().hex[:6]
# Long on purpose: the dialog must fit a phone with an address and identities this long.
EMAIL = f"margaret.hamilton.{RUN}@apollo-guidance-computer.example"
DISTINCT_ID = f"margaret_{RUN}_0123456789abcdef0123456789abcdef"


contexts = walk.contexts  # the walk's fixture: one signed-in browser per look, for this module


@pytest.fixture(scope="module")
def contact(contexts, browser, app_url, owner) -> str:
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    source = page.request.post(f"{app_url}/api/v1/sources", data={"name": f"Look contacts {RUN}"}).json()
    assert page.request.post(f"{app_url}/api/v1/sources/{source['id']}/activate").ok
    hook = source["webhook_url"].replace("http://testserver", app_url)
    event = posthog_event(event="look_contact_seen", distinct_id=DISTINCT_ID, email=EMAIL, name="Margaret Hamilton")
    assert post_like_posthog(hook, event) == 200
    _contacts(page)
    return EMAIL


def _contacts(page: Page) -> None:
    """The page searched for this module's contact (processing runs just after the webhook answered, so the
    search is repeated until it has)."""
    open_page(page, routes.CONTACTS)
    page.fill("#contact-search", RUN)
    search = page.get_by_role("button", name="Search")
    for _ in range(40):
        search.click()
        try:
            expect(page.locator(".contact-row")).to_have_count(1, timeout=500)
            return
        except AssertionError:
            continue
    expect(page.locator(".contact-row")).to_have_count(1)


def test_the_list_uses_the_whole_width(contexts, browser, app_url, owner, contact):
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    _contacts(page)
    main = page.locator("main").bounding_box()
    table = page.locator("#contacts-table").bounding_box()
    assert main and table
    inner = main["width"] - 64  # the page's padding at this width: 32 px a side
    assert table["width"] >= inner - 2, (table, main)
    expect(page.get_by_role("region", name="Contacts")).to_be_visible()  # the app's data_table frame


def test_a_contact_opens_in_a_dialog_over_the_list(contexts, browser, app_url, owner, contact):
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    _contacts(page)
    row = page.locator(".contact-row")
    cell = row.get_by_role("cell").nth(2).bounding_box()  # anywhere on the row opens it
    assert cell
    page.mouse.click(cell["x"] + cell["width"] / 2, cell["y"] + cell["height"] / 2)
    view = page.get_by_role("dialog")
    expect(view.locator("#contact-email")).to_have_text(EMAIL)
    expect(view.locator("#contact-identities")).to_contain_text(DISTINCT_ID)
    expect(view.locator("#contact-timeline")).to_contain_text("look_contact_seen")
    expect(view).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(view).to_have_count(0)

    opener = row.get_by_role("button", name=EMAIL)
    opener.focus()
    page.keyboard.press("Enter")
    expect(view.locator("#contact-email")).to_have_text(EMAIL)
    view.get_by_role("button", name="Close").click()
    expect(view).to_have_count(0)
    expect(opener).to_be_focused()


@pytest.mark.parametrize(("theme", "width"), LOOKS)
def test_contacts_look(contexts, browser, app_url, owner, contact, theme, width):
    """The filled list and the open contact, in both themes and widths: nothing sideways, nothing serious."""
    page = signed_in(contexts, browser, app_url, owner, theme, width)
    _contacts(page)
    check(page, f"contacts-filled-{theme}-{width}")
    page.locator(".contact-row").get_by_role("button", name=EMAIL).click()
    view = page.get_by_role("dialog")
    expect(view.locator("#contact-timeline")).to_contain_text("look_contact_seen")
    box = view.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= WIDTHS[width], box
    overflowing = view.evaluate(
        "v => [...v.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > "
        "v.getBoundingClientRect().right + 1 && !e.closest('.data-table')).map(e => e.tagName + '.' + e.className)"
    )
    assert overflowing == [], overflowing
    settled(page)
    check(page, f"contacts-view-{theme}-{width}", full_page=False)
    page.keyboard.press("Escape")
    expect(view).to_have_count(0)
