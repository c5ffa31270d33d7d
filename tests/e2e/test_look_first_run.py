"""The pages only a fresh install shows, as a phone, a keyboard and a screen reader meet them: "Create the
owner account" (no user yet), a teammate's "Choose your password", and Domains with a domain and its DNS
records (Resend configured, against the local fake). A fresh app of its own: the session's shared app already
has its owner and sends through the local outbox. Uses the walk's checks and writes the same gallery."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from humanic_app import routes
from tests.e2e.helpers import FIRST_PAGE_TIMEOUT_MS, TIMEOUT_MS
from tests.e2e.test_every_page import LOOKS, check
from tests.support.fake_resend import FakeResend
from tests.support.look import WIDTHS
from tests.support.server import RunningApp, running_app

OWNER = ("owner@first-look.test", "owner password 123")
TEAMMATE = ("teammate@first-look.test", "temporary password 1")
DOMAIN = "mail.first-look.test"


@pytest.fixture(scope="module")
def fresh() -> Iterator[RunningApp]:
    with (
        FakeResend() as fake,
        running_app("first-look", {"RESEND_API_KEY": fake.api_key, "RESEND_API_URL": fake.url}) as app,
    ):
        yield app


def _context(browser, fresh: RunningApp, theme: str, width: str) -> BrowserContext:
    context = browser.new_context(
        base_url=fresh.url, viewport={"width": WIDTHS[width], "height": 900}, color_scheme=theme
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


def _sign_in(page: Page, email: str, password: str) -> None:
    """Through the form's labels: each field must be named by the label above it."""
    page.goto(routes.SIGN_IN)
    expect(page.get_by_role("heading", level=1, name="Sign in to Humanic")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def look(browser, fresh, request) -> Iterator[Page]:
    theme, width = request.param
    context = _context(browser, fresh, theme, width)
    try:
        yield context.new_page()
    finally:
        context.close()


# Order matters: the owner form shows only until the owner exists, which the test after it creates.
@pytest.mark.parametrize("look", LOOKS, indirect=True, ids=[f"{t}-{w}" for t, w in LOOKS])
def test_owner_sign_up_page(look, fresh):
    page = look
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin/?"))
    expect(page.get_by_role("heading", level=1, name="Create the owner account")).to_be_visible(
        timeout=FIRST_PAGE_TIMEOUT_MS
    )
    expect(page.locator("h1")).to_have_count(1)
    for label in ("Email", "Password (at least 10 characters)", "Repeat the password"):
        expect(page.get_by_label(label, exact=True)).to_be_editable()
    check(page, f"owner-sign-up-{_look_name(page)}")


def test_owner_signs_up_and_invites_a_teammate(browser, fresh):
    context = _context(browser, fresh, "light", "desktop")
    try:
        page = context.new_page()
        page.goto(routes.SIGN_IN)
        expect(page.get_by_role("heading", name="Create the owner account")).to_be_visible(
            timeout=FIRST_PAGE_TIMEOUT_MS
        )
        page.get_by_label("Email", exact=True).fill(OWNER[0])
        page.get_by_label("Password (at least 10 characters)", exact=True).fill(OWNER[1])
        page.get_by_label("Repeat the password", exact=True).fill(OWNER[1])
        page.get_by_role("button", name="Create the owner account").click()
        expect(page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()
        page.goto(routes.SETTINGS)
        page.get_by_label("Teammate's email").fill(TEAMMATE[0])
        page.get_by_label("Temporary password (10+ characters)").fill(TEAMMATE[1])
        page.get_by_role("button", name="Invite user").click()
        expect(page.locator("#invite-message")).to_contain_text(TEAMMATE[0])
        page.goto(routes.DOMAINS)
        page.get_by_label("Domain of your From address").fill(DOMAIN)
        page.get_by_role("button", name="Add domain").click()
        expect(page.locator(".dns-record")).to_have_count(
            4
        )  # SPF MX, SPF TXT, DKIM, and the DMARC Resend does not return
    finally:
        context.close()


@pytest.mark.parametrize("look", LOOKS, indirect=True, ids=[f"{t}-{w}" for t, w in LOOKS])
def test_choose_password_page(look):
    page = look
    _sign_in(page, *TEAMMATE)
    expect(page.get_by_role("heading", level=1, name="Choose your password")).to_be_visible()
    expect(page.locator("h1")).to_have_count(1)
    for label in ("New password (at least 10 characters)", "Repeat the new password"):
        expect(page.get_by_label(label, exact=True)).to_be_editable()
    check(page, f"choose-password-{_look_name(page)}")


@pytest.mark.parametrize("look", LOOKS, indirect=True, ids=[f"{t}-{w}" for t, w in LOOKS])
def test_domains_with_records(look):
    page = look
    _sign_in(page, *OWNER)
    expect(page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()
    page.goto(routes.DOMAINS)
    expect(page.locator(".dns-record")).to_have_count(4)  # SPF MX, SPF TXT, DKIM, and the DMARC Resend does not return
    expect(page.get_by_role("region", name="Sending domains")).to_contain_text(DOMAIN)
    expect(page.get_by_role("button", name=f"Verify {DOMAIN}")).to_be_visible()
    expect(page.locator("h1")).to_have_count(1)
    page.wait_for_load_state("networkidle")
    check(page, f"domains-records-{_look_name(page)}")


def _look_name(page: Page) -> str:
    dark = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    viewport = page.viewport_size
    assert viewport is not None
    return f"{'dark' if dark else 'light'}-{'phone' if viewport['width'] < 768 else 'desktop'}"
