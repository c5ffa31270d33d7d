"""Before activation, in the browser: sending through Resend (the local fake) from a verified domain, a
campaign without a postal address is refused with the fix where Activate is — in the builder's activation
area and in the refusal —, activates once the address is set in Settings, and the DMARC notice (the fake DNS
publishes none) shows the record to copy without holding anything up. The area as a phone, a keyboard and a
screen reader meet it, in both themes, into the gallery. Settings → Sending says the environment's key wins
and offers no field to paste one nor Remove key. A fresh app of its own: Resend mode and the DNS server are
settings of the process."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from humanic_app import routes
from tests.e2e.helpers import FIRST_PAGE_TIMEOUT_MS, TIMEOUT_MS, sign_in
from tests.e2e.test_every_page import LOOKS, check
from tests.support.fake_dns import FakeDns
from tests.support.fake_resend import FakeResend
from tests.support.look import WIDTHS
from tests.support.server import RunningApp, create_owner, running_app

OWNER = ("owner@gate.test", "owner password 123")
DOMAIN = "mail.gate.test"
RECORD = f'_dmarc.{DOMAIN} TXT "v=DMARC1; p=none; rua=mailto:news@{DOMAIN}"'
CAMPAIGN = {
    "name": "Gate welcome",
    "trigger": {"event": "gate_signed_up"},
    "steps": [{"subject": "Welcome aboard", "html": "<p>Hello {{ name }}</p>"}],
}


@pytest.fixture(scope="module")
def gated() -> Iterator[RunningApp]:
    with (
        FakeResend() as resend,
        FakeDns() as dns,  # publishes nothing: every DMARC question is answered NXDOMAIN
        running_app(
            "activation",
            {"RESEND_API_KEY": resend.api_key, "RESEND_API_URL": resend.url, "HUMANIC_DNS_NAMESERVERS": dns.nameserver},
        ) as app,
    ):
        create_owner("activation", OWNER)
        resend.dns_published.add(DOMAIN)
        yield app


@pytest.fixture(scope="module")
def campaign_id(browser, gated) -> str:
    """A verified sending domain, a From address on it and a public https URL, but no postal address."""
    with _signed_in(browser, gated) as page:
        api = page.request
        assert api.put(
            f"{gated.url}/api/v1/settings",
            data={"from_email": f"news@{DOMAIN}", "public_url": "https://humanic.gate.test"},
        ).ok
        domain = api.post(f"{gated.url}/api/v1/domains", data={"name": DOMAIN}).json()
        assert api.post(f"{gated.url}/api/v1/domains/{domain['id']}/verify").json()["status"] == "verified"
        return str(api.post(f"{gated.url}/api/v1/campaigns", data=CAMPAIGN).json()["id"])


@contextlib.contextmanager
def _signed_in(browser, gated: RunningApp, theme: str = "light", width: str = "desktop") -> Iterator[Page]:
    context = browser.new_context(
        base_url=gated.url, viewport={"width": WIDTHS[width], "height": 900}, color_scheme=theme
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(routes.SIGN_IN, timeout=FIRST_PAGE_TIMEOUT_MS)
        sign_in(page, *OWNER)
        yield page
    finally:
        context.close()


def _open_campaign(page: Page) -> None:
    page.goto(routes.CAMPAIGNS)
    page.locator(".campaign-row", has_text=CAMPAIGN["name"]).get_by_role("button", name="Edit").click()
    expect(page.locator("#campaign-builder")).to_be_visible()


@pytest.mark.parametrize(("theme", "width"), LOOKS)
def test_the_activation_area_looks(browser, gated, campaign_id, theme, width):
    with _signed_in(browser, gated, theme, width) as page:
        readiness = page.request.get(f"{gated.url}/api/v1/campaigns/{campaign_id}/readiness").json()
        assert [b["field"] for b in readiness["blockers"]] == ["physical_address"], readiness
        _open_campaign(page)
        expect(page.locator(".activation-blocker")).to_have_count(1)
        expect(page.locator("#dmarc-warning")).to_contain_text(RECORD)
        page.locator("#activation-area").scroll_into_view_if_needed()
        check(page, f"campaign-activation-{theme}-{width}")


def test_refused_for_the_postal_address_then_activated_once_it_is_set(browser, gated, campaign_id):
    with _signed_in(browser, gated) as page:
        _refused_then_activated(page)


def _refused_then_activated(page: Page) -> None:
    _open_campaign(page)
    blockers = page.locator("#activation-blockers")
    expect(blockers).to_contain_text("No physical mailing address")
    expect(blockers).to_contain_text("Settings → Physical mailing address")
    expect(blockers.get_by_role("link", name="Open Settings")).to_have_attribute("href", routes.SETTINGS)
    notice = page.locator("#dmarc-warning")
    expect(notice).to_contain_text(f"{DOMAIN} has no DMARC record")
    expect(notice).to_contain_text(RECORD)
    expect(notice.get_by_role("button", name="Copy the DMARC record")).to_be_visible()

    page.locator("#activate-campaign").click()
    refusal = page.locator("#campaigns-error")
    expect(refusal).to_contain_text("Cannot activate yet. No physical mailing address")
    expect(refusal.get_by_role("link", name="Open Settings")).to_have_attribute("href", routes.SETTINGS)
    expect(page.locator(".campaign-row", has_text=CAMPAIGN["name"])).to_contain_text("draft")

    blockers.get_by_role("link", name="Open Settings").click()
    page.get_by_label("Physical mailing address").fill("1 Gate Street, Springfield")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#settings-saved")).to_contain_text("Settings saved.")

    _open_campaign(page)
    expect(page.locator("#activation-blockers")).to_have_count(0)
    expect(page.locator("#dmarc-warning")).to_contain_text(RECORD)  # a warning: it holds nothing up
    page.locator("#activate-campaign").click()
    expect(page.locator("#campaigns-message")).to_contain_text(f"{CAMPAIGN['name']} is now active.")
    expect(page.locator(".campaign-row", has_text=CAMPAIGN["name"])).to_contain_text("active")
    expect(page.locator("#campaigns-error")).to_have_count(0)
    expect(page.locator("#dmarc-warning")).to_contain_text(RECORD)


def test_settings_says_the_environments_key_wins_and_offers_no_edit(browser, gated, campaign_id):
    """After `campaign_id` set the public URL: the note on Resend's webhook then names its long endpoint."""
    with _signed_in(browser, gated, "light", "phone") as page:
        page.goto(routes.SETTINGS)
        section = page.get_by_role("region", name="Sending", exact=True)
        expect(section.locator("#sending-key-line")).to_contain_text(
            "Emails go out through Resend with the key from the server's environment (RESEND_API_KEY)"
        )
        expect(section).to_contain_text("RESEND_API_KEY is set in the server's environment and wins over a key set")
        expect(section.get_by_role("button", name="Test connection")).to_be_visible()
        expect(section.get_by_label("Resend API key")).to_have_count(0)
        expect(section.get_by_label("Replace the Resend API key")).to_have_count(0)
        expect(section.get_by_role("button", name="Save and test key")).to_have_count(0)
        expect(section.get_by_role("button", name="Remove key")).to_have_count(0)
        callouts = section.locator(".rt-CalloutRoot")
        expect(callouts.first).to_be_visible()
        sticking_out = (
            "callouts => callouts.filter(c => { const edge = c.getBoundingClientRect().right;"
            " return [...c.querySelectorAll('*')].some(e => e.getBoundingClientRect().right > edge + 1); })"
            ".map(c => c.textContent)"
        )
        assert callouts.evaluate_all(sticking_out) == []  # a note with the webhook's URL wraps at 390 px
        section.scroll_into_view_if_needed()
        check(page, "settings-sending-environment-light-phone", full_page=False)
