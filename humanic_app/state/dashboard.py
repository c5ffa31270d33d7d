"""Dashboard: setup checklist, automatic troubleshooting, activity charts, campaign funnel, pipeline health."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from humanic_app.db import read_scope
from humanic_app.services import checklist, dashboard, diagnostics
from humanic_app.services.sending import credentials
from humanic_app.state.auth import AuthState, FindingRow, finding_row, signed_in

PALETTE = ["#3e63dd", "#30a46c", "#f76b15", "#e5484d", "#8e4ec6", "#12a594", "#a18072"]


@dataclasses.dataclass(frozen=True)
class ChecklistRow:
    key: str
    label: str
    done: str  # "yes" or "": the page's data-done attribute
    href: str
    hint: str


@dataclasses.dataclass(frozen=True)
class SeriesRow:
    name: str
    color: str


@dataclasses.dataclass(frozen=True)
class FunnelRow:
    name: str
    status: str
    enrolled: str
    sent: str
    delivered: str
    opened: str
    clicked: str
    goal: str
    next_24h: str


def setup_complete(remaining: int, findings: int) -> bool:
    """ "Setup complete" only when nothing is left to fix: every step done and no troubleshooting finding.
    Until then the checklist stays, saying what is left."""
    return remaining == 0 and findings == 0


def _funnel_row(row: dict[str, Any]) -> FunnelRow:
    return FunnelRow(**{field.name: str(row[field.name]) for field in dataclasses.fields(FunnelRow)})


class DashboardState(AuthState):
    items: list[ChecklistRow] = []
    remaining: int = 0
    findings: list[FindingRow] = []
    range_key: str = "24h"
    chart_rows: dict[str, list[dict[str, Any]]] = {}
    chart_series: dict[str, list[SeriesRow]] = {}
    chart_empty: dict[str, bool] = {}  # nothing to draw: the card says what will fill it instead
    rates_top: float = 0.5  # the top of the bounce and complaint rates' percent axis
    funnel: list[FunnelRow] = []
    health: dict[str, str] = {}

    @rx.var
    def setup_complete(self) -> bool:
        return setup_complete(self.remaining, len(self.findings))

    def _load_activity(self) -> None:
        with read_scope() as session:
            data = dashboard.overview(session=session, range_key=self.range_key)
        self.chart_rows = {key: chart["rows"] for key, chart in data["charts"].items()}
        self.chart_series = {
            key: [SeriesRow(name=name, color=PALETTE[i % len(PALETTE)]) for i, name in enumerate(chart["series"])]
            for key, chart in data["charts"].items()
        }
        self.chart_empty = {key: chart["empty"] for key, chart in data["charts"].items()}
        self.rates_top = data["charts"]["rates"]["top"]
        self.funnel = [_funnel_row(row) for row in data["funnel"]]
        self.health = {k: str(v) for k, v in data["health"].items()}

    @rx.event
    @signed_in
    def load(self):
        with self._service_call() as session:
            resend_configured = credentials.in_effect(session=session).configured
            rows = checklist.setup_checklist(session=session, resend_configured=resend_configured)
            self.findings = [
                finding_row(f) for f in diagnostics.run_checks(session=session, resend_configured=resend_configured)
            ]
        self.items = [
            ChecklistRow(key=i.key, label=i.label, done="yes" if i.done else "", href=i.href, hint=i.hint) for i in rows
        ]
        self.remaining = sum(1 for i in rows if not i.done)
        self._load_activity()

    @rx.event
    @signed_in
    def set_range(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) and value else value
        self.range_key = value if isinstance(value, str) and value in dashboard.RANGES else "24h"
        self._load_activity()
