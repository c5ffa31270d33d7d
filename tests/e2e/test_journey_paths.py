"""Journeys in the builder, past the straight line: contacts going down a branch (split on an event property)
with each path's count arriving on its own while the builder is open; what saving a live journey does to the
contacts waiting in it, before it is saved; and a step with an error outlined, named and tied to its field."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from humanic_app import routes
from humanic_app.services.samples import posthog_event
from tests.e2e.helpers import rendered_subjects, write_html
from tests.e2e.test_every_page import contexts, open_page, signed_in  # noqa: F401 (fixture)
from tests.support.waiting import wait_until
from tests.support.webhooks import post_like_posthog

MARK = uuid.uuid4().hex[:6]
LIVE_MS = 30_000  # the worker's next look, then the builder's next read of the counts


@pytest.fixture(scope="module")
def hook(contexts, browser, app_url, owner) -> str:  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    shop = page.request.post(f"{app_url}/api/v1/sources", data={"name": f"Journey paths {MARK}"}).json()
    assert page.request.post(f"{app_url}/api/v1/sources/{shop['id']}/activate").ok
    assert page.request.put(
        f"{app_url}/api/v1/settings", data={"from_email": "shop@acme.io", "physical_address": "1 Main St, Springfield"}
    ).ok
    return shop["webhook_url"].replace("http://testserver", app_url)


def _post(hook: str, event: str, who: str, **properties) -> None:
    body = posthog_event(
        event=event,
        distinct_id=f"{who}-{MARK}",
        email=f"{who}-{MARK}@example.com",
        name=who.capitalize(),
        properties=properties,
    )
    assert post_like_posthog(hook, body) == 200


def _email(id_: str, subject: str, **extra) -> dict:
    return {"id": id_, "delay": "0", "subject": subject, "html": "<p>Hi {{ name }}</p>", **extra}


def _waiting_journey(name: str, started: str, done: str, *first: dict) -> dict:
    """`first`, then a wait for `done` (an hour at most): on it the journey ends, else a nudge."""
    return {
        "name": name,
        "trigger": {"event": started},
        "reentry": "every_time",
        "steps": [
            *first,
            {"id": "hold", "type": "wait_for", "event": done, "timeout": "1h", "on_event": "bye"},
            _email("nudge", "Still there, {{ name }}?"),
            {"id": "bye", "type": "exit"},
        ],
    }


def _import(page: Page, app_url: str, document: dict) -> int:
    created = page.request.post(f"{app_url}/api/v1/campaigns", data=document)
    assert created.status == 201, created.text()
    return created.json()["id"]


def _open_in_builder(page: Page, name: str) -> None:
    open_page(page, routes.CAMPAIGNS)
    if page.locator("#back-to-campaigns").count():  # the builder stays open across pages
        page.locator("#back-to-campaigns").click()
    page.locator(".campaign-row", has_text=name).get_by_role("button", name="Edit").click()
    expect(page.locator("#campaign-name")).to_have_value(name)


def _subjects(page: Page, app_url: str, who: str, count: int) -> list[str]:
    return rendered_subjects(page, app_url, f"{who}-{MARK}@example.com", at_least=count, timeout_s=LIVE_MS / 1000)


def test_contacts_go_down_each_path_of_a_branch_and_the_counts_arrive_on_their_own(
    contexts,  # noqa: F811
    browser,
    app_url,
    owner,
    hook,
):
    name, event = f"Plan split {MARK}", f"jp_upgraded_{MARK}"
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    _import(
        page,
        app_url,
        {
            "name": name,
            "trigger": {"event": event},
            "reentry": "every_time",
            "steps": [
                {
                    "id": "split",
                    "type": "branch",
                    "paths": [
                        {"name": "Pro", "when": [{"property": "plan", "op": "eq", "value": "pro"}], "then": "pro"}
                    ],
                    "else": "free",
                },
                _email("pro", "Your Pro tips, {{ name }}"),
                {"id": "done", "type": "exit"},
                _email("free", "Try Pro, {{ name }}"),
            ],
        },
    )
    _open_in_builder(page, name)
    page.locator("#activate-campaign").click()
    expect(page.locator(".campaign-row", has_text=name)).to_contain_text("active")

    branch = page.locator(".node-card").first
    pro, other = branch.locator(".journey-path").nth(0), branch.locator(".journey-path").nth(1)
    expect(pro).to_contain_text("Pro")
    expect(pro.locator(".path-took")).to_have_text("0 took this")

    _post(hook, event, "cy", plan="pro")
    _post(hook, event, "di", plan="free")

    # no Refresh: the open builder reads the counts itself while the journey is active
    expect(pro.locator(".path-took")).to_have_text("1 took this", timeout=LIVE_MS)
    expect(other.locator(".path-took")).to_have_text("1 took this", timeout=LIVE_MS)
    expect(page.locator(".node-card").nth(1).locator(".node-passed")).to_have_text("1 passed")
    assert _subjects(page, app_url, "cy", 1) == ["Your Pro tips, Cy"]
    assert _subjects(page, app_url, "di", 1) == ["Try Pro, Di"]
    expect(page.locator("#refresh-counts")).to_be_visible()  # kept: for "now", without waiting for the next read


def test_saving_a_live_journey_first_says_what_happens_to_the_contacts_waiting(
    contexts,  # noqa: F811
    browser,
    app_url,
    owner,
    hook,
):
    name, started, done = f"Live edit {MARK}", f"jp_started_{MARK}", f"jp_done_{MARK}"
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    campaign_id = _import(page, app_url, _waiting_journey(name, started, done))
    _open_in_builder(page, name)
    page.locator("#activate-campaign").click()
    expect(page.locator(".campaign-row", has_text=name)).to_contain_text("active")
    _post(hook, started, "ed")
    expect(page.locator(".node-card").first.locator(".node-waiting")).to_have_text("1 waiting", timeout=LIVE_MS)

    page.fill("#step-0-timeout", "2h")
    page.locator("#save-campaign").click()
    panel = page.locator("#edit-effects")
    expect(panel).to_contain_text("1 contact")
    effect = panel.locator(".edit-effect", has_text=f"Step 1 (wait for {done})")
    expect(effect).to_contain_text("1 waiting")
    expect(effect).to_contain_text("changed")

    page.get_by_role("button", name="Keep editing").click()
    expect(panel).to_have_count(0)
    expect(page.locator("#step-0-timeout")).to_have_value("2h")  # the edit is still there, unsaved
    stored = page.request.get(f"{app_url}/api/v1/campaigns/{campaign_id}").json()["document"]
    assert stored["steps"][0]["timeout"] == "1h"

    page.locator("#save-campaign").click()
    expect(panel).to_be_visible()
    page.get_by_role("button", name="Save anyway").click()
    expect(page.locator("#campaign-message")).to_contain_text("Saved.")
    expect(panel).to_have_count(0)
    stored = page.request.get(f"{app_url}/api/v1/campaigns/{campaign_id}").json()["document"]
    assert stored["steps"][0]["timeout"] == "2h"


def test_moved_counts_are_announced_once_in_a_polite_region_and_emails_not_reached_yet_are_explained(
    contexts,  # noqa: F811
    browser,
    app_url,
    owner,
    hook,
):
    name, started, done = f"Announced {MARK}", f"jp_an_started_{MARK}", f"jp_an_done_{MARK}"
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    campaign_id = _import(
        page, app_url, _waiting_journey(name, started, done, _email("hello", "Hello {{ name }}", delay="1h"))
    )
    assert page.request.post(f"{app_url}/api/v1/campaigns/{campaign_id}/activate").ok
    _post(hook, started, "fa")
    wait_until(
        lambda: page.request.get(f"{app_url}/api/v1/campaigns/{campaign_id}/journey").json()["hold"]["waiting"] == 1,
        what="Fa waiting at the wait for",
    )

    open_page(page, routes.CAMPAIGNS)
    if page.locator("#back-to-campaigns").count():
        page.locator("#back-to-campaigns").click()
    page.locator(".campaign-row", has_text=name).get_by_role("button", name="Archive").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("cancels 1 scheduled email;")  # Fa's Hello, due in an hour; not the nudge
    expect(dialog).to_contain_text(
        "Emails after a wait for an event or a branch are scheduled only when a contact gets there, "
        "so they are not in this count; they will not be sent either."
    )
    dialog.get_by_role("button", name="Keep it").click()

    _open_in_builder(page, name)
    cards = page.locator(".node-card")
    expect(cards.nth(2).locator(".not-scheduled-yet")).to_contain_text(
        "this email is scheduled only when a contact gets here"
    )
    expect(cards.nth(0).locator(".not-scheduled-yet")).to_have_count(0)  # written as the contact enrols
    region = page.locator("#counts-summary")
    expect(region).to_have_attribute("role", "status")
    expect(region).to_have_attribute("aria-live", "polite")
    expect(cards.nth(1).locator(".node-waiting")).to_have_text("1 waiting")
    expect(region).to_be_empty()  # what is on screen when the journey opens is not announced

    _post(hook, started, "gu")
    expect(cards.nth(1).locator(".node-waiting")).to_have_text("2 waiting", timeout=LIVE_MS)
    # one line for the move (Fa, there on load, is not counted again), not each number
    expect(region).to_have_text(
        f"Contacts moved: 1 more passed Step 1 (email); 1 more waiting at Step 2 (wait for {done}).",
        timeout=LIVE_MS,
    )


def test_a_step_with_an_error_is_outlined_named_and_tied_to_its_field(contexts, browser, app_url, owner):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    open_page(page, routes.CAMPAIGNS)
    if page.locator("#back-to-campaigns").count():
        page.locator("#back-to-campaigns").click()
    page.get_by_role("button", name="Blank").click()
    page.fill("#campaign-name", f"Errors {MARK}")
    page.fill("#trigger-event", f"jp_err_{MARK}")
    first = page.locator(".step-card").first
    first.locator("input.step-subject, .step-subject input").fill("Hi")
    write_html(first, "<p>Hi</p>")

    page.get_by_role("button", name="Add a step after step 1").click()
    page.get_by_role("menuitem", name="Wait", exact=True).click()
    page.fill("#step-1-duration", "1h")
    page.get_by_role("combobox", name="Step 2: then wait until").click()
    page.get_by_role("option", name="a window").click()
    page.fill("#step-1-until_start", "25:00")
    page.fill("#step-1-until_end", "17:00")

    page.get_by_role("button", name="Add a step after step 2").click()
    page.get_by_role("menuitem", name="Wait for event").click()
    page.fill("#step-2-timeout", "1h")  # the event left empty

    page.locator("#save-campaign").click()
    wait, wait_for = page.locator(".node-card").nth(1), page.locator(".node-card").nth(2)
    for card, label in ((wait, "Step 2 (wait): Use a time of day as HH:MM"), (wait_for, "Step 3 (wait for")):
        expect(card).to_have_attribute("data-invalid", "true")
        expect(card.locator(".node-problem")).to_contain_text(label)
    expect(page.locator(".node-card").first).to_have_attribute("data-invalid", "false")

    for field in ("#step-1-until_start", "#step-2-event"):
        expect(page.locator(field)).to_have_attribute("aria-invalid", "true")
        expect(page.locator(field)).to_have_attribute("aria-describedby", field[1:] + "-error")
        expect(page.locator(field + "-error")).not_to_be_empty()
    expect(page.locator("#step-1-until_start-error")).to_have_text("Use a time of day as HH:MM (00:00 to 23:59).")
    expect(page.locator("#step-1-until_end")).to_have_attribute("aria-invalid", "false")
    expect(page.locator("#campaign-message")).to_have_count(0)  # not saved

    # a window that ends when it starts: the refusal sits on To, the field to change
    page.fill("#step-1-until_start", "17:00")
    page.fill("#step-2-event", f"jp_err_done_{MARK}")
    page.locator("#save-campaign").click()
    expect(page.locator("#step-1-until_end")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#step-1-until_end")).to_have_attribute("aria-describedby", "step-1-until_end-error")
    expect(page.locator("#step-1-until_end-error")).to_have_text(
        "The window ends when it starts: pick a different end time"
    )
    expect(page.locator("#step-1-until_start")).to_have_attribute("aria-invalid", "false")
    expect(page.locator("#step-1-until-error")).to_have_count(0)  # not also under the whole window
    expect(wait).to_have_attribute("data-invalid", "true")
    expect(page.locator(".node-card").nth(2)).to_have_attribute("data-invalid", "false")
