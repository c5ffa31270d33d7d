"""The Campaigns page as a marketer meets it, beyond the walk's first look: the ready-made campaigns as cards,
the builder open on a campaign (list still at hand, preview = the email as sent), in both themes at 1280 and
390 px, each state audited by axe-core, checked for sideways scrolling and written to the gallery."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from humanic_app import routes
from tests.e2e.test_every_page import LOOKS, check, contexts, open_page, signed_in  # noqa: F401 (fixture)

ONE_STEP = {
    "trigger": {"event": "look_campaigns_event"},
    "steps": [
        {"delay": 0, "subject": "First, {{ name | default('there') }}", "html": "<p>One</p>"},
        {"delay": "2d", "subject": "Second", "html": "<p>Two</p>"},
        {"delay": "5d", "subject": "Third", "html": "<p>Three</p>"},
    ],
}


@pytest.fixture(scope="module")
def named_workspace(contexts, browser, app_url, owner) -> Iterator[dict[str, str]]:  # noqa: F811
    """A workspace name and footer address of this module's own (put back afterwards: the app is shared), and
    one saved campaign to edit."""
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    before = page.request.get(f"{app_url}/api/v1/settings").json()
    mark = uuid.uuid4().hex[:6]
    world = {"workspace": f"Northwind {mark}", "address": f"{mark} Harbour Road, Oslo", "campaign": f"Look {mark}"}
    assert page.request.put(
        f"{app_url}/api/v1/settings", data={"name": world["workspace"], "physical_address": world["address"]}
    ).ok
    assert page.request.post(f"{app_url}/api/v1/campaigns", data={**ONE_STEP, "name": world["campaign"]}).ok
    yield world
    assert page.request.put(
        f"{app_url}/api/v1/settings",
        data={"name": before["name"], "physical_address": before["physical_address"] or ""},
    ).ok


def _page(contexts, browser, app_url, owner, theme, width) -> Page:  # noqa: F811
    """The Campaigns page with its list and templates (a builder left open earlier in this tab is closed:
    it stays open across pages so unsaved work survives a trip to Settings)."""
    page = signed_in(contexts, browser, app_url, owner, theme, width)
    open_page(page, routes.CAMPAIGNS)
    back = page.locator("#back-to-campaigns")
    if back.count():
        back.click()
    expect(page.locator("#campaign-templates")).to_be_visible()
    return page


@pytest.mark.parametrize(("theme", "width"), LOOKS)
def test_templates_and_builder_look(contexts, browser, app_url, owner, named_workspace, theme, width):  # noqa: F811
    page = _page(contexts, browser, app_url, owner, theme, width)
    expect(page.locator(".template-card")).to_have_count(6)
    check(page, f"campaigns-templates-{theme}-{width}")

    row = page.locator(".campaign-row", has_text=named_workspace["campaign"])
    row.get_by_role("button", name="Edit").click()
    expect(page.locator("#campaign-name")).to_have_value(named_workspace["campaign"])
    email = page.frame_locator("#preview-html").locator("body")
    expect(email).to_contain_text(named_workspace["address"])
    check(page, f"campaigns-builder-{theme}-{width}")

    page.get_by_role("button", name="Back to campaigns").click()
    expect(page.locator("#campaign-builder")).to_have_count(0)


def test_ready_made_campaigns_are_cards_in_the_workspace_name(contexts, browser, app_url, owner, named_workspace):  # noqa: F811
    page = _page(contexts, browser, app_url, owner, "light", "desktop")
    card = page.locator(".template-card", has=page.get_by_role("heading", name="Onboarding activation"))
    expect(card.locator(".template-purpose")).to_have_text(
        "Welcome new sign-ups and guide them to their first win over ten days."
    )
    expect(card.locator(".template-trigger")).to_have_text("user_signed_up")
    expect(card.locator(".template-emails")).to_have_text("4 emails")
    expect(page.locator("#template-workspace-hint")).to_contain_text(named_workspace["workspace"])

    card.get_by_role("button", name="Use Onboarding activation").click()
    first_subject = page.locator("input.step-subject, .step-subject input").first
    expect(first_subject).to_have_value(f"Welcome to {named_workspace['workspace']}, {{{{ name | default('there') }}}}")
    expect(page.get_by_label("Campaign YAML")).not_to_have_value(re.compile("acme", re.IGNORECASE))
    expect(page.locator("#preview-subject")).to_contain_text(f"Subject: Welcome to {named_workspace['workspace']}, ")


def test_step_controls_say_which_step(contexts, browser, app_url, owner, named_workspace):  # noqa: F811
    page = _page(contexts, browser, app_url, owner, "light", "desktop")
    page.get_by_role("button", name="Use Onboarding activation").click()
    expect(page.get_by_role("button", name="Move step 1 up")).to_be_disabled()
    expect(page.get_by_role("button", name="Move step 6 down")).to_be_disabled()  # steps are the journey's nodes
    page.get_by_role("button", name="Move step 2 up").click()
    expect(page.locator("input.step-subject, .step-subject input").first).to_have_value(
        "Finish setting up your workspace"
    )
    page.get_by_role("button", name="Delete step 6").click()  # the last email
    expect(page.locator(".step-card")).to_have_count(3)
    expect(page.locator(".node-card")).to_have_count(5)


def test_empty_unless_shows_no_stray_setting(contexts, browser, app_url, owner, named_workspace):  # noqa: F811
    page = _page(contexts, browser, app_url, owner, "light", "desktop")
    page.get_by_role("button", name="Use Feature adoption").click()
    for field in ("#unless-event", "#campaign-unless-within", "#campaign-unless-match"):
        expect(page.locator(field)).to_have_value("")
    page.get_by_role("button", name="Back to campaigns").click()
    page.get_by_role("button", name="Use Drop-off recovery").click()  # it waits for the checkout instead
    expect(page.locator("#step-0-event")).to_have_value("checkout_completed")
    expect(page.locator("#step-0-match")).to_have_value("cart_id")
    expect(page.locator("#step-0-timeout")).to_have_value("24h")


def test_preview_is_the_email_as_sent_and_survives_save(contexts, browser, app_url, owner, named_workspace):  # noqa: F811
    page = _page(contexts, browser, app_url, owner, "light", "desktop")
    page.get_by_role("button", name="Use Feature adoption").click()
    page.fill("#campaign-name", f"Adoption {uuid.uuid4().hex[:6]}")
    frame = page.frame_locator("#preview-html")
    expect(frame.locator("body")).to_contain_text("Here is how to get the most out of it.")
    expect(frame.locator("body")).to_contain_text(named_workspace["address"])  # the sender's footer
    expect(frame.get_by_role("link", name="Unsubscribe")).to_have_attribute(
        "href", "https://example.invalid/unsubscribe/preview"
    )
    page.locator("#save-campaign").click()
    expect(page.locator("#campaign-message")).to_contain_text("Saved.")
    expect(frame.locator("body")).to_contain_text("Here is how to get the most out of it.")  # not blank after Save
    expect(frame.get_by_role("link", name="Unsubscribe")).to_be_visible()


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_the_list_stays_at_hand_while_editing(contexts, browser, app_url, owner, named_workspace, width):  # noqa: F811
    page = _page(contexts, browser, app_url, owner, "light", width)
    row = page.locator(".campaign-row", has_text=named_workspace["campaign"])
    row.get_by_role("button", name="Edit").click()
    expect(page.locator("#campaign-builder-heading")).to_be_focused()  # the view moves to what was opened
    expect(row.get_by_text("Editing")).to_be_attached()  # the list says which campaign is open
    expect(row).to_have_attribute("aria-current", "true")
    expect(row).to_be_visible()  # the list stays on the page, above the editor, with its actions
    back = page.get_by_role("button", name="Back to campaigns")
    expect(back).to_be_in_viewport()
    back.click()
    expect(page.locator("#campaigns-list-heading")).to_be_focused()
    expect(page.locator("#campaigns-list-heading")).to_be_in_viewport()
    expect(page.locator("#campaign-builder")).to_have_count(0)
