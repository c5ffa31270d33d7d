"""The journey builder draws a wait-for's ways out side by side: each path's nodes sit inside its column until
the paths meet again (then the flow goes on below both); on a phone the columns stack. Nodes are added and
removed in place in their column, each still showing its live counts; the page passes the look checks at
390 and 1280 px, light and dark."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Locator, Page, expect

from humanic_app import routes
from tests.e2e.test_every_page import LOOKS, check, contexts, open_page, signed_in  # noqa: F401 (fixture)
from tests.support.look import element_shot

MARK = uuid.uuid4().hex[:6]
NAME = f"Side by side {MARK}"


def _email(node_id: str, subject: str, **more) -> dict:
    return {"id": node_id, "subject": subject, "html": f"<p>{subject}</p>", **more}


@pytest.fixture(scope="module")
def journey(contexts, browser, app_url, owner) -> None:  # noqa: F811
    """Hello, then a wait for the checkout: it happened → Thanks; timed out → Nudge; both then After."""
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    document = {
        "name": NAME,
        "trigger": {"event": f"jf_started_{MARK}"},
        "steps": [
            _email("hello", "Hello"),
            {"id": "hold", "type": "wait_for", "event": f"jf_done_{MARK}", "timeout": "1h", "on_event": "thanks"},
            _email("nudge", "Nudge", next="after"),
            _email("thanks", "Thanks"),
            _email("after", "After"),
        ],
    }
    created = page.request.post(f"{app_url}/api/v1/campaigns", data=document)
    assert created.status == 201, created.text()


def _open(page: Page) -> None:
    open_page(page, routes.CAMPAIGNS)
    if page.locator("#back-to-campaigns").count():  # the builder stays open across pages
        page.locator("#back-to-campaigns").click()
    page.locator(".campaign-row", has_text=NAME).get_by_role("button", name="Edit").click()


def _column(page: Page, path: int) -> Locator:
    return page.locator(f'.journey-column[data-step="2"][data-path="{path}"]')


def _box(locator: Locator) -> dict:
    box = locator.bounding_box()
    assert box is not None
    return box


def _inside(inner: Locator, outer: Locator) -> bool:
    a, b = _box(inner), _box(outer)
    return (
        a["x"] >= b["x"] - 1
        and a["y"] >= b["y"] - 1
        and a["x"] + a["width"] <= b["x"] + b["width"] + 1
        and a["y"] + a["height"] <= b["y"] + b["height"] + 1
    )


@pytest.mark.parametrize(("theme", "width"), LOOKS)
def test_each_paths_nodes_sit_in_its_column_until_the_paths_meet(
    contexts,  # noqa: F811
    browser,
    app_url,
    owner,
    journey,
    theme,
    width,
):
    page = signed_in(contexts, browser, app_url, owner, theme, width)
    _open(page)
    happened, timed_out = _column(page, 0), _column(page, 1)
    thanks, nudge, after = (page.locator(f'.node-card[data-step="{n}"]') for n in (4, 3, 5))
    expect(happened.locator(".node-card")).to_have_count(1)
    expect(happened.locator(".column-title")).to_have_text("Step 2: It happened")
    expect(timed_out.locator(".column-title")).to_have_text("Step 2: Timed out")
    expect(happened.locator('.node-card[data-step="4"]')).to_have_count(1)
    expect(timed_out.locator('.node-card[data-step="3"]')).to_have_count(1)
    expect(page.locator(".journey-column").locator('.node-card[data-step="5"]')).to_have_count(0)  # they met
    expect(thanks.locator(".node-waiting")).to_have_text("0 waiting")  # each node keeps its live counts
    expect(nudge.locator(".node-passed")).to_have_text("0 passed")
    assert _inside(thanks, happened) and _inside(nudge, timed_out)

    left, right, below = _box(happened), _box(timed_out), _box(after)
    if width == "desktop":  # side by side, level with each other
        assert left["x"] + left["width"] <= right["x"] and abs(left["y"] - right["y"]) <= 1
    else:  # one under the other
        assert right["y"] >= left["y"] + left["height"]
    assert below["y"] >= max(left["y"] + left["height"], right["y"] + right["height"])

    check(page, f"journey-flow-columns-{theme}-{width}")
    element_shot(page, "#journey-flow", f"journey-flow-columns-flow-{theme}-{width}")

    # added, moved and removed in place: a step after Thanks goes into its column and stays there
    expect(page.get_by_role("button", name="Move step 4 up")).to_be_disabled()  # the top of its column
    page.get_by_role("button", name="Add a step after step 4").click()
    page.get_by_role("menuitem", name="Wait", exact=True).click()
    expect(happened.locator(".node-card")).to_have_count(2)
    expect(happened.locator(".node-card").nth(1)).to_have_attribute("data-kind", "wait")
    expect(timed_out.locator(".node-card")).to_have_count(1)
    page.get_by_role("button", name="Move step 5 up").click()
    expect(happened.locator(".node-card").nth(0)).to_have_attribute("data-kind", "wait")
    expect(page.get_by_role("combobox", name="Step 2 It happened: then go to")).to_contain_text("Step 4 (wait")
    expect(timed_out.locator(".node-card")).to_have_count(1)
    page.get_by_role("button", name="Delete step 4").click()
    expect(happened.locator(".node-card")).to_have_count(1)
    expect(happened.locator(".node-card")).to_have_attribute("data-step", "4")
    expect(page.locator(".node-card")).to_have_count(5)
