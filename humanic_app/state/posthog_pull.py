"""Settings → Pull events from PostHog (pull-only mode, services/posthog_pull.py): the host, the interval,
on or off, and how the polls go. The polls read PostHog with the API access set in its own section
(state/posthog_access.py); a refusal about it shows under the form."""

from __future__ import annotations

import functools

import reflex as rx

from humanic_app.services.errors import ValidationFailed
from humanic_app.services.posthog import connection
from humanic_app.state.auth import AuthState, signed_in
from humanic_app.state.posthog_access import refused_here

_FIELDS = ("host", "pull_interval_seconds")  # refusals shown at the panel's fields


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
    pull_interval: str = str(connection.PULL_DEFAULT_S)
    pull_can_edit: bool = False
    pull_progress: str = ""  # the last poll and what it brought
    pull_error: str = ""  # the last failed poll, while failing
    pull_errors: dict[str, str] = {}  # refusals at their fields; "" for the rest (no API access yet…)
    pull_done: str = ""

    def _refresh_pull(self) -> None:
        with self._service_call() as session:
            found = connection.status(session=session)
        self.pull_enabled, self.pull_host = found.pull_enabled, found.host
        self.pull_interval = str(found.pull_interval_seconds)
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
        words = functools.partial(refused_here, fields=_FIELDS)
        with self._service_call("pull_errors", then=self._refresh_pull, words=words) as session:
            connection.save(
                session=session,
                host=str(form.get("host", "")),
                pull_enabled=enabled,
                pull_interval_seconds=_interval(str(form.get("pull_interval", ""))),
            )
            self.pull_done = "Saved: Humanic pulls new events from PostHog." if enabled else "Saved: pulling is off."
