"""First run in production mode: PostgreSQL + Redis, several workers, owner sign-up through the browser."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import FIRST_PAGE_TIMEOUT_MS, TIMEOUT_MS, sign_in, sign_out
from tests.support.server import running_app

SIDEBAR = ["Dashboard", "Integrations", "Event Log", "Campaigns", "Contacts", "Messages", "Domains", "Settings"]


@pytest.fixture(scope="module")
def production_url(postgres_database):
    with (
        postgres_database() as database_url,
        running_app(
            "postgres-redis",
            {
                "DATABASE_URL": database_url,
                "REFLEX_REDIS_URL": "redis://127.0.0.1:6379/7",
            },
        ) as app,
    ):
        yield app


@pytest.fixture
def prod_page(browser, production_url):
    context = browser.new_context(base_url=production_url.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def test_owner_signs_up_signs_out_and_signs_in(prod_page, production_url):
    page = prod_page
    assert production_url.process_count() >= 3, "with Redis configured Reflex should run several workers"

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin/?$"))
    # several web workers and their background workers may still be starting on this 2-core machine
    expect(page.get_by_role("heading", name="Create the owner account")).to_be_visible(timeout=FIRST_PAGE_TIMEOUT_MS)

    email = f"owner-{uuid.uuid4().hex[:6]}@acme.io"
    page.fill("#email", email)
    page.fill("#password", "short")
    page.fill("#password_confirm", "short")
    page.get_by_role("button", name="Create the owner account").click()
    expect(page.locator("#auth-error")).to_contain_text("at least 10 characters")

    page.fill("#password", "a long enough password")
    page.fill("#password_confirm", "a long enough password")
    page.get_by_role("button", name="Create the owner account").click()
    expect(page.locator("#signed-in-as")).to_have_text(email)
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(page.locator("#checklist-remaining")).to_have_text("6 steps left before product events turn into emails.")
    expect(page.locator(".checklist-item").first).to_contain_text("Default From address set")
    nav = page.get_by_role("navigation", name="Main")
    for label in SIDEBAR:
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()

    page.reload()
    expect(page.locator("#signed-in-as")).to_have_text(email)

    sign_out(page)
    page.goto("/settings")
    expect(page).to_have_url(re.compile(r"/signin/?\?next=%2Fsettings$"))  # back there once signed in
    expect(page.locator("#settings-from-email")).to_have_count(0)

    page.fill("#email", email)
    page.fill("#password", "wrong password!")
    page.get_by_role("button", name="Sign in").click()
    # the refusal comes after an Argon2 check, on a 2-core machine running 5 web and 5 background workers
    expect(page.locator("#auth-error")).to_contain_text("do not match")

    sign_in(page, email, "a long enough password")
    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page.locator("#settings-from-email")).to_be_visible()
    page.get_by_role("link", name="Integrations", exact=True).click()
    expect(page.locator("#source-status")).to_have_text("Not connected")
