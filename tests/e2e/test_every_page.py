"""Every page, as a phone, a keyboard, a screen reader and a reviewer meet it: in light and dark mode, at
1280 px and 390 px, signed in and signed out, and signed in at 768 px. Each page must not scroll sideways,
axe-core must find no serious or critical WCAG 2.2 AA violation, at 768 and 1280 px no text may be cut off
without a title and no boxes overlap, and each look is written to the screenshot gallery
(.test-runs/screens; `make screens` copies it to docs/screens)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from humanic_app import routes
from tests.e2e.helpers import TIMEOUT_MS
from tests.support.contrast import edge_contrast, focus_ring
from tests.support.look import (
    WIDTHS,
    cut_off_text,
    overlapping,
    serious_violations,
    settled,
    shot,
    sideways_scroll,
    stretched_forms,
    wider_than_window,
)

SIGNED_IN_PAGES = {
    "dashboard": routes.DASHBOARD,
    "integrations": routes.INTEGRATIONS,
    "event-log": routes.EVENT_LOG,
    "campaigns": routes.CAMPAIGNS,
    "contacts": routes.CONTACTS,
    "messages": routes.MESSAGES,
    "domains": routes.DOMAINS,
    "settings": routes.SETTINGS,
}
LOOKS = [(theme, width) for theme in ("light", "dark") for width in WIDTHS]


def check(page: Page, name: str, *, full_page: bool = True) -> None:
    """The page as it is now: no sideways scrolling, no serious accessibility finding; then its picture. A
    dialog still fading in would be audited (and pictured) half transparent, its colours blended: wait it out."""
    settled(page)
    shot(page, name, full_page=full_page)
    assert sideways_scroll(page) == 0, f"{name} scrolls sideways; wider than the window: {wider_than_window(page)}"
    assert serious_violations(page) == [], name
    assert stretched_forms(page) == [], f"{name}: a form stretched past its fields"


def check_layout(page: Page, name: str) -> None:
    """Where there is room for the sidebar (768 px and up): no text cut off without a title to read it
    whole, no boxes lying over each other."""
    assert cut_off_text(page) == [], f"{name}: text cut off with no title"
    assert overlapping(page) == [], f"{name}: boxes overlap"


@pytest.fixture(scope="module")
def contexts(browser, app_url, owner) -> Iterator[dict[tuple[str, str], BrowserContext]]:
    """One signed-in browser per look, shared by this module's pages (each sign-in costs an Argon2 hash)."""
    opened: dict[tuple[str, str], BrowserContext] = {}
    yield opened
    for context in opened.values():
        context.close()


def signed_in(contexts, browser, app_url, owner, theme: str, width: str) -> Page:
    if (theme, width) not in contexts:
        context = browser.new_context(
            base_url=app_url, viewport={"width": WIDTHS[width], "height": 900}, color_scheme=theme
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto(routes.SIGN_IN)
        page.fill("#email", owner[0])
        page.fill("#password", owner[1])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()
        contexts[(theme, width)] = context
    return contexts[(theme, width)].pages[0]


def open_page(page: Page, path: str) -> None:
    page.goto(path)
    expect(page.locator("main h1").first).to_be_visible()
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize(("theme", "width"), LOOKS)
@pytest.mark.parametrize("name", list(SIGNED_IN_PAGES))
def test_signed_in_page(contexts, browser, app_url, owner, name, theme, width):
    page = signed_in(contexts, browser, app_url, owner, theme, width)
    open_page(page, SIGNED_IN_PAGES[name])
    check(page, f"{name}-{theme}-{width}")
    if width == "desktop":
        check_layout(page, f"{name}-{theme}-{width}")


@pytest.mark.parametrize(("theme", "width"), LOOKS)
def test_sign_in_page(browser, app_url, owner, theme, width):
    context = browser.new_context(
        base_url=app_url, viewport={"width": WIDTHS[width], "height": 900}, color_scheme=theme
    )
    try:
        page = context.new_page()
        page.goto(routes.SIGN_IN)
        expect(page.get_by_role("heading", name="Sign in to Humanic")).to_be_visible()
        check(page, f"sign-in-{theme}-{width}")
    finally:
        context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_phone_menu_drawer(contexts, browser, app_url, owner, theme):
    """At 390 px the sidebar is a drawer: Menu opens it with focus inside, Escape closes it and focus returns."""
    page = signed_in(contexts, browser, app_url, owner, theme, "phone")
    open_page(page, routes.DASHBOARD)
    expect(page.locator(".sidebar")).to_be_hidden()
    menu = page.get_by_role("button", name="Menu")
    menu.focus()
    page.keyboard.press("Enter")
    drawer = page.locator("#menu-drawer")
    expect(drawer).to_be_visible()
    expect(drawer.get_by_role("link", name="Campaigns")).to_be_visible()
    expect(drawer.locator("#menu-signed-in-as")).to_have_text(owner[0])
    # slid in fully (a polled wait_for_function string is eval'd in the page, which its CSP refuses)
    expect(drawer).to_be_in_viewport(ratio=0.99)
    check(page, f"menu-drawer-{theme}-phone", full_page=False)
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(menu).to_be_focused()
    menu.click()
    drawer.get_by_role("link", name="Campaigns").click()
    expect(page.get_by_role("heading", level=1, name="Campaigns")).to_be_visible()
    expect(page.locator("#menu-drawer")).to_be_hidden()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page_fits_a_tablet(browser, app_url, owner, theme):
    """768 px is where the sidebar comes back beside the page (548 px left for it): nothing may stick out,
    be cut off or lie over something else."""
    context = browser.new_context(base_url=app_url, viewport={"width": 768, "height": 1000}, color_scheme=theme)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(routes.SIGN_IN)
        page.fill("#email", owner[0])
        page.fill("#password", owner[1])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()
        expect(page.locator(".sidebar")).to_be_visible()
        for name, path in SIGNED_IN_PAGES.items():
            open_page(page, path)
            check(page, f"{name}-{theme}-tablet")
            check_layout(page, f"{name}-{theme}-tablet")
    finally:
        context.close()


# What a keyboard reaches on every page before its content: enough stops to pass the sidebar into the page.
TAB_STOPS = 40
# The edge of every kind of form control Radix draws: text fields and areas, selects, and the unchecked
# checkbox, radio and switch (checked ones are filled with the accent colour).
CONTROL_EDGES = (
    ".rt-TextFieldRoot.rt-variant-surface, .rt-TextAreaRoot.rt-variant-surface, .rt-SelectTrigger.rt-variant-surface,"
    " .rt-BaseCheckboxRoot.rt-variant-surface[data-state='unchecked'],"
    " .rt-BaseRadioRoot.rt-variant-surface[data-state='unchecked'],"
    " .rt-SwitchRoot.rt-variant-surface[data-state='unchecked']"
)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_focus_is_visible_at_3_to_1_on_every_page(contexts, browser, app_url, owner, theme):
    """WCAG 2.2's visible focus, which axe does not check: Tab through each page; every stop draws a ring of
    at least 2 px whose colour stands 3:1 against what lies under it."""
    page = signed_in(contexts, browser, app_url, owner, theme, "desktop")
    faint: list[str] = []
    for name, path in SIGNED_IN_PAGES.items():
        open_page(page, path)
        page.locator("main h1").first.click()  # start from the page, not the address bar
        for _ in range(TAB_STOPS):
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement === document.body"):
                continue
            ring = focus_ring(page)
            if ring["width"] < 2 or ring["ratio"] < 3:
                faint.append(f"{name}: {ring['what']} ring {ring['width']}px at {ring['ratio']:.2f}:1")
    assert faint == [], sorted(set(faint))


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_form_control_edges_stand_3_to_1(contexts, browser, app_url, owner, theme):
    """WCAG 1.4.11: a field's, select's, checkbox's or switch's edge is what shows where it is; at 3:1."""
    page = signed_in(contexts, browser, app_url, owner, theme, "desktop")
    faint: list[str] = []
    seen = 0
    for name, path in SIGNED_IN_PAGES.items():
        open_page(page, path)
        for control in page.locator(CONTROL_EDGES).all():
            if not control.is_visible():
                continue
            seen += 1
            edge = edge_contrast(control)
            if edge["ratio"] < 3:
                faint.append(f"{name}: {edge['what']} at {edge['ratio']:.2f}:1")
    assert seen >= 10, "the pages' forms were not found"
    assert faint == [], sorted(set(faint))


def test_the_layout_checks_see_cut_off_text_and_overlap(browser):
    """The two checks above on a page made to fail them, and on its fixed copy: text cut by an ellipsis with
    no title, and a label lying over a button, are named; the same text with a title, and the boxes apart,
    are not."""
    page = browser.new_page(viewport={"width": 768, "height": 600})
    try:
        page.set_content(
            '<div style="display:flex;width:300px">'
            '<p id="cut" style="width:80px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap">'
            "a rather long campaign name that does not fit</p>"
            '<p id="whole" title="a rather long campaign name that does not fit" style="width:80px;'
            'overflow:hidden;text-overflow:ellipsis;white-space:nowrap">'
            "a rather long campaign name that does not fit</p>"
            "</div>"
            '<div><span id="label" style="display:inline-block;width:120px">Status</span>'
            '<button id="over" style="margin-left:-60px">Pause</button></div>'
        )
        assert [line.split(" ")[0] for line in cut_off_text(page)] == ["p#cut."]
        assert [line.split(" and ")[0] for line in overlapping(page)] == ["span#label"]
        page.evaluate(
            "() => { document.getElementById('over').style.marginLeft = '8px';"
            " document.getElementById('cut').title = 'the whole name'; }"
        )
        assert cut_off_text(page) == [] and overlapping(page) == []
    finally:
        page.close()


def test_the_form_check_sees_a_form_stretched_past_its_fields(browser):
    """A search form with a row's flex basis, put in a column, is as tall as the basis: named. The same form
    in a row, or without the basis, is not."""
    page = browser.new_page(viewport={"width": 390, "height": 800})
    try:
        page.set_content(
            '<div id="column" style="display:flex;flex-direction:column">'
            '<form id="search" aria-label="Filter emails" style="flex:1 1 320px">'
            '<label>Recipient <input name="to"></label><button>Filter</button></form>'
            "<p>No messages yet</p></div>"
        )
        assert [line.split(" ")[0] for line in stretched_forms(page)] == ["form#search[Filter"]
        page.evaluate("() => { document.getElementById('column').style.flexDirection = 'row'; }")
        assert stretched_forms(page) == []
    finally:
        page.close()
