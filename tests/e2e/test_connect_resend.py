"""Connecting Resend from Settings, as a marketer does it, on an app started without RESEND_API_KEY and pointed
at the local fake Resend: paste the key, Test connection, Humanic's webhook registered, verify a domain, send
a test email that reaches the fake (the running worker picks the key up without a restart), Resend's
delivered event through the registered webhook, the campaign activated and a PostHog event enrolling a
contact whose email reaches the fake too, then Remove key back to the local outbox with its banner.
The Sending section's looks (connected and not, 1280 and 390 px) go to the gallery."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from humanic_app import routes
from humanic_app.services.samples import posthog_event
from tests.e2e.helpers import FIRST_PAGE_TIMEOUT_MS, TIMEOUT_MS, write_html
from tests.e2e.test_every_page import LOOKS, check
from tests.support.fake_resend import FakeResend
from tests.support.look import WIDTHS
from tests.support.server import RunningApp, create_owner, running_app
from tests.support.waiting import wait_until
from tests.support.webhooks import path_of, post_like_posthog

NAME = "connect-resend"
OWNER = ("owner@connect.test", "owner password 123")
DOMAIN = "mail.connect.test"
PUBLIC = "https://humanic.connect.test"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeResend]:
    with FakeResend() as fake:
        yield fake


@pytest.fixture(scope="module")
def fresh(fake) -> Iterator[RunningApp]:
    with running_app(NAME, {"RESEND_API_URL": fake.url}) as app:
        create_owner(NAME, OWNER)
        yield app


def _context(browser, fresh: RunningApp, width: str, theme: str = "light") -> BrowserContext:
    context = browser.new_context(
        base_url=fresh.url, viewport={"width": WIDTHS[width], "height": 900}, color_scheme=theme
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


def _signed_in(context: BrowserContext) -> Page:
    page = context.new_page()
    page.goto(routes.SIGN_IN)
    expect(page.get_by_role("heading", name="Sign in to Humanic")).to_be_visible(timeout=FIRST_PAGE_TIMEOUT_MS)
    page.fill("#email", OWNER[0])
    page.fill("#password", OWNER[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()
    return page


def _sending(page: Page):
    page.goto(routes.SETTINGS)
    section = page.get_by_role("region", name="Sending", exact=True)
    expect(section.get_by_text("Loading…")).to_have_count(0)
    return section


def _looks(browser, fresh: RunningApp, name: str) -> None:
    for theme, width in LOOKS:
        context = _context(browser, fresh, width, theme)
        try:
            page = _signed_in(context)
            section = _sending(page)
            section.scroll_into_view_if_needed()
            page.wait_for_load_state("networkidle")
            check(page, f"settings-sending-{name}-{theme}-{width}")
        finally:
            context.close()


def test_connect_resend_verify_a_domain_and_send(browser, fresh, fake):
    context = _context(browser, fresh, "desktop")
    try:
        page = _signed_in(context)
        settings = page.request.put(
            "/api/v1/settings",
            data={"public_url": PUBLIC, "from_email": f"hello@{DOMAIN}", "physical_address": "1 Main St"},
        )
        assert settings.ok, settings.text()
        section = _sending(page)
        expect(section.locator("#sending-local-outbox")).to_be_visible()

        # A wrong key is refused at its field and not kept.
        key_field = section.get_by_label("Resend API key")
        key_field.fill("re_not_the_right_key")
        section.get_by_role("button", name="Save and test key").click()
        expect(section.locator("#sending-api-key-error")).to_contain_text("Resend refused this key")
        expect(key_field).to_have_attribute("aria-invalid", "true")

        key_field.fill(fake.api_key)
        section.get_by_role("button", name="Save and test key").click()
        expect(section.locator("#sending-done")).to_contain_text("full access")
        expect(section.locator("#sending-key-line")).to_contain_text("set on this page")
        expect(section.locator("#sending-access")).to_have_text("Full access")
        (hook,) = fake.webhooks.values()
        assert hook["endpoint"] == PUBLIC + "/api/webhooks/resend"
        expect(section.locator("#sending-webhook")).to_contain_text(hook["endpoint"])
        assert fake.api_key not in page.content()

        section.get_by_role("button", name="Test connection").click()
        expect(section.locator("#sending-done")).to_contain_text("Connected: this key has full access")

        # Domains now works against the account the key belongs to.
        page.goto(routes.DOMAINS)
        page.get_by_label("Domain of your From address").fill(DOMAIN)
        page.get_by_role("button", name="Add domain").click()
        fake.dns_published.add(DOMAIN)
        page.get_by_role("button", name=f"Verify {DOMAIN}").click()
        expect(page.get_by_role("region", name="Sending domains")).to_contain_text("Verified")

        # A test send goes out through Resend: the running worker picked the key up without a restart.
        page.goto(routes.CAMPAIGNS)
        page.get_by_role("button", name="Blank").click()
        page.fill("#campaign-name", "Connected")
        page.fill("#trigger-event", "connected_event")
        page.locator("input.step-subject, .step-subject input").fill("Hello from Resend")
        write_html(page.locator(".step-card").first, "<p>Hello</p>")
        page.fill("#test-to", "me@example.com")
        page.locator("#send-test").click()
        expect(page.locator("#test-send-result")).to_contain_text("Test email queued to me@example.com")
        sent = wait_until(
            lambda: next((e for e in list(fake.sent) if "me@example.com" in e["to"]), None),
            what="the test email reaching the fake Resend",
        )
        assert sent["from"].endswith(f"<hello@{DOMAIN}>") or sent["from"] == f"hello@{DOMAIN}"

        # Resend's event, signed with the secret Humanic captured when it registered its webhook.
        payload = {
            "type": "email.delivered",
            "created_at": "2026-12-02T12:00:00Z",
            "data": {"email_id": sent["id"], "to": ["me@example.com"]},
        }
        body, headers = fake.signed_event(payload)
        answer = httpx.post(f"{fresh.url}/api/webhooks/resend", content=body, headers=headers, timeout=10)
        assert answer.status_code == 200 and answer.json() == {"result": "recorded"}, answer.text

        # The campaign itself: saved, activated from the builder, and a PostHog event enrols a contact whose
        # email goes out through Resend like the test send.
        page.locator("#save-campaign").click()
        expect(page.locator("#campaign-message")).to_have_text("Saved.")
        page.locator("#activate-campaign").click()
        expect(page.locator("#campaigns-message")).to_contain_text("Connected is now active.")
        source = page.request.post("/api/v1/sources", data={"name": "Connected"}).json()
        assert page.request.post(f"/api/v1/sources/{source['id']}/activate").ok
        event = posthog_event(event="connected_event", distinct_id="enrolled_1", email="enrolled@example.com")
        assert post_like_posthog(fresh.url + path_of(source), event) == 200
        enrolled = wait_until(
            lambda: next((e for e in list(fake.sent) if "enrolled@example.com" in e["to"]), None),
            what="the campaign's email reaching the fake Resend",
        )
        assert enrolled["subject"] == "Hello from Resend", enrolled

        _looks(browser, fresh, "connected")

        # Remove key: back to the local outbox, said on Settings and on Messages.
        section = _sending(page)
        section.get_by_role("button", name="Remove key").click()
        page.get_by_role("alertdialog").get_by_role("button", name="Remove key").click()
        expect(section.locator("#sending-local-outbox")).to_be_visible()
        expect(section.locator("#sending-done")).to_contain_text("local outbox")
        assert fake.webhooks == {}
        page.goto(routes.MESSAGES)
        expect(page.locator("#local-outbox-banner")).to_be_visible()
        _looks(browser, fresh, "local")
    finally:
        context.close()
