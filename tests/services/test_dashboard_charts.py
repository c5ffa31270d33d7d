"""The Dashboard's charts say when they have nothing to draw, and a percent axis has a sensible top."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

from humanic_app import clock
from humanic_app.services import dashboard, sources, stats
from humanic_app.services.intake import payloads, storing
from humanic_app.services.samples import posthog_event

NOON = datetime(2030, 5, 14, 12, 0, tzinfo=UTC)


def test_charts_are_empty_until_something_fills_them(session, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOON)
    charts = dashboard.overview(session=session, range_key="24h")["charts"]
    assert all(chart["empty"] for chart in charts.values()), [k for k, c in charts.items() if not c["empty"]]

    source = sources.create_source(session=session, name="Charts")
    session.flush()
    events = payloads.parse_body(json.dumps(posthog_event(event="signed_up", distinct_id="d")).encode(), None)
    storing.store_deliveries(
        session=session, deliveries=[storing.Delivery(source_id=source.id, headers={}, events=events, arrived=None)]
    )
    charts = dashboard.overview(session=session, range_key="24h")["charts"]
    assert not charts["events_by_source"]["empty"] and not charts["events_by_name"]["empty"]
    assert charts["rates"]["empty"] and charts["emails"]["empty"]  # nothing sent: no rate to draw


def test_a_percent_axis_starts_at_zero_and_keeps_gmails_lines_in_view():
    rows = [{"t": "12:00", "bounce": 0.0, "complaint": 0.0}]
    assert dashboard.percent_top(rows, ["bounce", "complaint"]) == 0.5  # 0.1 % and 0.3 % still shown
    rows.append({"t": "13:00", "bounce": 1.4, "complaint": 0.05})
    assert dashboard.percent_top(rows, ["bounce", "complaint"]) == 2
    rows.append({"t": "14:00", "bounce": 100.0, "complaint": 0.0})
    assert dashboard.percent_top(rows, ["bounce", "complaint"]) == 100


def test_pipeline_health_says_so_while_partition_passes_fail(session, monkeypatch):
    """Failed partition passes (PostgreSQL) are counted by processing; Pipeline health warns of them this
    hour and the last, naming the errors, and says nothing once they are older."""
    monkeypatch.setattr(clock, "now", lambda: NOON + timedelta(minutes=20))
    assert dashboard.health(session=session, since=NOON)["partitions"] == ""
    stats.bump(session, Counter({(NOON - timedelta(hours=2), stats.PARTITION_FAILED, "ValueError"): 4}))
    assert dashboard.health(session=session, since=NOON)["partitions"] == ""

    stats.bump(session, Counter({(NOON - timedelta(hours=1), stats.PARTITION_FAILED, "OperationalError"): 1}))
    assert dashboard.health(session=session, since=NOON)["partitions"].startswith(
        "1 processing pass failed this hour or the last (OperationalError) and left its events to one pass"
    )
    stats.bump(
        session,
        Counter({(NOON, stats.PARTITION_FAILED, "ValueError"): 2, (NOON, stats.PARTITION_FAILED, "KeyError"): 1}),
    )
    notice = dashboard.health(session=session, since=NOON)["partitions"]
    assert notice.startswith(
        "4 processing passes failed this hour or the last (KeyError, OperationalError, ValueError)"
    )
    assert "The worker's log has the error" in notice
