"""Settings as it looks once it holds something (a teammate with a long address, an active API key) in both
themes at 1280 and 390 px, and its confirm dialog as a keyboard and a screen reader meet it: axe finds
nothing serious with the dialog open, focus starts and stays inside it, Escape closes it and focus returns to
the button that opened it. Uses the walk's own checks and writes the same gallery."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from playwright.sync_api import Page, expect

from humanic_app import routes
from tests.e2e.test_every_page import LOOKS, check, contexts, open_page, signed_in  # noqa: F401  (contexts: fixture)


@dataclasses.dataclass(frozen=True)
class Filled:
    teammate: str
    key: str


def one_h1(page: Page) -> None:
    """Sections are h2 under the page's one h1 (screen-reader users jump between headings by level)."""
    expect(page.locator("h1")).to_have_count(1)


@pytest.fixture(scope="module")
def filled(contexts, browser, app_url, owner) -> Filled:  # noqa: F811  (contexts: the walk's fixture)
    """A teammate whose address is longer than a phone is wide, and an active API key, made through the page.
    The last test revokes the key: other journeys expect no active key but their own."""
    tag = uuid.uuid4().hex[:6]
    made = Filled(teammate=f"a-teammate-with-a-rather-long-address-{tag}@example-company.io", key=f"look-{tag}")
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    open_page(page, routes.SETTINGS)
    page.get_by_label("Teammate's email").fill(made.teammate)
    page.get_by_label("Temporary password (10+ characters)").fill("temporary password 1")
    page.get_by_role("button", name="Invite user").click()
    expect(page.locator("#invite-message")).to_contain_text(made.teammate)
    page.get_by_label("Key name").fill(made.key)
    page.get_by_role("button", name="Create API key").click()
    expect(page.locator("#new-api-key")).to_be_visible()
    expect(page.get_by_role("button", name=f"Revoke {made.key}")).to_be_visible()
    return made


@pytest.mark.parametrize(("theme", "width"), LOOKS)
def test_settings_filled(contexts, browser, app_url, owner, filled, theme, width):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, theme, width)
    open_page(page, routes.SETTINGS)
    expect(page.get_by_role("region", name="Users").get_by_text(filled.teammate)).to_be_attached()
    expect(page.get_by_role("button", name=f"Revoke {filled.key}")).to_be_attached()
    one_h1(page)
    expect(page.get_by_role("heading", level=2, name="API keys")).to_be_visible()
    check(page, f"settings-filled-{theme}-{width}")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_confirm_dialog_keyboard(contexts, browser, app_url, owner, filled, theme):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, theme, "phone")
    open_page(page, routes.SETTINGS)
    trigger = page.get_by_role("button", name=f"Revoke {filled.key}")
    trigger.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("alertdialog", name=f"Revoke the key {filled.key}?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("refused (401) at once")
    expect(dialog.get_by_role("button", name="Keep it")).to_be_focused()  # the safe choice first
    expect(dialog).to_have_css("opacity", "1")  # opened: its fade-in is over before the audit and the picture
    check(page, f"confirm-dialog-{theme}-phone", full_page=False)
    inside = "document.querySelector('[role=alertdialog]').contains(document.activeElement)"
    for key in ("Tab", "Tab", "Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab"):
        page.keyboard.press(key)
        assert page.evaluate(inside), f"{key} left the dialog"
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(trigger).to_be_focused()
    expect(trigger).to_be_visible()  # Escape acted on nothing: the key is still active


def test_revoke_after_confirming(contexts, browser, app_url, owner, filled):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    open_page(page, routes.SETTINGS)
    page.get_by_role("button", name=f"Revoke {filled.key}").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Revoke key").click()
    expect(page.get_by_role("button", name=f"Revoke {filled.key}")).to_have_count(0)
    expect(page.get_by_role("row", name=filled.key)).to_contain_text("revoked")
