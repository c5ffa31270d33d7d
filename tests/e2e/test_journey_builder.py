"""Journey: a marketer builds a branching journey from a blank campaign (an email, a wait for the checkout to
complete matched on the cart, an email on the timed-out path, an exit), previews it, dry-runs it over stored
events (how many took each path), activates it, and watches one contact go down each path as PostHog events
arrive. Then the builder with that journey open passes the look checks at 390 and 1280 px, light and dark."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from humanic_app import clock, routes
from humanic_app.services.samples import posthog_event
from tests.e2e.helpers import rendered_subjects, write_html
from tests.e2e.test_every_page import LOOKS, check, contexts, open_page, signed_in  # noqa: F401 (fixture)
from tests.support.look import element_shot
from tests.support.webhooks import post_like_posthog

MARK = uuid.uuid4().hex[:6]
STARTED, COMPLETED = f"jb_checkout_started_{MARK}", f"jb_checkout_completed_{MARK}"
NAME = f"Cart rescue {MARK}"
LIVE_MS = 30_000  # a 5 s timeout, then the worker's next look and the outbox write


@pytest.fixture(scope="module")
def hook(contexts, browser, app_url, owner) -> str:  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    shop = page.request.post(f"{app_url}/api/v1/sources", data={"name": f"Journey shop {MARK}"}).json()
    assert page.request.post(f"{app_url}/api/v1/sources/{shop['id']}/activate").ok
    assert page.request.put(
        f"{app_url}/api/v1/settings", data={"from_email": "shop@acme.io", "physical_address": "1 Main St, Springfield"}
    ).ok
    return shop["webhook_url"].replace("http://testserver", app_url)


def _post(hook: str, event: str, who: str, cart: str, ago: timedelta = timedelta(0)) -> None:
    body = posthog_event(
        event=event,
        distinct_id=f"{who}-{MARK}",
        email=f"{who}-{MARK}@example.com",
        name=who.capitalize(),
        properties={"cart_id": f"{cart}-{MARK}", "cart_value": 42},
        timestamp=clock.now() - ago,
    )
    assert post_like_posthog(hook, body) == 200


def _fill_email(card, subject: str, html: str) -> None:
    card.locator("input.step-subject, .step-subject input").fill(subject)
    write_html(card, html)


def _build(page: Page) -> None:
    page.get_by_role("button", name="Blank").click()
    page.fill("#campaign-name", NAME)
    page.fill("#trigger-event", STARTED)
    _fill_email(page.locator(".step-card").first, "Thanks, {{ name }}", "<p>Your cart is saved.</p>")

    page.get_by_role("button", name="Add a step after step 1").click()
    page.get_by_role("menuitem", name="Wait for event").click()
    page.fill("#step-1-event", COMPLETED)
    page.fill("#step-1-match", "cart_id")
    page.fill("#step-1-timeout", "5s")

    page.get_by_role("button", name="Add a step to Step 2 Timed out").click()
    page.get_by_role("menuitem", name="Email").click()
    expect(page.locator(".node-card")).to_have_count(4)  # email, wait for, email, and an exit for "it happened"
    _fill_email(
        page.locator(".step-card").nth(1), "Still want it, {{ name }}?", "<p>Your cart of {{ cart_value }}.</p>"
    )
    happened = page.get_by_role("combobox", name="Step 2 It happened: then go to")
    expect(happened).to_contain_text("Step 4 (exit)")
    expect(page.get_by_role("combobox", name="Step 2 Timed out: then go to")).to_contain_text("Step 3 (email")


def test_build_dry_run_activate_and_watch_each_path(contexts, browser, app_url, owner, hook):  # noqa: F811
    # Stored history for the dry run: one shopper completed the checkout, one never did.
    # (the completion arrives within the 5 s the journey waits: a timeout comes due by event time)
    _post(hook, STARTED, "past_done", "p1")
    _post(hook, COMPLETED, "past_done", "p1")
    _post(hook, STARTED, "past_gone", "p2", ago=timedelta(minutes=20))

    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    open_page(page, routes.CAMPAIGNS)
    _build(page)

    page.get_by_role("button", name="Preview step 3").click()
    expect(page.locator("#preview-subject")).to_contain_text("Still want it, ")
    expect(page.frame_locator("#preview-html").locator("p").first).to_contain_text("Your cart of 42")

    page.locator("#save-campaign").click()
    expect(page.locator("#campaign-message")).to_have_text("Saved.")
    page.locator("#dry-run").click()
    expect(page.locator("#dry-run-summary")).to_contain_text("enrolled 2 contacts")
    expect(page.locator(".dry-run-path").first).to_have_text(f"Step 2 (wait for {COMPLETED}): happened 1 · timed out 1")

    page.locator("#activate-campaign").click()
    expect(page.locator(".campaign-row", has_text=NAME)).to_contain_text("active")

    _post(hook, STARTED, "ada", "a1")
    _post(hook, STARTED, "bo", "b1")
    _post(hook, COMPLETED, "ada", "a1")  # Ada checks out: the "it happened" path, then the exit

    wait_for = page.locator(".node-card").nth(1)

    def ada_resumed() -> None:  # the counts are read on Refresh; the worker may not have processed the events yet
        page.locator("#refresh-counts").click()
        expect(wait_for.locator(".journey-path").first.locator(".path-took")).to_have_text("1 took this", timeout=2000)

    expect_eventually(ada_resumed)  # (Bo waits 5 s by event time: on a busy machine he may have timed out already)

    def timed_out() -> None:
        page.locator("#refresh-counts").click()
        expect(wait_for.locator(".journey-path").nth(1).locator(".path-took")).to_have_text("1 took this", timeout=2000)

    expect_eventually(timed_out)
    expect(wait_for.locator(".node-waiting")).to_have_text("0 waiting")

    def subjects(who: str, count: int) -> list[str]:
        return rendered_subjects(page, app_url, f"{who}-{MARK}@example.com", at_least=count, timeout_s=LIVE_MS / 1000)

    assert subjects("ada", 1) == ["Thanks, Ada"]  # it happened: straight to the exit
    assert subjects("bo", 2) == ["Still want it, Bo?", "Thanks, Bo"]  # timed out: the reminder

    page.goto(routes.MESSAGES)
    expect(page.get_by_text("Still want it, Bo?").first).to_be_visible()


def expect_eventually(attempt, timeout_ms: int = LIVE_MS) -> None:
    """Retries an attempt made of expectations until it passes (live work lands on the worker's clock)."""
    deadline = clock.now() + timedelta(milliseconds=timeout_ms)
    while True:
        try:
            attempt()
            return
        except AssertionError:
            if clock.now() > deadline:
                raise


@pytest.mark.parametrize(("theme", "width"), LOOKS)
def test_journey_builder_look(contexts, browser, app_url, owner, hook, theme, width):  # noqa: F811
    """The builder with a journey open (paths side by side; stacked on a phone)."""
    page = signed_in(contexts, browser, app_url, owner, theme, width)
    open_page(page, routes.CAMPAIGNS)
    if page.locator("#back-to-campaigns").count():  # the builder stays open across pages: this tab built one
        page.locator("#back-to-campaigns").click()
    page.get_by_role("button", name="Use Re-engagement").click()
    expect(page.locator(".journey-path")).to_have_count(2)
    page.get_by_role("button", name="Add a step after step 1").click()
    page.get_by_role("menuitem", name="Wait for event").click()
    expect(page.locator(".journey-path")).to_have_count(4)
    page.keyboard.press("Escape")
    check(page, f"journey-builder-{theme}-{width}")
    # the flow alone, close enough to judge: the full page is tall
    element_shot(page, "#journey-flow", f"journey-builder-flow-{theme}-{width}")
