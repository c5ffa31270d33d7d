"""Warm-up on the Domains page and the campaign builder's send rate, as a marketer, a keyboard and a screen
reader meet them: a verified domain shows day 1 of its ladder; a ladder that falls is refused at its field
(named, tied to it), a good one is saved; the switch turns warm-up off; the builder's "Emails per minute"
refuses what is not a whole number at the field and saves a rate into the campaign; with a ladder of one email
a day, the second of two enrolments waits, visibly: the Domains page says one email waits for tomorrow and the
Messages page shows it scheduled with "waiting (warm-up): …". Resend is the local fake, in a fresh app of its
own (the session's shared app sends through the local outbox). Each look is audited (axe), fits 390 px and goes
to the gallery."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from humanic_app import routes
from humanic_app.services.samples import posthog_event
from tests.e2e.helpers import FIRST_PAGE_TIMEOUT_MS, TIMEOUT_MS
from tests.e2e.test_every_page import LOOKS, check
from tests.support.fake_resend import FakeResend
from tests.support.look import WIDTHS
from tests.support.server import RunningApp, running_app
from tests.support.waiting import wait_until
from tests.support.webhooks import path_of, post_like_posthog

OWNER = ("owner@warmup.test", "owner password 123")
DOMAIN = "mail.warmup.test"


@pytest.fixture(scope="module")
def fresh() -> Iterator[tuple[RunningApp, FakeResend]]:
    with (
        FakeResend() as fake,
        running_app("warmup", {"RESEND_API_KEY": fake.api_key, "RESEND_API_URL": fake.url}) as app,
    ):
        yield app, fake


def _page(browser, fresh, theme: str = "light", width: str = "desktop") -> Page:
    app, _ = fresh
    context = browser.new_context(
        base_url=app.url, viewport={"width": WIDTHS[width], "height": 900}, color_scheme=theme
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def _sign_in(page: Page) -> None:
    page.goto(routes.SIGN_IN)
    page.get_by_label("Email").fill(OWNER[0])
    page.get_by_label("Password").fill(OWNER[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()


@pytest.fixture(scope="module")
def verified(browser, fresh) -> str:
    """The owner, and a domain added and verified through the page."""
    _, fake = fresh
    page = _page(browser, fresh)
    try:
        page.goto(routes.SIGN_IN)
        expect(page.get_by_role("heading", name="Create the owner account")).to_be_visible(
            timeout=FIRST_PAGE_TIMEOUT_MS
        )
        page.get_by_label("Email", exact=True).fill(OWNER[0])
        page.get_by_label("Password (at least 10 characters)", exact=True).fill(OWNER[1])
        page.get_by_label("Repeat the password", exact=True).fill(OWNER[1])
        page.get_by_role("button", name="Create the owner account").click()
        expect(page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()
        page.goto(routes.DOMAINS)
        page.get_by_label("Domain of your From address").fill(DOMAIN)
        page.get_by_role("button", name="Add domain").click()
        panel = page.locator("#warmup")
        expect(panel.locator(".warmup-summary")).to_have_text("Starts the day the domain is verified, at 50 emails.")
        fake.dns_published.add(DOMAIN)
        page.get_by_role("button", name=f"Verify {DOMAIN}").click()
        expect(page.locator(".domain-status")).to_have_text("Verified")
        page.reload()
        expect(panel.locator(".warmup-summary")).to_have_text("Day 1 of 7: 0 of 50 sent today.")
    finally:
        page.context.close()
    return DOMAIN


def test_the_ladder_is_edited_at_its_field_and_warmup_switched_off(browser, fresh, verified):
    page = _page(browser, fresh, "light", "phone")
    try:
        _sign_in(page)
        page.goto(routes.DOMAINS)
        ladder = page.get_by_label("Daily caps, one a day (emails)")
        expect(ladder).to_have_value("50, 100, 250, 500, 1000, 2500, 5000")
        ladder.fill("100, 50")
        page.get_by_role("button", name=f"Save the ladder for {verified}").click()
        expect(ladder).to_have_attribute("aria-invalid", "true")
        expect(ladder).to_have_accessible_description("Day 2: 50 is below day 1's 100; a warm-up only rises.")
        check(page, "domains-warmup-refused-light-phone")
        ladder.fill("20, 40, 80")
        page.get_by_role("button", name=f"Save the ladder for {verified}").click()
        expect(page.locator("#warmup-message")).to_have_text(f"Ladder saved for {verified}.")
        expect(ladder).to_have_attribute("aria-invalid", "false")
        expect(page.locator(".warmup-summary")).to_have_text("Day 1 of 3: 0 of 20 sent today.")

        switch = page.get_by_role("switch", name=f"Warm-up for {verified}")
        expect(switch).to_be_checked()
        switch.focus()
        page.keyboard.press("Space")
        expect(page.locator(".warmup-summary")).to_have_text("Off: no daily cap.")
        expect(switch).not_to_be_checked()
        switch.click()
        expect(page.locator(".warmup-summary")).to_have_text("Day 1 of 3: 0 of 20 sent today.")
    finally:
        page.context.close()


@pytest.mark.parametrize(("theme", "width"), LOOKS)
def test_domains_with_warmup_looks(browser, fresh, verified, theme, width):
    page = _page(browser, fresh, theme, width)
    try:
        _sign_in(page)
        page.goto(routes.DOMAINS)
        expect(page.get_by_role("region", name="Warm-up")).to_be_visible()
        expect(page.get_by_role("heading", level=3, name=verified)).to_be_visible()
        check(page, f"domains-warmup-{theme}-{width}")
    finally:
        page.context.close()


def test_the_builder_saves_a_send_rate(browser, fresh, verified):
    page = _page(browser, fresh, "light", "phone")
    try:
        _sign_in(page)
        page.goto(routes.CAMPAIGNS)
        page.get_by_role("button", name="Use Feature adoption").click()
        rate = page.get_by_label("Emails per minute (optional)")
        expect(rate).to_have_value("")
        rate.fill("lots")
        page.locator("#save-campaign").click()
        expect(rate).to_have_attribute("aria-invalid", "true")
        expect(rate).to_have_accessible_description("Use a whole number.")
        rate.fill("600")
        page.locator("#save-campaign").click()
        expect(page.locator("#campaign-message")).to_have_text("Saved.")
        check(page, "campaign-builder-send-rate-light-phone")
        saved = page.request.get("/api/v1/campaigns").json()
        assert [c["document"].get("emails_per_minute") for c in saved] == [600]
    finally:
        page.context.close()


def test_what_warmup_holds_waits_visibly(browser, fresh, verified):
    """Runs last: it leaves the domain at a cap of one email, which the other tests would meet."""
    app, fake = fresh
    page = _page(browser, fresh, "light", "phone")
    try:
        _sign_in(page)
        page.goto(routes.DOMAINS)
        ladder = page.get_by_label("Daily caps, one a day (emails)")
        ladder.fill("1")
        page.get_by_role("button", name=f"Save the ladder for {verified}").click()
        expect(page.locator(".warmup-summary")).to_have_text("Day 1 of 1: 0 of 1 sent today.")

        api = page.request
        assert api.put(
            "/api/v1/settings",
            data={
                "from_email": f"news@{verified}",
                "physical_address": "1 Warm Street, Springfield",
                "public_url": "https://humanic.warmup.test",
            },
        ).ok
        source = api.post("/api/v1/sources", data={"name": "Warm-up"}).json()
        assert api.post(f"/api/v1/sources/{source['id']}/activate").ok
        document = {
            "name": "Warm welcome",
            "trigger": {"event": "warm_signed_up"},
            "steps": [{"subject": "Welcome, warmly", "html": "<p>Hello</p>"}],
        }
        campaign = api.post("/api/v1/campaigns", data=document).json()
        activated = api.post(f"/api/v1/campaigns/{campaign['id']}/activate")
        assert activated.ok, activated.text()
        hook = app.url + path_of(source)  # its webhook_url names the public URL, which this machine cannot reach
        for n in (1, 2):
            event = posthog_event(event="warm_signed_up", distinct_id=f"warm_{n}", email=f"warm{n}@example.com")
            assert post_like_posthog(hook, event) == 200

        def messages(status: str) -> list[dict]:
            query = f"campaign_id={campaign['id']}&status={status}&limit=10"
            return api.get(f"/api/v1/messages?{query}").json()["items"]

        wait_until(lambda: len(messages("sent")) == 1, what="the first email sent")
        held = wait_until(
            lambda: [m for m in messages("scheduled") if m["last_error"].startswith("waiting (warm-up)")],
            what="the second email held by warm-up",
        )
        assert len(held) == 1 and len(fake.sent) == 1, (held, fake.sent)

        page.goto(routes.DOMAINS)
        expect(page.locator(".warmup-summary")).to_have_text("Day 1 of 1: 1 of 1 sent today.")
        expect(page.locator(".warmup-held")).to_have_text("1 email waits for tomorrow (00:00 UTC).")
        check(page, "domains-warmup-held-light-phone")

        page.goto(routes.MESSAGES)
        row = page.locator(".message-row", has_text=held[0]["to"])
        expect(row.locator(".message-status")).to_have_text("scheduled")
        reason = held[0]["last_error"]
        assert reason.endswith(f"sent today from {verified}; more from 00:00 UTC"), reason
        expect(row).to_contain_text(reason)
        check(page, "messages-warmup-held-light-phone")
    finally:
        page.context.close()
