"""The journey builder's add-step menu while it is open, as a keyboard and a screen reader meet it: axe finds
nothing serious with the menu showing, it opens on its first item and arrow keys move through the rest, and
Escape closes it and puts focus back on the button that opened it. Checked like every page and written to the
gallery."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from humanic_app import routes
from tests.e2e.test_every_page import LOOKS, check, contexts, open_page, signed_in  # noqa: F401 (fixture)
from tests.support.look import settled


@pytest.mark.parametrize(("theme", "width"), LOOKS)
def test_add_step_menu_open(contexts, browser, app_url, owner, theme, width):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, theme, width)
    open_page(page, routes.CAMPAIGNS)
    if page.locator("#back-to-campaigns").count():  # the builder stays open across pages: this tab opened one
        page.locator("#back-to-campaigns").click()
    page.get_by_role("button", name="Use Re-engagement").click()
    add = page.get_by_role("button", name="Add a step after step 1")
    add.focus()
    page.keyboard.press("Enter")
    menu = page.get_by_role("menu")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("menuitem", name="Wait for event")).to_be_visible()
    settled(page)
    check(page, f"journey-add-step-menu-{theme}-{width}", full_page=False)
    items = menu.get_by_role("menuitem")
    expect(items.first).to_be_focused()  # opened by keyboard: on its first item
    page.keyboard.press("ArrowDown")
    expect(items.nth(1)).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    expect(add).to_be_focused()
