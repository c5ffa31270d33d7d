"""Browser tests: the real app in real Debian Chromium, driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.server import running_app

CHROMIUM = os.environ.get("HUMANIC_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    """One SQLite-backed app for the journeys; each journey uses its own accounts where it needs them."""
    with running_app("sqlite") as app:
        yield app.url


@pytest.fixture
def page(browser, app_url) -> Iterator[Page]:
    context = browser.new_context(base_url=app_url, viewport={"width": 1366, "height": 800})
    context.set_default_timeout(20_000)
    pg = context.new_page()
    yield pg
    context.close()
