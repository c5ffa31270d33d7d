"""Settings → Pull events from PostHog (pull-only mode, services/posthog_pull.py): the host, the personal
API key (write-only: it passes through a handler's argument only), the project id, the interval, on or
off, and how the polls go."""

from __future__ import annotations

import reflex as rx

from humanic_app.services.errors import ValidationFailed
from humanic_app.services.posthog import connection
from humanic_app.state.auth import AuthState, field_messages, signed_in


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


def _interval(text: str) -> int:
    if not text.strip().isdigit():
        raise ValidationFailed(
            {"pull_interval_seconds": f"Poll every {connection.PULL_MIN_S} to {connection.PULL_MAX_S} seconds."}
        )
    return int(text.strip())


class PosthogPullState(AuthState):
    pull_loaded: bool = False
    pull_enabled: bool = False
    pull_host: str = ""
    pull_project_id: str = ""
    pull_interval: str = str(connection.PULL_DEFAULT_S)
    pull_key_set: bool = False
    pull_can_edit: bool = False
    pull_progress: str = ""  # the last poll and what it brought
    pull_error: str = ""  # the last failed poll, while failing
    pull_errors: dict[str, str] = {}  # refusals at their fields
    pull_done: str = ""

    def _refresh_pull(self) -> None:
        with self._service_call() as session:
            found = connection.status(session=session)
        self.pull_enabled, self.pull_host, self.pull_project_id = found.pull_enabled, found.host, found.project_id
        self.pull_interval, self.pull_key_set = str(found.pull_interval_seconds), found.personal_api_key_set
        self.pull_can_edit = found.can_edit
        last = (
            f"Last poll {_when(found.pull_last_at)}: {found.pull_last_pulled} new events." if found.pull_last_at else ""
        )
        self.pull_progress = last or "No poll yet: the first comes within seconds."
        self.pull_error = (
            f"{found.pull_last_error} ({found.pull_failures} polls in a row)" if found.pull_failures else ""
        )
        self.pull_loaded = True

    @rx.event
    @signed_in
    def load_pull(self):
        self.pull_errors, self.pull_done = {}, ""
        self._refresh_pull()

    @rx.event
    @signed_in
    def save_pull(self, form: dict):
        self.pull_done = ""
        enabled = form.get("pull_enabled") in ("on", True, "true")
        with self._service_call("pull_errors", then=self._refresh_pull, words=field_messages) as session:
            connection.save(
                session=session,
                host=str(form.get("host", "")),
                personal_api_key=str(form.get("personal_api_key", "")),
                project_id=str(form.get("project_id", "")),
                pull_enabled=enabled,
                pull_interval_seconds=_interval(str(form.get("pull_interval", ""))),
            )
            self.pull_done = "Saved: Humanic pulls new events from PostHog." if enabled else "Saved: pulling is off."
