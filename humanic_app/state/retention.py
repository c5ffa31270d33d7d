"""Settings → Retention: how many days events' raw payloads and Resend delivery events are kept, and what
the last pruning run did."""

from __future__ import annotations

import reflex as rx

from humanic_app.services import retention, workspace
from humanic_app.state.auth import AuthState, field_messages, signed_in


def _days(value: object) -> object:
    """A whole number when the field holds one; anything else goes to the service as typed, which refuses it."""
    text = str(value).strip()
    return int(text) if text.isdigit() else text


class RetentionSettingsState(AuthState):
    retention_loaded: bool = False
    retention_days: str = "90"
    retention_last_run: str = ""  # what the last pruning run did, or that none ran yet
    retention_errors: dict[str, str] = {}
    retention_saved: str = ""

    def _refresh_retention(self) -> None:
        with self._read_call() as session:
            days = workspace.read_workspace(session=session).retention_days
            run = retention.state(session=session)
        self.retention_days = str(days)
        self.retention_last_run = (
            f"Last run {run.last_run_at:%Y-%m-%d %H:%M} UTC: {run.last_run_events} event payloads and "
            f"{run.last_run_delivery_events} delivery events pruned."
            if run.last_run_at
            else "Pruning has not run yet: the background worker runs it every hour."
        )
        self.retention_loaded = True

    @rx.event
    @signed_in
    def load_retention(self):
        self.retention_errors, self.retention_saved = {}, ""
        self._refresh_retention()

    @rx.event
    @signed_in
    def save_retention(self, form: dict):
        self.retention_saved = ""
        with self._service_call("retention_errors", then=self._refresh_retention, words=field_messages) as session:
            workspace.update_workspace(session=session, changes={"retention_days": _days(form.get("retention_days"))})
            self.retention_saved = "Retention saved."
