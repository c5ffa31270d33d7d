"""Small steps shared by the browser journeys, and how long they wait.

Every wait follows the slowest legitimate path, not the typical one: signing up or in hashes a password
with Argon2 (64 MiB, three passes), and on the PostgreSQL + Redis app that happens in one of several web
workers sharing two cores with their background workers, the browser and whatever else the machine runs.
Idle, that takes well under a second; with every core busy it takes several seconds, past the 5 s
Playwright's expect() waits by default. A wait only costs its full length when the test is about to fail
anyway."""

import base64

from playwright.sync_api import Locator, Page, expect

from tests.support.waiting import wait_until

# Playwright actions (click, fill, goto) and `expect` assertions; tests/e2e/conftest.py sets both defaults.
TIMEOUT_MS = 20_000
# The first page of a freshly started app: its workers may still be starting (and compiling) after /ping answers.
FIRST_PAGE_TIMEOUT_MS = 30_000
# The shared app's Resend webhook signing secret: journeys post Resend's delivery events signed with it.
RESEND_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"humanic e2e: resend webhook key.").decode()


def write_html(card: Locator, html: str) -> None:
    """Writes an email step's HTML by hand: a new email starts as blocks, so its HTML choice comes first."""
    card.get_by_role("radio", name="HTML").click()
    card.locator("textarea.step-html, .step-html textarea").fill(html)


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/signin")
    expect(page.get_by_role("heading", name="Sign in to Humanic")).to_be_visible()
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signed-in-as")).to_have_text(email)


def open_menu_if_narrow(page: Page) -> None:
    """Below 768 px the pages and the account controls sit in a drawer behind the top bar's Menu button."""
    menu = page.locator("#menu-button")
    if menu.is_visible():
        menu.click()
        expect(page.locator("#menu-drawer")).to_be_visible()


def sign_out(page: Page) -> None:
    open_menu_if_narrow(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Humanic")).to_be_visible()


def rendered_subjects(page: Page, app_url: str, to: str, *, at_least: int, timeout_s: float) -> list[str]:
    """The sorted subjects of the emails to `to`, once at least `at_least` of them exist and each is rendered:
    a subject is filled in when its email is sent, and until then the email's row has an empty one."""

    def subjects() -> list[str]:
        mails = page.request.get(f"{app_url}/api/v1/messages", params={"to": to}).json()["items"]
        return sorted(m["subject"] for m in mails)

    wait_until(
        lambda: len(found := subjects()) >= at_least and all(found),
        what=f"{at_least} rendered emails to {to}",
        timeout_s=timeout_s,
    )
    return subjects()
