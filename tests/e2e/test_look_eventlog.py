"""The Event Log as a marketer, a phone and a screen reader meet it once events flow: the time column, the
outcome pills, paging, the filters and their empty state, the rejected-deliveries finding's link, the live
region's throttled summary and the detail dialog at 390 px. Each look is checked (no sideways scroll, no
serious axe finding) and written to the gallery."""

from __future__ import annotations

import itertools
import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from humanic_app import routes
from humanic_app.services.samples import posthog_event
from tests.e2e.test_every_page import check, contexts, open_page, signed_in  # noqa: F401  (contexts: a fixture)
from tests.support.look import serious_violations, settled, shot
from tests.support.waiting import wait_until
from tests.support.webhooks import post_like_posthog

TAG = uuid.uuid4().hex[:6]  # the shared app keeps every journey's events: ours carry this tag
PAGED = f"paged_{TAG}_signed_up"  # 55 of them: more than one page of 50
BURST = f"burst_{TAG}_clicked"


def _hook(page: Page, app_url: str, name: str) -> str:
    source = page.request.post(f"{app_url}/api/v1/sources", data={"name": name}).json()
    return source["webhook_url"].replace("http://testserver", app_url)


def _post(url: str, event: str, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        body = posthog_event(event=event, distinct_id=f"{event}-{i}", email=f"u{i}-{TAG}@example.com")
        assert post_like_posthog(url, body) == 200


@pytest.fixture(scope="module")
def hook(contexts, browser, app_url, owner) -> str:  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    url = _hook(page, app_url, f"Look journey {TAG}")
    _post(url, PAGED, 55)
    assert post_like_posthog(url, {"event": {"uuid": "x"}}) == 422  # a rejected delivery, with its reason
    return url


def _one_line(page: Page, selector: str) -> None:
    """Every element matched is one line high (its height under 1.6 of its line height)."""
    tall = page.evaluate(
        """sel => [...document.querySelectorAll(sel)].filter(el => {
             const line = parseFloat(getComputedStyle(el).lineHeight) || 20;
             return el.getBoundingClientRect().height > 1.6 * line; }).length""",
        selector,
    )
    assert tall == 0, f"{tall} of {selector} wrap"


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_time_is_relative_on_one_line_and_pills_are_whole(contexts, browser, app_url, owner, hook, width):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", width)
    open_page(page, routes.EVENT_LOG)
    time = page.locator(".event-row .event-time").first
    expect(time).to_have_text(re.compile(r"(seconds?|minutes?|hours?|days?) ago$"))
    expect(time).to_have_attribute("title", re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$"))
    _one_line(page, ".event-row .event-time")
    _one_line(page, ".event-row .outcome-pill")
    pills = page.locator(".event-row .outcome-pill")
    expect(pills.first).to_be_visible()
    cut = page.evaluate(
        """() => [...document.querySelectorAll('.event-row .outcome-pill')].filter(p => {
             const cell = p.closest('td').getBoundingClientRect(), r = p.getBoundingClientRect();
             return !p.textContent.trim() || p.scrollWidth > p.clientWidth + 1 || r.right > cell.right + 1
               || r.left < cell.left - 1; }).length"""
    )
    assert cut == 0, f"{cut} outcome pills are empty or cut"
    frame = page.locator("#event-log-table").locator("xpath=..").bounding_box()
    pill = pills.first.bounding_box()
    assert frame and pill and pill["x"] + pill["width"] <= frame["x"] + frame["width"], "the outcome needs a scroll"
    rejected = page.locator(".event-row", has=page.locator(".outcome-pill", has_text="rejected")).first
    reason = rejected.locator(".outcome-reason")  # cut with an ellipsis if need be, whole on hover
    expect(reason).to_have_attribute("title", re.compile(r".{8,}"))
    check(page, f"event-log-filled-light-{width}")


def test_paging_reads_newer_and_older(contexts, browser, app_url, owner, hook):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    open_page(page, f"{routes.EVENT_LOG}?event={PAGED}")
    rows = page.locator(".event-row")
    expect(rows).to_have_count(50)
    newer, older = page.get_by_role("button", name="Newer"), page.get_by_role("button", name="Older")
    expect(newer).to_be_disabled()  # the newest page
    older.click()
    expect(rows).to_have_count(5)
    expect(rows.first).to_contain_text(PAGED)
    expect(page.locator("#live-switch")).to_have_attribute("aria-checked", "false")  # history stays still
    expect(older).to_be_disabled()
    newer.click()
    expect(rows).to_have_count(50)
    expect(newer).to_be_disabled()


def test_filters_match_substrings_clear_and_say_when_nothing_matches(contexts, browser, app_url, owner, hook):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "dark", "phone")
    open_page(page, routes.EVENT_LOG)
    page.fill("#event-filter", f"{TAG}_SIGNED")  # a part of the name, in another case
    page.get_by_role("button", name="Filter", exact=True).click()
    rows = page.locator(".event-row")
    expect(rows).to_have_count(50)
    expect(rows.filter(has_text=PAGED)).to_have_count(50)
    clear = page.locator("#clear-filters")
    expect(clear).to_have_text("Clear filters")
    clear.click()
    expect(page.locator("#event-filter")).to_have_value("")
    expect(clear).to_have_count(0)

    page.fill("#event-filter", f"nothing_{TAG}")
    page.get_by_role("button", name="Filter", exact=True).click()
    empty = page.locator(".empty-state")
    expect(empty).to_contain_text("No events match these filters")
    expect(empty.get_by_role("link", name="Connect PostHog")).to_have_count(0)  # not "nothing connected"
    check(page, "event-log-no-match-dark-phone")
    empty.get_by_role("button", name="Clear filters").click()
    expect(rows.first).to_be_visible()
    expect(page.locator("#event-filter")).to_have_value("")


def test_the_rejected_finding_opens_the_log_filtered_to_rejected(contexts, browser, app_url, owner, hook):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    open_page(page, routes.DASHBOARD)
    finding = page.locator("#findings .finding", has_text="rejected in the last 7 days")
    finding.get_by_role("link", name="Go there").click()
    expect(page).to_have_url(re.compile(r"/events/?\?outcome=rejected$"))
    expect(page.locator("#outcome-filter")).to_have_text("Rejected")
    expect(page.locator(".event-row").first).to_be_visible()
    expect(page.locator(".event-row .outcome-pill").filter(has_not_text="rejected")).to_have_count(0)

    page.locator("#clear-filters").click()
    expect(page.locator("#outcome-filter")).to_have_text("All outcomes")
    on_page = page.locator(".page-finding", has_text="rejected in the last 7 days")  # the same finding, here
    on_page.get_by_role("link", name="Show them").click()
    expect(page.locator("#outcome-filter")).to_have_text("Rejected")
    expect(page.locator(".event-row .outcome-pill").filter(has_not_text="rejected")).to_have_count(0)


def test_live_mode_announces_a_throttled_summary_not_each_row(contexts, browser, app_url, owner, hook):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    open_page(page, f"{routes.EVENT_LOG}?event={BURST}")
    region = page.locator("#live-summary")
    expect(region).to_have_attribute("role", "status")
    expect(region).to_have_attribute("aria-live", "polite")
    page.evaluate(
        """() => { window.said = []; const region = document.querySelector('#live-summary');
           new MutationObserver(() => window.said.push([performance.now(), region.textContent]))
             .observe(region, {childList: true, subtree: true, characterData: true}); }"""
    )
    _post(hook, BURST, 30)
    expect(page.locator(".event-row")).to_have_count(30)
    page.wait_for_function(  # every event is counted in some summary
        "() => window.said.reduce((n, [, text]) => n + (parseInt(text) || 0), 0) >= 30"
    )
    said = page.evaluate("window.said")
    texts = [text for _, text in said]
    assert all(re.fullmatch(r"\d+ new events?", t) for t in texts), texts
    assert sum(int(t.split()[0]) for t in texts) == 30, texts
    assert len(texts) <= 3, f"one announcement per burst every few seconds, not per row: {texts}"
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(said)]
    assert all(gap >= 3500 for gap in gaps), gaps


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_detail_fits_a_phone(contexts, browser, app_url, owner, hook, theme):  # noqa: F811
    page = signed_in(contexts, browser, app_url, owner, theme, "phone")
    open_page(page, f"{routes.EVENT_LOG}?outcome=rejected")
    page.locator(".event-row .event-open").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator("#detail-payload")).to_be_visible()
    settled(page)  # mid-zoom, the dialog's box and its colours are not yet what stays
    box = dialog.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    overflow = page.evaluate(
        """() => [...document.querySelectorAll('#event-detail *')].filter(el => {
             const r = el.getBoundingClientRect(); return r.width > 0 && (r.right > 391 || r.left < -1); }).length"""
    )
    assert overflow == 0, f"{overflow} elements of the detail stick out of a 390 px window"
    assert serious_violations(page, within="#event-detail") == []
    shot(page, f"event-log-detail-{theme}-phone", full_page=False)
    dialog.get_by_role("tab", name="Campaigns").click()
    expect(dialog.get_by_role("tab", name="Campaigns")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_long_payload_scrolls_by_keyboard_and_focus_returns(contexts, browser, app_url, owner, hook, theme):  # noqa: F811
    """A full PostHog event is taller than its frame: the frame is a named region a keyboard reaches and scrolls,
    and closing the detail puts focus back on the row it was opened from."""
    page = signed_in(contexts, browser, app_url, owner, theme, "phone")
    open_page(page, f"{routes.EVENT_LOG}?event={PAGED}")
    opener = page.locator(".event-row .event-open").first
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    payload = dialog.get_by_role("region", name="Raw payload")
    expect(payload).to_be_visible()
    settled(page)
    assert payload.evaluate("el => el.scrollHeight > el.clientHeight"), "the payload fits: nothing to scroll"
    payload.focus()
    expect(payload).to_be_focused()
    page.keyboard.press("End")
    wait_until(lambda: payload.evaluate("el => el.scrollTop") > 0, what="the payload scrolled by keyboard")
    assert serious_violations(page, within="#event-detail") == []
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(opener).to_be_focused()
