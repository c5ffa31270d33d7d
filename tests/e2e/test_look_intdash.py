"""The Integrations page and the Dashboard in the states the walk over empty pages does not reach: a source
waiting for its test event, a live source (its summary, the folded setup steps), a Dashboard with traffic.
Each state is checked like every page (no sideways scroll, no serious axe finding, a gallery picture) in both
themes at 1280 and 390 px, and the issue-16 finish items are asserted on it."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from humanic_app import routes
from humanic_app.services.samples import posthog_event
from tests.e2e.test_every_page import LOOKS, check, contexts, open_page, signed_in
from tests.support.contrast import svg_text_contrast
from tests.support.look import WIDTHS as WIDTH_OF
from tests.support.webhooks import post_like_posthog

__all__ = ["contexts"]  # the walk's shared signed-in browsers, one per look


def _new_source(page: Page, app_url: str, name: str) -> tuple[dict, str]:
    source = page.request.post(f"{app_url}/api/v1/sources", data={"name": name}).json()
    return source, source["webhook_url"].replace("http://testserver", app_url)


def _open_source(page: Page, name: str) -> None:
    open_page(page, routes.INTEGRATIONS)
    picker = page.get_by_role("button", name=name, exact=True)
    if picker.count():  # several sources: pick this one; alone, it is already shown
        picker.click()
        page.mouse.move(0, 0)  # the pointer left on it would show its hover colours in the pictures
    expect(page.locator("#rename-source")).to_have_value(name)


def _line_centre(page: Page, selector: str) -> float:
    """The vertical centre of the first line of text inside the element (its box, border and padding aside)."""
    return page.eval_on_selector(
        selector,
        """el => { const s = getComputedStyle(el), r = el.getBoundingClientRect();
        return r.top + parseFloat(s.borderTopWidth) + parseFloat(s.paddingTop) + parseFloat(s.lineHeight) / 2; }""",
    )


@pytest.mark.parametrize(("theme", "width"), LOOKS)
def test_integrations_while_waiting_then_the_event_is_announced(contexts, browser, app_url, owner, theme, width):
    page = signed_in(contexts, browser, app_url, owner, theme, width)
    name = f"Waiting {theme} {width} {uuid.uuid4().hex[:6]}"
    _, hook = _new_source(page, app_url, name)
    _open_source(page, name)

    status = page.locator("#test-event-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_text("Waiting for a test event…")
    expect(page.locator("#setup-steps-toggle")).to_have_count(0)  # not live yet: the steps are the page
    # No empty pills before the first event: every badge and code value says something.
    for pill in page.locator("main .rt-Badge, main code").all():
        assert pill.inner_text().strip(), "an empty pill"
    expect(page.locator(".mapped-value-email")).to_have_text("No event yet")

    steps = page.locator(".numbered-steps")  # numbered, in the body text's size
    assert steps.evaluate("el => getComputedStyle(el).listStyleType") == "decimal"
    body_size = page.locator("#setup-steps p").first.evaluate("el => getComputedStyle(el).fontSize")
    assert steps.evaluate("el => getComputedStyle(el).fontSize") == body_size == "14px"

    if width == "desktop":  # side by side: each label's line sits on its box's first line
        offset = _line_centre(page, "label[for='map-email']") - _line_centre(page, "#map-email")
        assert abs(offset) <= 2, f"the Email label is {offset:.1f} px off its box"
    long_paths = "person.properties.email, event.properties.customer.contact.primary_email_address_verified"
    page.fill("#map-email", long_paths)  # a long value wraps inside its box, nothing cut
    box = page.locator("#map-email")
    assert box.evaluate("el => el.scrollHeight <= el.clientHeight + 1 && el.scrollWidth <= el.clientWidth + 1")
    assert box.evaluate("el => el.clientHeight") > 30, "the box did not grow to show the whole value"
    page.fill("#map-email", "person.properties.email")
    check(page, f"integrations-waiting-{theme}-{width}")

    announced = status.element_handle()
    assert post_like_posthog(hook, posthog_event(event="look_signed_up", distinct_id="look", email="l@x.io")) == 200
    expect(status).to_contain_text("Test event received: look_signed_up")
    assert announced.evaluate("el => el.isConnected"), "the live region was replaced, so nothing is announced"
    expect(page.locator(".mapped-value-email")).to_have_text("l@x.io")
    open_page(page, routes.DASHBOARD)  # stop its polling: the browsers stay open for the next tests


@pytest.mark.parametrize(("theme", "width"), LOOKS)
def test_a_live_source_shows_its_summary_and_folds_the_setup_steps(contexts, browser, app_url, owner, theme, width):
    page = signed_in(contexts, browser, app_url, owner, theme, width)
    name = f"Live {theme} {width} {uuid.uuid4().hex[:6]}"
    source, hook = _new_source(page, app_url, name)
    for i in range(3):
        assert post_like_posthog(hook, posthog_event(event="plan_upgraded", distinct_id=f"u{i}")) == 200
    assert post_like_posthog(hook, {"not": "a PostHog body"}) >= 400  # refused on this source's URL
    page.request.post(f"{app_url}/api/v1/sources/{source['id']}/activate")
    _open_source(page, name)

    summary = page.locator("#source-summary")
    expect(summary).to_contain_text("Active")
    expect(page.locator("#events-today")).to_have_text("3")
    expect(page.locator("#last-event")).to_contain_text("plan_upgraded")
    expect(page.locator("#last-event")).to_contain_text("ago")
    expect(page.locator("#errors-today")).to_contain_text("1 refused delivery")
    toggle = page.get_by_role("button", name="Setup steps")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_have_attribute("aria-controls", "setup-steps")
    expect(page.locator("#setup-steps")).to_be_hidden()
    check(page, f"integrations-live-{theme}-{width}")

    toggle.focus()  # a keyboard opens and closes it
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#setup-steps")).to_be_visible()
    expect(page.locator("#webhook-url")).to_be_visible()
    check(page, f"integrations-live-steps-open-{theme}-{width}")
    page.keyboard.press("Space")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#setup-steps")).to_be_hidden()

    page.locator("#pause-source").click()  # the switch lives in the summary now
    expect(page.locator("#source-status")).to_have_text("Paused")
    expect(summary).to_contain_text("Paused")
    open_page(page, routes.DASHBOARD)


CHARTS = ("events_by_source", "events_by_name", "rejected", "contacts", "emails", "engagement", "rates", "webhook")


def test_dashboard_charts_with_nothing_to_draw_say_what_will_fill_them(contexts, browser, app_url, owner):
    """Before any traffic of this module's own: each chart either draws its data or says "No data yet" and what
    fills it, never bare axes. (On a fresh app, as the walk alone meets it, every chart is empty.)"""
    page = signed_in(contexts, browser, app_url, owner, "light", "desktop")
    open_page(page, routes.DASHBOARD)
    page.get_by_role("radio", name="24 h").click()
    for key in CHARTS:
        card = page.locator(f"#chart-{key}")
        expect(card.locator(".chart-empty, .recharts-surface").first).to_be_visible()
        if card.locator(".chart-empty").count():
            expect(card.locator(".chart-empty")).to_contain_text("No data yet")
            assert len(card.locator(".chart-empty").inner_text()) > len("No data yet") + 20, "says what fills it"
            expect(card.locator(".recharts-surface")).to_have_count(0)


@pytest.fixture(scope="module")
def traffic(app):
    """A day of activity through the real services (tests/support/history.py), retired afterwards: the app is
    shared, later journeys must not see these campaigns fire."""
    from humanic_app.db import make_engine
    from tests.support.history import retire_history, seed_history
    from tests.support.server import run_dir

    engine = make_engine(f"sqlite:///{run_dir('sqlite') / 'data' / 'humanic.db'}")
    patcher = pytest.MonkeyPatch()
    try:
        seed_history(engine, hours=26, per_hour=12, monkeypatch=patcher)
        patcher.undo()
        yield
    finally:
        patcher.undo()
        retire_history(engine)
        _free_names(engine)
        engine.dispose()


def _free_names(engine) -> None:
    """The seeded "Production" and "Staging" take names other journeys connect under: rename them away."""
    from sqlmodel import Session

    from humanic_app.services import sources

    with Session(engine) as session:
        for source in sources.list_sources(session=session):
            if source.name in ("Production", "Staging"):
                sources.rename_source(session=session, source_id=source.id, name=f"{source.name} (look #{source.id})")
        session.commit()


def _boxes_overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.mark.parametrize(("theme", "width"), LOOKS)
def test_dashboard_with_traffic_fits_and_reads(traffic, contexts, browser, app_url, owner, theme, width):
    page = signed_in(contexts, browser, app_url, owner, theme, width)
    open_page(page, routes.DASHBOARD)
    page.get_by_role("radio", name="24 h").click()

    # Troubleshooting lists something (the day's refused deliveries): so no "Setup complete", the checklist stays.
    expect(page.locator("#findings .finding").first).to_be_visible()
    expect(page.locator("#setup-checklist")).to_be_visible()
    expect(page.locator("#setup-complete")).to_have_count(0)

    rates = page.locator("#chart-rates")
    expect(rates.locator(".recharts-surface")).to_be_visible()
    ticks = rates.locator(".recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value").all_text_contents()
    assert ticks[0] == "0%" and all(t.endswith("%") for t in ticks), ticks  # starts at 0, in percent
    assert 0.3 < float(ticks[-1].rstrip("%")) <= 100, ticks  # a top that keeps Gmail's 0.3 % line in view
    labels = rates.locator("text.recharts-label")  # the two Gmail lines' labels
    expect(labels).to_have_count(2)
    first, second = (label.bounding_box() for label in labels.all())
    assert first and second and not _boxes_overlap(first, second), (first, second)

    for key in CHARTS:  # every chart and its legend fit their card, the legend wrapping rather than cut
        card = page.locator(f"#chart-{key}")
        card_box = card.bounding_box()
        assert card_box and card_box["x"] + card_box["width"] <= WIDTH_OF[width] + 1
        if card.locator(".chart-legend").count():
            for item in card.locator(".chart-legend > *").all():
                box = item.bounding_box()
                assert box and box["x"] + box["width"] <= card_box["x"] + card_box["width"], f"{key}: legend cut"
            surface = card.locator(".recharts-surface").bounding_box()
            assert surface and surface["width"] <= card_box["width"], f"{key}: chart wider than its card"
    check(page, f"dashboard-traffic-{theme}-{width}")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_chart_text_reads_at_4_5_to_1(traffic, contexts, browser, app_url, owner, theme):
    """axe does not read SVG text: every tick value and reference label the charts draw stands 4.5:1 against
    the card it sits on."""
    page = signed_in(contexts, browser, app_url, owner, theme, "desktop")
    open_page(page, routes.DASHBOARD)
    page.get_by_role("radio", name="24 h").click()
    expect(page.locator("#chart-rates .recharts-surface")).to_be_visible()
    read = [svg_text_contrast(text) for key in CHARTS for text in page.locator(f"#chart-{key} svg text").all()]
    assert len(read) > 20, "the charts drew their axes"
    faint = [f"{t['what']!r} at {t['ratio']:.2f}:1" for t in read if t["ratio"] < 4.5]
    assert faint == [], faint
