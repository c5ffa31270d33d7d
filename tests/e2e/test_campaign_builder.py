"""Journey: build the drop-off recovery campaign (as in campaigns/) from a blank form, preview it on a real event,
activate it, and watch it fire."""

import re

from playwright.sync_api import expect

from humanic_app.services.samples import posthog_event
from tests.e2e.helpers import write_html
from tests.support.webhooks import post_like_posthog


def test_build_preview_activate_drop_off_recovery(signed_in_page, app_url):
    page = signed_in_page
    shop = page.request.post(f"{app_url}/api/v1/sources", data={"name": "Shop"}).json()  # connecting: elsewhere
    assert page.request.post(f"{app_url}/api/v1/sources/{shop['id']}/activate").ok
    hook = shop["webhook_url"].replace("http://testserver", app_url)
    assert (
        post_like_posthog(
            hook,
            posthog_event(
                event="checkout_started",
                distinct_id="shopper_1",
                email="ada@example.com",
                name="Ada",
                properties={"cart_value": 129.5, "currency": "EUR", "cart_id": "c-1"},
            ),
        )
        == 200
    )

    page.goto("/campaigns")
    page.get_by_role("button", name="Blank").click()
    page.fill("#campaign-name", "Drop-off recovery (built by hand)")
    page.fill("#trigger-event", "checkout_started")
    page.get_by_role("button", name="Add condition").click()
    row = page.locator(".condition-row").first
    row.get_by_placeholder("cart_value").fill("cart_value")
    row.locator("button[role=combobox]").nth(1).click()
    page.get_by_role("option", name="gt", exact=True).click()
    row.get_by_placeholder("50").fill("50")
    page.fill("#unless-event", "checkout_completed")
    page.get_by_placeholder("cart_id").fill("cart_id")
    step = page.locator(".step-card").first
    step.locator("input.step-delay, .step-delay input").fill("24h")
    step.locator("input.step-subject, .step-subject input").fill(
        "You left something in your cart, {{ name | default('there') }}"
    )
    write_html(
        step,
        "<p>Your cart of {{ cart_value }} {{ currency }} is waiting: "
        "<a href='{{ checkout_url }}'>finish checkout</a></p>",
    )

    page.locator("#render-preview").click()
    expect(page.locator("#preview-subject")).to_have_text("Subject: You left something in your cart, Ada")
    expect(page.frame_locator("#preview-html").locator("p").first).to_contain_text("Your cart of 129.5 EUR is waiting")
    expect(page.locator(".missing-variable")).to_contain_text("checkout_url")

    step.locator("input.step-subject, .step-subject input").fill("Still thinking it over, {{ name }}?")
    expect(page.locator("#preview-subject")).to_have_text("Subject: Still thinking it over, Ada?")  # live

    step.locator("textarea.step-html, .step-html textarea").fill("<p>{% if cart_value %}broken")
    page.locator("#save-campaign").click()
    expect(page.locator(".builder-error")).to_contain_text("Step 1 · HTML: Line 1")  # in the UI's words
    expect(page.locator("#step-0-html-error")).to_contain_text("Line 1")  # and at the field
    step.locator("textarea.step-html, .step-html textarea").fill(
        "<p>Your cart of {{ cart_value }} {{ currency }} is waiting.</p>"
    )
    page.locator("#save-campaign").click()
    expect(page.locator("#campaign-message")).to_have_text("Saved.")

    page.locator("#dry-run").click()
    expect(page.locator("#dry-run-summary")).to_contain_text("enrolled 1 contact and sent 1 email (")

    page.locator("#activate-campaign").click()
    expect(page.locator("#campaigns-error")).to_contain_text("From address")
    page.goto("/settings")
    page.fill("#settings-from-email", "shop@acme.io")
    page.fill("#settings-physical-address", "1 Main St, Springfield")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#settings-saved")).to_be_visible()
    page.goto("/campaigns")
    row = page.locator(".campaign-row", has_text="Drop-off recovery (built by hand)")
    row.get_by_role("button", name="Activate").click()
    expect(row).to_contain_text("active")

    assert (
        post_like_posthog(
            hook,
            posthog_event(
                event="checkout_started",
                distinct_id="shopper_2",
                email="bo@example.com",
                properties={"cart_value": 80, "cart_id": "c-2"},
            ),
        )
        == 200
    )
    page.goto("/events")
    fired = page.locator(".event-row", has_text="bo@example.com")
    expect(fired).to_contain_text(re.compile("fired: Drop-off recovery"))
    fired.click()
    page.get_by_role("tab", name="Campaigns").click()
    expect(page.locator("#detail-decisions")).to_contain_text("matched: enrolled, 1 email scheduled")


def test_upload_a_campaign_file_into_the_builder(signed_in_page, tmp_path):
    from humanic_app.services.campaigns import library

    page = signed_in_page
    page.goto("/campaigns")
    document = library.templates()["re-engagement"]
    document["name"] = "Re-engagement (uploaded)"
    path = tmp_path / "re-engagement.yaml"
    path.write_text(library.dump(document))
    page.locator("#campaign-upload input[type=file]").set_input_files(str(path))
    expect(page.locator("#campaign-message")).to_contain_text("Loaded re-engagement.yaml")
    expect(page.locator("#campaign-name")).to_have_value("Re-engagement (uploaded)")
    expect(page.locator(".step-card")).to_have_count(3)  # its three emails, among six steps
    expect(page.locator(".node-card")).to_have_count(6)
    page.locator("#save-campaign").click()
    expect(page.locator(".campaign-row", has_text="Re-engagement (uploaded)")).to_contain_text("draft")


def test_preview_shows_a_render_error_where_the_email_would_be(signed_in_page):
    page = signed_in_page
    page.goto("/campaigns")
    page.get_by_role("button", name="Blank").click()
    page.fill("#campaign-name", "Broken on purpose")
    page.fill("#trigger-event", "user_signed_up")
    step = page.locator(".step-card").first
    step.locator("input.step-subject, .step-subject input").fill("Hello")
    write_html(step, "<p>{{ 1 / 0 }}</p>")
    page.locator("#render-preview").click()
    expect(page.locator("#preview-error")).to_contain_text("division by zero (line 1)")
    expect(page.locator("#preview-html")).to_have_count(0)
    step.locator("textarea.step-html, .step-html textarea").fill("<p>{{ name | capitalise }}</p>")
    expect(page.locator("#preview-error")).to_contain_text("did you mean 'capitalize'?")  # follows the edit
    page.locator("#save-campaign").click()
    expect(page.locator(".field-error")).to_contain_text(
        "Unknown filter 'capitalise' in step 1 HTML, line 1 — did you mean 'capitalize'?"
    )
