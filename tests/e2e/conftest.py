"""Browser tests: the real app in real Debian Chromium, driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.helpers import RESEND_WEBHOOK_SECRET, TIMEOUT_MS, sign_in
from tests.support.server import RunningApp, create_owner, running_app

CHROMIUM = os.environ.get("HUMANIC_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def app() -> Iterator[RunningApp]:
    """One SQLite-backed app for the journeys; each journey uses its own accounts where it needs them."""
    with running_app("sqlite", {"RESEND_WEBHOOK_SECRET": RESEND_WEBHOOK_SECRET}) as running:
        yield running


@pytest.fixture(scope="session")
def app_url(app) -> str:
    return app.url


@pytest.fixture
def page(browser, app_url) -> Iterator[Page]:
    context = browser.new_context(base_url=app_url, viewport={"width": 1366, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    yield pg
    context.close()


OWNER_EMAIL = "owner@acme.io"
OWNER_PASSWORD = "owner password 123"


@pytest.fixture(scope="session")
def owner(app_url) -> tuple[str, str]:
    """An owner created through the CLI against the running app's data dir, as an operator would."""
    return create_owner("sqlite", (OWNER_EMAIL, OWNER_PASSWORD))


@pytest.fixture
def signed_in_page(page, owner) -> Page:
    sign_in(page, *owner)
    return page
