"""Settings → Sending reputation: the rolling complaint and bounce rates, the guardrail's lines, Resume."""

from __future__ import annotations

import dataclasses

import reflex as rx

from humanic_app.models import WORKSPACE_SCOPE, CampaignStatus
from humanic_app.services import reputation, workspace
from humanic_app.services.campaigns import store
from humanic_app.state.auth import AuthState, field_messages, signed_in

LEVEL_LABELS = {"too_few": "Too few emails", "ok": "OK", "warn": "Warning", "pause": "Over the pause line"}


@dataclasses.dataclass(frozen=True)
class RateRow:
    scope: str
    name: str
    emails: str  # the denominator: delivered + bounced
    complaints: str
    bounces: str
    state: str
    since: str
    paused_reason: str


def _rate(count: int, pct: float | None) -> str:
    return f"{count:,}" if pct is None else f"{count:,} ({pct:g} %)"


def _row(standing: dict) -> RateRow:
    since = standing["counting_since"]
    return RateRow(
        scope=standing["scope"],
        name=standing["name"],
        emails=f"{standing['denominator']:,}",
        complaints=_rate(standing["complained"], standing["complaint_pct"]),
        bounces=_rate(standing["bounced"], standing["bounce_pct"]),
        state="Paused" if standing["paused_reason"] else LEVEL_LABELS[standing["level"]],
        since=f"since Resume {since[11:16]} UTC" if since else "last 24 h",
        paused_reason=standing["paused_reason"],
    )


def _number(value: str, kind: type) -> object:
    """What was typed, as a number when it reads as one (the service refuses anything else by field)."""
    try:
        return kind(value.strip())
    except ValueError:
        return value


class ReputationState(AuthState):
    rate_min_volume: str = "200"
    complaint_warn_pct: str = "0.1"
    complaint_pause_pct: str = "0.3"
    bounce_warn_pct: str = "2"
    bounce_pause_pct: str = "4"
    threshold_errors: dict[str, str] = {}  # by field, each shown at its input
    thresholds_saved: str = ""
    rates: list[RateRow] = []
    resume_error: str = ""

    def _refresh(self) -> None:
        with self._read_call() as session:
            lines = reputation.thresholds_as_dict(workspace.read_workspace(session=session))
            self.rates = [_row(s.as_dict()) for s in reputation.standings(session=session)]
            self._refresh_findings(session)
        for field, value in lines.items():
            setattr(self, field, f"{value:g}")

    @rx.event
    @signed_in
    def load(self):
        self.threshold_errors, self.thresholds_saved, self.resume_error = {}, "", ""
        self._refresh()

    @rx.event
    @signed_in
    def save_thresholds(self, form: dict):
        changes = {
            field: _number(str(form.get(field, "")), int if field == "rate_min_volume" else float)
            for field in reputation.THRESHOLD_FIELDS
        }
        self.thresholds_saved = ""
        with self._service_call("threshold_errors", then=self._refresh, words=field_messages) as session:
            workspace.get_workspace(session=session)
            reputation.update_thresholds(session=session, changes=changes)
            self.thresholds_saved = "Lines saved."

    @rx.event
    @signed_in
    def resume(self, scope: str):
        """A campaign resumes as Activate does; the workspace as Resume sending does. Either way the
        guardrail counts only what arrives from now on."""
        with self._service_call(
            "resume_error", then=self._refresh, words=lambda e: " ".join(field_messages(e).values())
        ) as session:
            if scope == WORKSPACE_SCOPE:
                workspace.resume_sending(session=session)
            elif scope.isdigit():
                store.set_status(session=session, campaign_id=int(scope), status=CampaignStatus.active)
