"""Dashboard: setup checklist, automatic troubleshooting, activity charts, campaign funnel, pipeline health."""

from __future__ import annotations

from typing import Any

import reflex as rx

from humanic_app.db import read_scope, session_scope
from humanic_app.services import checklist, dashboard, diagnostics
from humanic_app.settings import get_settings
from humanic_app.state.auth import AuthState, signed_in

PALETTE = ["#3e63dd", "#30a46c", "#f76b15", "#e5484d", "#8e4ec6", "#12a594", "#a18072"]


class DashboardState(AuthState):
    items: list[dict[str, str]] = []
    remaining: int = 0
    findings: list[dict[str, str]] = []
    range_key: str = "24h"
    chart_rows: dict[str, list[dict[str, Any]]] = {}
    chart_series: dict[str, list[dict[str, str]]] = {}
    funnel: list[dict[str, str]] = []
    health: dict[str, str] = {}

    def _load_activity(self) -> None:
        with read_scope() as session:
            data = dashboard.overview(session=session, range_key=self.range_key)
        self.chart_rows = {key: chart["rows"] for key, chart in data["charts"].items()}
        self.chart_series = {key: [{"name": name, "color": PALETTE[i % len(PALETTE)]}
                                   for i, name in enumerate(chart["series"])]
                             for key, chart in data["charts"].items()}
        self.funnel = [{k: str(v) for k, v in row.items()} for row in data["funnel"]]
        self.health = {k: str(v) for k, v in data["health"].items()}

    @rx.event
    @signed_in
    def load(self):
        resend_configured = bool(get_settings().resend_api_key)
        with session_scope() as session:
            rows = checklist.setup_checklist(session=session, resend_configured=resend_configured)
            self.findings = [diagnostics.finding_as_dict(f)
                             for f in diagnostics.run_checks(session=session, resend_configured=resend_configured)]
        self.items = [{"key": i.key, "label": i.label, "done": "yes" if i.done else "", "href": i.href,
                       "hint": i.hint} for i in rows]
        self.remaining = sum(1 for i in rows if not i.done)
        self._load_activity()

    @rx.event
    @signed_in
    def set_range(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) and value else value
        self.range_key = value if isinstance(value, str) and value in dashboard.RANGES else "24h"
        self._load_activity()
