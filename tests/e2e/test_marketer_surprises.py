"""Journeys through what surprised a marketer trying the app: destructive actions that did not ask, values that
broke the layout, accounts, duplicate sources, silent input loss, code-named errors and stale screens."""

import re

import pytest
from playwright.sync_api import expect

from humanic_app.models import limits
from humanic_app.services.samples import posthog_event
from tests.e2e.helpers import sign_out, write_html
from tests.support.webhooks import post_like_posthog

ONE_STEP = {
    "name": "Welcome later",
    "trigger": {"event": "signed_up"},
    "steps": [{"delay": "1d", "subject": "Hi {{ name }}", "html": "<p>Hi</p>"}],
}


@pytest.fixture
def settings_kept(signed_in_page, app_url):
    """The journeys share one app with other files: what they change in Settings is put back."""
    before = signed_in_page.request.get(f"{app_url}/api/v1/settings").json()
    yield
    assert signed_in_page.request.put(
        f"{app_url}/api/v1/settings", data={"from_email": before["from_email"], "status": before["status"]}
    ).ok


def _hook(page, app_url, name):
    source = page.request.post(f"{app_url}/api/v1/sources", data={"name": name}).json()
    assert page.request.post(f"{app_url}/api/v1/sources/{source['id']}/activate").ok
    return source, source["webhook_url"].replace("http://testserver", app_url)


def test_destructive_actions_confirm_saying_the_consequence(signed_in_page, app_url, settings_kept):
    page = signed_in_page
    assert page.request.put(
        f"{app_url}/api/v1/settings", data={"from_email": "hi@acme.io", "physical_address": "1 Main St, Springfield"}
    ).ok
    _, hook = _hook(page, app_url, "Confirm journey")
    campaign = page.request.post(f"{app_url}/api/v1/campaigns", data=ONE_STEP).json()
    assert page.request.post(f"{app_url}/api/v1/campaigns/{campaign['id']}/activate").ok
    for n in (1, 2):
        assert (
            post_like_posthog(
                hook, posthog_event(event="signed_up", distinct_id=f"u{n}", email=f"u{n}@confirm.example")
            )
            == 200
        )

    page.goto("/messages")
    rows = page.locator(".message-row", has_text="scheduled").filter(has_text="@confirm.example")  # this journey's
    expect(rows).to_have_count(2)
    rows.filter(has_text="u1@confirm.example").get_by_role("button", name="Cancel").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("u1@confirm.example")
    expect(dialog).to_contain_text("will not be sent")
    dialog.get_by_role("button", name="Cancel the email").click()
    expect(page.locator(".message-row", has_text="u1@confirm.example")).to_contain_text("cancelled")

    page.goto("/campaigns")
    row = page.locator(".campaign-row", has_text="Welcome later")
    row.get_by_role("button", name="Archive").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("cancels 1 scheduled email;")
    dialog.get_by_role("button", name="Keep it").click()
    expect(dialog).to_have_count(0)
    expect(row).to_contain_text("active")
    row.get_by_role("button", name="Archive").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Archive").click()
    expect(row).to_contain_text("archived")

    page.goto("/settings")
    page.get_by_role("button", name="Pause workspace").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("no email is sent until you resume")
    page.keyboard.press("Escape")
    expect(page.locator("#workspace-status")).to_contain_text("Active")


def test_long_values_are_capped_and_keep_the_builder_usable(signed_in_page, app_url):
    page = signed_in_page
    long_name = "N" * limits.NAME
    unbroken = "S" * limits.SUBJECT
    doc = {**ONE_STEP, "name": long_name, "steps": [{**ONE_STEP["steps"][0], "subject": unbroken}]}
    assert page.request.post(f"{app_url}/api/v1/campaigns", data=doc).ok

    page.goto("/campaigns")
    row = page.locator(".campaign-row", has_text=long_name[:40])
    expect(row.get_by_title(long_name)).to_be_visible()  # cut with an ellipsis, whole on hover
    row.get_by_role("button", name="Edit").click()
    subject = page.locator("input.step-subject, .step-subject input").first
    expect(subject).to_have_value(unbroken)
    subject.press("End")
    subject.type("more")
    expect(subject).to_have_value(unbroken)  # the field takes no more than the limit
    page.locator("#render-preview").click()
    expect(page.locator("#preview-subject")).to_contain_text(unbroken)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366, width
    html_box = page.locator("textarea.step-html, .step-html textarea").first.bounding_box()
    assert html_box and html_box["width"] > 300, html_box
    refused = page.request.post(
        f"{app_url}/api/v1/campaigns", data={**doc, "steps": [{**doc["steps"][0], "subject": unbroken + "S"}]}
    )
    assert refused.status == 422


def _sign_in_form(page, email, password):
    expect(page.get_by_role("heading", name="Sign in to Humanic")).to_be_visible()
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()


def test_accounts_choose_change_and_return_to_the_page_asked_for(signed_in_page, browser, app_url):
    owner_page = signed_in_page
    invited = owner_page.request.post(
        f"{app_url}/api/v1/users", data={"email": "newbie@acme.io", "temporary_password": "temporary 123"}
    )
    assert invited.status == 201, invited.text()

    context = browser.new_context(base_url=app_url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto("/campaigns")
        expect(page).to_have_url(re.compile(r"/signin\?next=%2Fcampaigns$"))
        _sign_in_form(page, "newbie@acme.io", "temporary 123")
        expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
        page.goto("/settings")  # nothing else opens until the temporary password is replaced
        expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
        page.get_by_label("New password (at least 10 characters)").fill("temporary 123")
        page.get_by_label("Repeat the new password").fill("temporary 123")
        page.get_by_role("button", name="Save my password").click()
        expect(page.locator("#auth-error")).to_have_text("Choose a password other than the temporary one.")
        page.get_by_label("New password (at least 10 characters)").fill("newbie's own 1")
        page.get_by_label("Repeat the new password").fill("newbie's own 1")
        page.get_by_role("button", name="Save my password").click()
        expect(page.locator("#signed-in-as")).to_have_text("newbie@acme.io")

        page.goto("/settings")
        page.get_by_label("Current password").fill("wrong one 123")
        page.get_by_label("New password (at least 10 characters)").fill("newbie's second 2")
        page.get_by_label("Repeat the new password").fill("newbie's second 2")
        page.get_by_role("button", name="Change password").click()
        expect(page.locator("#password-current-password-error")).to_have_text("The current password is not right.")
        expect(page.locator("#password-current-password")).to_have_attribute("aria-invalid", "true")
        page.get_by_label("Current password").fill("newbie's own 1")
        page.get_by_label("New password (at least 10 characters)").fill("newbie's second 2")
        page.get_by_label("Repeat the new password").fill("newbie's second 2")
        page.get_by_role("button", name="Change password").click()
        expect(page.locator("#password-saved")).to_contain_text("Password changed")
        expect(page.locator("#password-current-password")).to_have_attribute("aria-invalid", "false")

        sign_out(page)
        for elsewhere in ("https://evil.example/", "//evil.example/"):
            page.goto("/signin?next=" + elsewhere)
            _sign_in_form(page, "newbie@acme.io", "newbie's second 2")
            expect(page.locator("#signed-in-as")).to_have_text("newbie@acme.io")
            expect(page).to_have_url(app_url + "/")
            sign_out(page)
        page.goto("/events?outcome=rejected")
        expect(page).to_have_url(re.compile(r"/signin\?next=%2Fevents%3Foutcome%3Drejected$"))
        _sign_in_form(page, "newbie@acme.io", "newbie's second 2")
        expect(page).to_have_url(app_url + "/events?outcome=rejected")
        expect(page.locator("#signed-in-as")).to_have_text("newbie@acme.io")
    finally:
        context.close()


def test_sources_are_named_once_renamed_and_deleted_with_their_history(signed_in_page, app_url):
    page = signed_in_page
    page.goto("/integrations")
    page.fill("#source-name", "Journey site")
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("#integrations-message")).to_contain_text("Source created")
    url = page.locator("#webhook-url").inner_text()
    expect(page.get_by_text("Add another source")).to_be_visible()  # not to be mistaken for renaming
    expect(page.locator("#source-name")).to_have_value("")

    page.get_by_role("button", name="Connect").click()  # with the name cleared: refused at the field
    expect(page.locator("#source-name-error")).to_contain_text("Name the source")
    expect(page.locator("#source-name")).to_have_attribute("aria-invalid", "true")
    page.fill("#source-name", "journey SITE")
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("#source-name-error")).to_contain_text("already exists")
    listed = page.request.get(f"{app_url}/api/v1/sources").json()
    assert [s["name"] for s in listed].count("Journey site") == 1 and "journey SITE" not in [s["name"] for s in listed]

    page.fill("#rename-source", "Journey shop")
    page.get_by_role("button", name="Rename").click()
    expect(page.locator("#integrations-message")).to_contain_text("Renamed to “Journey shop”")
    expect(page.locator("#webhook-url")).to_have_text(url)

    assert post_like_posthog(url, posthog_event(event="kept_event", distinct_id="kept")) == 200
    expect(page.locator("#received-event")).to_contain_text("kept_event")
    typed = "company = person.properties.company\nbad line without equals"
    page.fill("#mapping-variables", typed)
    page.get_by_role("button", name="Save mapping").click()
    expect(page.locator("#mapping-variables-error")).to_contain_text("Line 2 (“bad line without equals”)")
    expect(page.locator("#mapping-variables")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#mapping-variables")).to_have_value(typed)  # kept, to be fixed in place
    page.fill("#mapping-variables", "company = person.properties.company")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.locator("#integrations-message")).to_contain_text("Mapping saved")
    expect(page.locator("#mapping-variables-error")).to_have_count(0)
    page.get_by_role("button", name="Delete source").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("answered 404")
    dialog.get_by_role("button", name="Delete source").click()
    expect(page.locator("#integrations-message")).to_contain_text("Deleted “Journey shop”")
    assert post_like_posthog(url, posthog_event(event="after_delete", distinct_id="late")) == 404

    page.goto("/events")
    expect(page.locator(".event-row").first).to_contain_text("source deleted")
    expect(page.locator(".event-row", has_text="kept_event")).to_contain_text("Journey shop (deleted)")
    page.goto("/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("#pipeline-health")).to_be_visible()
    expect(page.locator(".finding", has_text="Journey shop")).to_have_count(0)  # a deleted source is not checked


def test_errors_in_the_uis_words_at_the_field_all_at_once(signed_in_page, app_url, settings_kept):
    page = signed_in_page
    page.goto("/settings")
    page.fill("#settings-from-email", "not an email")
    page.fill("#settings-public-url", "nowhere")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#settings-from-email-error")).to_have_text(
        "Enter a valid email address, like hello@yourdomain.com."
    )
    expect(page.locator("#settings-public-url-error")).to_contain_text("Enter the full address")
    expect(page.locator("#settings-from-email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#settings-name")).to_have_attribute("aria-invalid", "false")
    expect(page.get_by_text(re.compile(r"from_email|public_url"))).to_have_count(0)
    assert page.request.put(f"{app_url}/api/v1/settings", data={"from_email": ""}).ok

    page.goto("/campaigns")
    page.get_by_role("button", name="Blank").click()
    page.locator(".step-card").first.get_by_role("radio", name="HTML").click()
    page.locator("#save-campaign").click()
    errors = page.locator(".builder-error")
    expect(errors.filter(has_text="Name: Required.")).to_have_count(1)
    expect(errors.filter(has_text="Trigger event: Required.")).to_have_count(1)
    expect(errors.filter(has_text="Step 1 · Subject: Required.")).to_have_count(1)
    expect(errors.filter(has_text="Step 1 · HTML: Required.")).to_have_count(1)
    expect(page.locator("#campaign-name-error")).to_have_text("Required.")
    expect(page.locator("#step-0-subject")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text(re.compile(r"steps\.0|String should"))).to_have_count(0)

    page.get_by_text("YAML (paste to import)").click()
    page.locator("details textarea").fill("name: x\nsteps: [\n  - a: b\n")
    page.get_by_role("button", name="Load YAML into the builder").click()
    expect(errors.filter(has_text="YAML: Line ")).to_have_count(1)
    expect(page.get_by_text("<unicode string>")).to_have_count(0)

    _, hook = _hook(page, app_url, "Words journey")
    assert (
        post_like_posthog(hook, posthog_event(event="words_signed_up", distinct_id="w1", email="w1@example.com")) == 200
    )
    page.goto("/events")
    expect(page.locator(".event-row", has_text="words_signed_up")).to_contain_text("processed")
    page.goto("/campaigns")
    page.get_by_role("button", name="Blank").click()
    page.fill("#campaign-name", "Words")
    page.fill("#trigger-event", "words_signed_up")
    page.locator("input.step-subject, .step-subject input").fill("Hi")
    write_html(page.locator(".step-card").first, "<p>Hi</p>")
    page.locator("#save-campaign").click()
    expect(page.locator("#campaign-message")).to_contain_text("Saved.")
    page.locator("#dry-run").click()
    expect(page.locator("#dry-run-summary")).to_contain_text(
        'enrolled 1 contact and sent 1 email (Step 1 (email "Hi"): 1)'
    )
    page.locator("#activate-campaign").click()
    refusal = page.locator("#campaigns-error")
    expect(refusal).to_contain_text("Cannot activate yet")
    expect(refusal.get_by_role("link", name="Open Settings")).to_have_attribute("href", "/settings")


def _blank_campaign(page, name, trigger):
    page.get_by_role("button", name="Blank").click()
    page.fill("#campaign-name", name)
    page.fill("#trigger-event", trigger)
    page.locator("input.step-subject, .step-subject input").fill("Hello")
    write_html(page.locator(".step-card").first, "<p>Hello</p>")


def test_send_test_answers_beside_its_field(signed_in_page):
    page = signed_in_page
    page.goto("/campaigns")
    _blank_campaign(page, "Send test journey", "send_test_event")
    result, error = page.locator("#test-send-result"), page.locator("#test-to-error")
    page.fill("#test-to", "nope")
    page.locator("#send-test").click()
    expect(error).to_contain_text("valid email")
    expect(page.locator("#test-to")).to_have_attribute("aria-invalid", "true")
    page.fill("#test-to", "me@example.com")
    page.locator("#send-test").click()
    expect(result).to_contain_text("Test email queued to me@example.com")
    expect(error).to_have_count(0)
    page.fill("#test-to", "nope again")
    page.locator("#send-test").click()
    expect(error).to_contain_text("valid email")
    expect(result).to_have_count(0)  # no stale green under the new error
    box, field = result.or_(error).bounding_box(), page.locator("#test-to").bounding_box()
    assert box and field and 0 <= box["y"] - field["y"] < 120  # beside the field, not elsewhere on the page


def test_no_stale_screens(signed_in_page, app_url, owner, settings_kept):
    page = signed_in_page
    assert page.request.put(
        f"{app_url}/api/v1/settings", data={"from_email": "hi@acme.io", "physical_address": "1 Main St, Springfield"}
    ).ok
    for name in ("Stale A", "Stale B"):
        doc = {**ONE_STEP, "name": name, "trigger": {"event": "stale_trigger"}}
        assert page.request.post(f"{app_url}/api/v1/campaigns", data=doc).ok
    listed = {c["name"]: c["id"] for c in page.request.get(f"{app_url}/api/v1/campaigns").json()}
    assert page.request.post(f"{app_url}/api/v1/campaigns/{listed['Stale A']}/activate").ok

    page.goto("/campaigns")
    row_a = page.locator(".campaign-row", has_text="Stale A")
    row_b = page.locator(".campaign-row", has_text="Stale B")
    row_a.get_by_role("button", name="Edit").click()
    page.locator("#dry-run").click()
    expect(page.locator("#dry-run-summary")).to_be_visible()
    row_b.get_by_role("button", name="Edit").click()
    expect(page.locator("#campaign-name")).to_have_value("Stale B")
    expect(page.locator("#dry-run-summary")).to_have_count(0)  # A's result is not shown as B's

    page.locator("#save-campaign").click()
    expect(page.locator("#campaign-message")).to_contain_text("Saved.")
    page.fill("#campaign-name", "Stale B (edited)")
    expect(page.locator("#campaign-message")).to_have_count(0)
    page.fill("#campaign-name", "Stale B")

    expect(page.locator(".page-finding", has_text="fire on stale_trigger")).to_have_count(0)
    row_b.get_by_role("button", name="Activate").click()
    expect(row_b).to_contain_text("active")
    expect(page.locator(".page-finding", has_text="2 active campaigns fire on stale_trigger")).to_be_visible()
    for name in ("Stale A", "Stale B"):  # the other journeys sharing this app need not see this finding
        assert page.request.post(f"{app_url}/api/v1/campaigns/{listed[name]}/archive").ok

    page.goto("/events")
    page.get_by_placeholder("Event name").fill("only_this_event")
    page.get_by_role("button", name="Filter", exact=True).click()
    page.goto("/messages")
    page.get_by_placeholder("Recipient email").fill("someone@example.com")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("button", name="Sign out").click()
    page.fill("#email", owner[0])
    page.fill("#password", owner[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signed-in-as")).to_have_text(owner[0])
    page.goto("/events")
    expect(page.get_by_placeholder("Event name")).to_have_value("")
    page.goto("/messages")
    expect(page.get_by_placeholder("Recipient email")).to_have_value("")


def test_mapping_preview_after_the_first_event_matches_the_contact_it_created(signed_in_page):
    page = signed_in_page
    page.goto("/integrations")
    page.fill("#source-name", "First event journey")
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("#integrations-message")).to_contain_text("Source created")
    url = page.locator("#webhook-url").inner_text()
    assert (
        post_like_posthog(url, posthog_event(event="first_one", distinct_id="first_1", email="first@example.com"))
        == 200
    )
    expect(page.locator("#received-event")).to_contain_text("first_one")
    expect(page.locator("#preview-match")).to_contain_text("matches contact")
    expect(page.locator("#preview-match")).not_to_contain_text("creates a new contact")
