"""Journey: connect PostHog, copy the URL, watch the test event arrive live, check the mapping, activate."""

import re
import time
import urllib.error
import urllib.request

from playwright.sync_api import expect

from humanic_app.services.samples import posthog_event
from tests.support.webhooks import POST_TIMEOUT_S, post_like_posthog


def test_connect_wait_live_map_and_activate(signed_in_page, app_url):
    page = signed_in_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url)
    page.get_by_role("link", name="Integrations", exact=True).click()
    page.fill("#source-name", "Production")
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("#integrations-message")).to_contain_text("Source created")
    expect(page.locator("#source-status")).to_have_text("Waiting for test event")
    url = page.locator("#webhook-url").inner_text()
    assert re.fullmatch(re.escape(app_url) + r"/api/webhooks/posthog/[\w-]{32}", url)  # the port it is served on
    page.locator("#copy-webhook-url").click()
    expect(page.locator("#integrations-message")).to_have_text("Webhook URL copied. Paste it into PostHog (step 2).")
    assert page.evaluate("navigator.clipboard.readText()") == url
    expect(page.locator("#private-url-warning")).to_contain_text("PostHog Cloud cannot reach this address")
    expect(page.locator("#waiting-for-event")).to_have_text("Waiting for a test event…")
    expect(page.locator("#activate-untested")).to_contain_text("No test event has arrived yet")

    body = posthog_event(
        event="checkout_started",
        distinct_id="user_8412",
        email="ada@example.com",
        name="Ada Lovelace",
        properties={"cart_value": 129.5, "currency": "EUR"},
    )
    assert post_like_posthog(url, body) == 200
    sent = time.monotonic()
    expect(page.locator("#received-event")).to_contain_text("checkout_started")
    arrival_s = time.monotonic() - sent
    assert arrival_s < 2.0, f"the event took {arrival_s:.2f}s to appear"
    expect(page.locator("#source-status")).to_have_text("Test event received")
    expect(page.locator("#activate-untested")).to_have_count(0)
    expect(page.locator("#preview-email")).to_have_text("ada@example.com")
    expect(page.locator("#preview-variables")).to_contain_text('"cart_value": 129.5')
    expect(page.locator(".mapped-value-event_properties")).to_contain_text('"cart_value": 129.5')

    expect(page.locator("#preview-match")).to_contain_text("matches contact #")  # once processing made it
    expect(page.locator("#preview-match")).to_contain_text("ada@example.com")

    page.fill("#map-email", "event.properties.no_email_here")  # previewed on leaving the field, unsaved
    page.locator("#map-email").blur()
    expect(page.locator("#preview-is-draft")).to_be_visible()
    expect(page.locator("#preview-email")).to_contain_text("none")
    expect(page.locator(".mapping-warning").first).to_contain_text("event.properties.no_email_here matches nothing")
    page.fill("#map-email", "person.properties.email")
    page.locator("#map-email").blur()
    expect(page.locator("#preview-email")).to_have_text("ada@example.com")
    page.fill("#mapping-variables", "basket = event.properties.cart_value\nghost = event.properties.nothing_here")
    page.locator("#mapping-variables").blur()
    expect(page.locator("#preview-variables")).to_contain_text('"basket": 129.5')
    expect(page.locator(".mapping-warning").first).to_contain_text("event.properties.nothing_here matches nothing")
    page.fill("#mapping-variables", "bad name = not a path!")
    page.locator("#mapping-variables").blur()
    expect(page.locator(".mapping-warning").first).to_contain_text("Not previewed")
    page.fill("#mapping-variables", "basket = event.properties.cart_value\nghost = event.properties.nothing_here")
    # leaving the field previews it again, and the preview's warnings change height: clicked before they
    # settle, Save mapping moves between the press and the release and the click is lost
    page.locator("#mapping-variables").blur()
    expect(page.locator(".mapping-warning").first).to_contain_text("event.properties.nothing_here matches nothing")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.locator("#integrations-message")).to_have_text("Mapping saved; the preview below uses it.")
    expect(page.locator("#preview-is-draft")).to_have_count(0)
    expect(page.locator("#preview-variables")).to_contain_text('"basket": 129.5')
    expect(page.locator(".mapping-warning").first).to_contain_text("event.properties.nothing_here matches nothing")

    page.locator("#activate-source").click()
    expect(page.locator("#source-status")).to_have_text("Active")
    page.locator("#pause-source").click()
    expect(page.locator("#source-status")).to_have_text("Paused")
    page.locator("#activate-source").click()
    expect(page.locator("#source-status")).to_have_text("Active")

    expect(page.locator("#setup-steps")).to_be_hidden()  # live: the steps fold behind "Setup steps"
    page.get_by_role("button", name="Setup steps").click()
    page.get_by_role("button", name="Regenerate URL").click()
    page.get_by_role("button", name="Regenerate", exact=True).click()
    expect(page.locator("#webhook-url")).not_to_have_text(url)
    new_url = page.locator("#webhook-url").inner_text()
    assert post_like_posthog(url, body) == 404
    assert (
        post_like_posthog(new_url, posthog_event(event="user_signed_up", distinct_id="u2", email="bo@example.com"))
        == 200
    )
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.locator(".finding", has_text="old (regenerated) webhook URL")).to_contain_text(
        "PostHog still uses the old URL — paste the new one"
    )


def test_sample_events_flow_without_posthog(signed_in_page):
    page = signed_in_page
    page.get_by_role("link", name="Integrations", exact=True).click()
    page.fill("#source-name", "Staging")
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("#integrations-message")).to_contain_text("Source created")
    expect(page.locator("#source-status")).to_have_text("Waiting for test event")
    page.get_by_role("button", name="Send a sample event").click()
    expect(page.locator("#integrations-message")).to_contain_text("Sent 6 sample events")
    expect(page.locator("#received-event")).to_be_visible()
    expect(page.locator("#source-status")).to_have_text("Test event received")


def test_no_test_event_after_30_seconds_shows_the_checks(signed_in_page, app_url):
    """When no test event arrives, troubleshooting is the next step — the page brings the findings to you."""
    from datetime import timedelta

    from sqlalchemy import update

    from humanic_app import clock
    from humanic_app.db import make_engine
    from humanic_app.models import Source
    from tests.support.server import run_dir

    page = signed_in_page
    source = page.request.post(f"{app_url}/api/v1/sources", data={"name": "Quiet one"}).json()
    old_hook = source["webhook_url"].replace("http://testserver", app_url)
    page.request.post(f"{app_url}/api/v1/sources/{source['id']}/rotate")
    assert post_like_posthog(old_hook, {"event": {"event": "x", "distinct_id": "d"}}) == 404
    engine = make_engine(f"sqlite:///{run_dir('sqlite') / 'data' / 'humanic.db'}")
    with engine.begin() as conn:  # connected a minute ago
        conn.execute(
            update(Source.__table__)
            .where(Source.__table__.c.id == source["id"])
            .values(created_at=clock.now() - timedelta(minutes=1))
        )
    engine.dispose()

    page.goto("/integrations")
    page.get_by_role("button", name="Quiet one", exact=True).click()
    help_box = page.locator("#waiting-help")
    expect(help_box).to_contain_text("Nothing yet after 30 seconds")
    expect(help_box).to_contain_text("PostHog still uses the old URL — paste the new one")
    expect(help_box).to_contain_text("“Quiet one” has never received an event")


def test_copy_works_where_the_clipboard_api_is_missing(browser, app_url, owner):
    """Plain http on a private address is not a secure context: no navigator.clipboard. Copy falls back to
    selecting the URL and the browser's copy command; the init script records what that copy carried."""
    from tests.e2e.helpers import sign_in

    context = browser.new_context(base_url=app_url)
    context.add_init_script("""
        Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined});
        document.addEventListener('copy', () => {
            const a = document.activeElement;
            window.__copied = a && a.value !== undefined ? a.value.substring(a.selectionStart, a.selectionEnd)
                                                         : String(getSelection());
        });""")
    page = context.new_page()
    sign_in(page, *owner)
    page.goto("/integrations")
    page.fill("#source-name", "Copied over http")
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("#integrations-message")).to_contain_text("Source created")
    assert page.evaluate("navigator.clipboard") is None
    page.locator("#copy-webhook-url").click()
    expect(page.locator("#integrations-message")).to_have_text("Webhook URL copied. Paste it into PostHog (step 2).")
    assert page.evaluate("window.__copied") == page.locator("#webhook-url").inner_text()
    context.close()


def test_security_shows_what_to_paste_and_is_enforced(signed_in_page, app_url):
    page = signed_in_page
    page.goto("/integrations")
    page.fill("#source-name", "Locked")
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("#integrations-message")).to_contain_text("Source created")  # else: the last URL shown
    url = page.locator("#webhook-url").inner_text()
    page.get_by_role("checkbox").check()
    page.fill("#header-name", "X-Humanic-Key")
    page.fill("#header-value", "s3cret-value")
    page.get_by_role("button", name="Save security settings").click()
    expect(page.locator("#integrations-message")).to_have_text("Security settings saved.")
    secret = page.locator("#signing-secret").inner_text()
    assert secret.startswith("whsec_")
    expect(page.locator("#header-instructions")).to_contain_text("x-humanic-key")
    expect(page.locator("body")).not_to_contain_text("s3cret-value")
    assert post_like_posthog(url, {"event": {"event": "x", "distinct_id": "d"}}) == 401

    page.reload()  # saving again, the header value left blank as it is never shown back: kept, not an error
    expect(page.locator("#signing-on")).to_be_visible()
    page.get_by_role("checkbox").uncheck()
    page.get_by_role("button", name="Save security settings").click()
    expect(page.locator("#integrations-message")).to_have_text("Security settings saved.")
    request = urllib.request.Request(
        url,
        data=b'{"event": {"event": "x", "distinct_id": "d"}}',
        method="POST",
        headers={"X-Humanic-Key": "s3cret-value"},
    )
    with urllib.request.urlopen(request, timeout=POST_TIMEOUT_S) as response:
        assert response.status == 200
    assert post_like_posthog(url, {"event": {"event": "x", "distinct_id": "d"}}) == 401
