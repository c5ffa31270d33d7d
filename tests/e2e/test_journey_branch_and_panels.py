"""Journeys in the builder, continued: a marketer builds a branch from blank — its condition typed into the
path, an email on each path — saves it, activates it, and each contact goes down the path its event says.
Then the panels a journey adds pass the look checks (accessibility, no sideways scroll at 390 px, gallery):
the dry run's path lines and the "what will happen" panel before saving a live journey."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from humanic_app import routes
from humanic_app.services.samples import posthog_event
from tests.e2e.helpers import rendered_subjects, write_html
from tests.e2e.test_every_page import check, contexts, open_page, signed_in  # noqa: F401 (fixture)
from tests.support.waiting import wait_until
from tests.support.webhooks import post_like_posthog

MARK = uuid.uuid4().hex[:6]
LIVE_MS = 30_000  # the worker's next look


@pytest.fixture(scope="module")
def hook(contexts, browser, app_url, owner) -> str:  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    shop = page.request.post(f"{app_url}/api/v1/sources", data={"name": f"Journey branch {MARK}"}).json()
    assert page.request.post(f"{app_url}/api/v1/sources/{shop['id']}/activate").ok
    assert page.request.put(
        f"{app_url}/api/v1/settings", data={"from_email": "shop@acme.io", "physical_address": "1 Main St, Springfield"}
    ).ok
    return shop["webhook_url"].replace("http://testserver", app_url)


def _post(hook: str, event: str, who: str, **properties) -> None:
    body = posthog_event(
        event=event, distinct_id=f"{who}-{MARK}", email=f"{who}-{MARK}@example.com", properties=properties
    )
    assert post_like_posthog(hook, body) == 200


def _subjects(page: Page, app_url: str, who: str, count: int) -> list[str]:
    return rendered_subjects(page, app_url, f"{who}-{MARK}@example.com", at_least=count, timeout_s=LIVE_MS / 1000)


def _fill_email(card, subject: str) -> None:
    card.locator("input.step-subject, .step-subject input").fill(subject)
    write_html(card, f"<p>{subject}</p>")


def _fresh_builder(page: Page) -> None:
    open_page(page, routes.CAMPAIGNS)
    if page.locator("#back-to-campaigns").count():  # the builder stays open across pages
        page.locator("#back-to-campaigns").click()


def _add(page, menu: str, kind: str) -> None:
    """A node from an add-step menu; the menu (not modal) is gone before the next one opens."""
    page.get_by_role("button", name=menu).click()
    page.get_by_role("menuitem", name=kind).click()
    expect(page.get_by_role("menu")).to_have_count(0)


def _step(page, number: int):
    return page.locator(".step-card").filter(has=page.get_by_role("heading", name=f"Step {number}", exact=True))


def test_a_branch_built_from_blank_sends_each_contact_down_its_path(contexts, browser, app_url, owner, hook):  # noqa: F811
    name, event = f"Plan branch {MARK}", f"jbb_signed_up_{MARK}"
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    _fresh_builder(page)
    page.get_by_role("button", name="Blank").click()
    page.fill("#campaign-name", name)
    page.fill("#trigger-event", event)
    _fill_email(page.locator(".step-card").first, "Welcome")

    _add(page, "Add a step after step 1", "Branch")
    _add(page, "Add a step to Step 2 Path 1", "Email")
    _add(page, "Add a step to Step 2 Everyone else", "Email")
    expect(page.locator(".node-card")).to_have_count(5)  # email, branch, two emails, and the exit they meet at
    # the condition, typed in: the event's plan is pro
    page.get_by_role("combobox", name="Step 2 path 1 condition 1: kind").click()
    page.get_by_role("option", name="event property").click()
    page.get_by_role("textbox", name="Step 2 path 1 condition 1: property name").fill("plan")
    page.get_by_role("textbox", name="Step 2 path 1 condition 1: value").fill("pro")
    page.get_by_role("textbox", name="Step 2 Path 1: name").fill("Pro")
    # the emails, by where each path leads
    expect(page.get_by_role("combobox", name="Step 2 Everyone else: then go to")).to_contain_text("Step 3 (email")
    _fill_email(_step(page, 3), "Try Pro")  # by number: the flow draws the Pro path's column first
    expect(page.get_by_role("combobox", name=re.compile(r"^Step 2 (Pro|Path 1): then go to$"))).to_contain_text(
        "Step 4 (email"
    )
    _fill_email(_step(page, 4), "Pro tips")

    page.locator("#save-campaign").click()
    expect(page.locator("#campaign-message")).to_have_text("Saved.")
    listed = page.request.get(f"{app_url}/api/v1/campaigns").json()
    steps = next(c for c in listed if c["name"] == name)["document"]["steps"]
    branch, try_pro, pro_tips = steps[1], steps[2], steps[3]
    assert branch["type"] == "branch" and branch["else"] == try_pro["id"]
    assert branch["paths"] == [
        {"name": "Pro", "when": [{"property": "plan", "op": "eq", "value": "pro"}], "then": pro_tips["id"]}
    ]

    page.locator("#activate-campaign").click()
    expect(page.locator(".campaign-row", has_text=name)).to_contain_text("active")
    _post(hook, event, "pia", plan="pro")
    _post(hook, event, "fen", plan="free")
    assert _subjects(page, app_url, "pia", 2) == ["Pro tips", "Welcome"]
    assert _subjects(page, app_url, "fen", 2) == ["Try Pro", "Welcome"]


PANEL_LOOKS = [("light", "phone"), ("dark", "desktop")]


@pytest.mark.parametrize(("theme", "width"), PANEL_LOOKS)
def test_the_dry_run_paths_and_the_live_edit_panel_pass_the_look_checks(
    contexts,  # noqa: F811
    browser,
    app_url,
    owner,
    hook,
    theme,
    width,
):
    name = f"Panels {theme} {width} {MARK}"
    started, done = f"jbp_started_{theme}_{width}_{MARK}", f"jbp_done_{theme}_{width}_{MARK}"
    page = signed_in(contexts, browser, app_url, owner, theme, width)
    document = {
        "name": name,
        "trigger": {"event": started},
        "reentry": "every_time",
        "steps": [
            {"id": "hold", "type": "wait_for", "event": done, "timeout": "1h", "on_event": "bye"},
            {"id": "nudge", "delay": "0", "subject": "Still there?", "html": "<p>Hi</p>"},
            {"id": "bye", "type": "exit"},
        ],
    }
    created = page.request.post(f"{app_url}/api/v1/campaigns", data=document)
    assert created.status == 201, created.text()
    campaign_id = created.json()["id"]
    assert page.request.post(f"{app_url}/api/v1/campaigns/{campaign_id}/activate").ok
    _post(hook, started, f"wai-{theme}")
    wait_until(
        lambda: page.request.get(f"{app_url}/api/v1/campaigns/{campaign_id}/journey").json()["hold"]["waiting"] == 1,
        what="one contact waiting at the wait for",
    )

    _fresh_builder(page)
    page.locator(".campaign-row", has_text=name).get_by_role("button", name="Edit").click()
    expect(page.locator("#campaign-name")).to_have_value(name)
    page.locator("#dry-run").click()
    expect(page.locator(".dry-run-path").first).to_have_text(f"Still waiting at Step 1 (wait for {done}): 1")
    check(page, f"journey-dry-run-paths-{theme}-{width}")

    page.fill("#step-0-timeout", "2h")
    page.locator("#save-campaign").click()
    panel = page.locator("#edit-effects")
    expect(panel.locator(".edit-effect", has_text=f"Step 1 (wait for {done})")).to_contain_text("1 waiting")
    panel.scroll_into_view_if_needed()
    check(page, f"journey-edit-effects-{theme}-{width}")
    page.get_by_role("button", name="Keep editing").click()
    expect(panel).to_have_count(0)
