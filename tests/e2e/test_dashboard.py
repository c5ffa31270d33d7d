"""Journey: the marketer opens the Dashboard of an app that has been running for three days: pipeline
health, the campaign funnel, activity charts over 24 h and 7 days, and the troubleshooting findings.
Also writes the screenshot shown in the README (docs/dashboard.png is a copy of it)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from humanic_app.db import make_engine
from humanic_app.services.samples import posthog_event
from tests.support.history import retire_history, seed_history
from tests.support.look import element_shot, serious_violations, sideways_scroll
from tests.support.server import RUNS_DIR, run_dir
from tests.support.webhooks import post_like_posthog

SCREENSHOT = RUNS_DIR / "dashboard.png"
LOADED = re.compile(r"last run (never|\d+ min ago)")  # Pipeline health as read, not its labels before the load


@pytest.fixture(scope="module")
def history(app):
    engine = make_engine(f"sqlite:///{run_dir('sqlite') / 'data' / 'humanic.db'}")
    patcher = pytest.MonkeyPatch()
    try:
        seed_history(engine, monkeypatch=patcher)
        yield
    finally:
        patcher.undo()
        retire_history(engine)  # the app is shared: later journeys must not see these campaigns fire
        engine.dispose()


def test_dashboard_shows_health_funnel_charts_and_findings(history, signed_in_page, app_url):
    page = signed_in_page
    hook = _production_hook(page, app_url)
    for i in range(20):  # and the last few minutes through the real webhook
        assert (
            post_like_posthog(
                hook, posthog_event(event="pricing_page_viewed", distinct_id=f"live_{i}", email=f"live{i}@example.com")
            )
            == 200
        )
    page.set_viewport_size({"width": 1366, "height": 2200})
    page.goto("/")
    health = page.locator("#pipeline-health")
    expect(health).to_contain_text("p99 answer time")
    expect(health).to_contain_text("Processing backlog")
    funnel = page.locator(".funnel-row", has_text="Onboarding")
    expect(funnel.first).to_be_visible()
    for chart in ("events_by_source", "events_by_name", "emails", "rates", "webhook"):
        expect(page.locator(f"#chart-{chart} .recharts-surface").first).to_be_visible()
    expect(page.locator("#chart-events_by_source .chart-legend")).to_contain_text("Production")
    expect(page.locator("#chart-events_by_source .recharts-bar-rectangle").first).to_be_visible()
    findings = page.locator("#findings")
    expect(findings).to_contain_text("deliveries were rejected in the last 7 days; most often: 401 bad signature")
    expect(findings).to_contain_text("fix the signing secret, header or body shape in the PostHog destination")
    expect(findings).to_contain_text("Events arrive that no active campaign uses: ")
    expect(findings).to_contain_text("feature_first_used")
    expect(findings).to_contain_text("create (or activate) a campaign with that event as its trigger")
    expect(findings).to_contain_text("“Feature adoption” triggers on dashboard_first_viewed, which has not arrived")

    page.get_by_role("link", name="Campaigns", exact=True).click()  # and on the page concerned
    expect(page.locator(".page-finding").first).to_be_visible()
    expect(
        page.locator(".page-finding", has_text="“Feature adoption” triggers on dashboard_first_viewed")
    ).to_contain_text("Fix: Check the event name's spelling")
    expect(page.locator(".page-finding", has_text="401 bad signature")).to_have_count(0)  # that one is for /events
    page.get_by_role("link", name="Dashboard", exact=True).click()

    page.get_by_role("radio", name="7 days").click()
    expect(page.locator("#chart-events_by_name .chart-legend")).to_contain_text("pricing_page_viewed")
    expect(page.locator("#chart-rates .recharts-reference-line").first).to_be_attached()
    page.screenshot(path=str(SCREENSHOT))


def _production_hook(page, app_url: str) -> str:
    sources = page.request.get(f"{app_url}/api/v1/sources").json()
    production = [s for s in sources if s["name"] == "Production"][-1]
    return production["webhook_url"].replace("http://testserver", app_url)


def _forget_partition_failures(engine) -> None:
    from sqlmodel import Session, delete

    from humanic_app.models import Stat
    from humanic_app.services import stats

    with Session(engine) as session:
        session.exec(delete(Stat).where(Stat.name == stats.PARTITION_FAILED))
        session.commit()


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_pipeline_health_says_when_partition_passes_fail(signed_in_page, width, theme):
    """Partition passes that failed this hour (counted by processing on PostgreSQL) show as a notice that
    names the error, readable (axe) at both widths in both themes; without them there is none."""
    from sqlmodel import Session

    from humanic_app import clock
    from humanic_app.services import stats

    engine = make_engine(f"sqlite:///{run_dir('sqlite') / 'data' / 'humanic.db'}")
    page = signed_in_page
    try:
        with Session(engine) as session:
            stats.count(session, name=stats.PARTITION_FAILED, key="ValueError", at=clock.now(), n=2)
            session.commit()
        page.emulate_media(color_scheme=theme)
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/")
        notice = page.locator("#pipeline-health #serial-processing")
        expect(notice).to_contain_text("2 processing passes failed this hour or the last (ValueError)")
        expect(notice).to_have_attribute("role", "status")
        assert serious_violations(page, within="#pipeline-health") == [] and sideways_scroll(page) == 0
        element_shot(page, "#pipeline-health", f"dashboard-serial-processing-{width}-{theme}")
        _forget_partition_failures(engine)
        page.reload()
        expect(page.locator("#pipeline-health")).to_contain_text(LOADED)
        expect(notice).to_have_count(0)
    finally:
        _forget_partition_failures(engine)  # the app is shared: later journeys must not see the notice
        engine.dispose()


def test_pipeline_health_says_when_a_worker_paces_its_sends_locally(signed_in_page):
    """A worker whose Redis is unreachable says so through its lease (services/delivery/pacing.py): the
    Dashboard shows it, readable (axe) at 390 px, and stops showing it once the worker says Redis is back."""
    from sqlmodel import Session

    from humanic_app.services.delivery import pacing

    engine = make_engine(f"sqlite:///{run_dir('sqlite') / 'data' / 'humanic.db'}")
    page = signed_in_page
    try:
        with Session(engine) as session:
            pacing.report(session=session, holder="test-worker", local=True)
            session.commit()
        page.set_viewport_size({"width": 390, "height": 900})
        page.goto("/")
        notice = page.locator("#pipeline-health #local-pacing")
        expect(notice).to_contain_text("Redis is unreachable: 1 worker paces its sends with a local rate limiter")
        assert serious_violations(page, within="#pipeline-health") == [] and sideways_scroll(page) == 0
        with Session(engine) as session:
            pacing.report(session=session, holder="test-worker", local=False)
            session.commit()
        page.reload()
        expect(page.locator("#pipeline-health")).to_contain_text(LOADED)
        expect(notice).to_have_count(0)
    finally:
        engine.dispose()
