"""Settings → PostHog: where engagement is written back, the project API key (write-only: it passes through
a handler's argument only, no state field holds it), the kinds written, and how the write-back goes."""

from __future__ import annotations

import reflex as rx

from humanic_app.services.errors import ValidationFailed
from humanic_app.services.posthog import capture, connection
from humanic_app.state.auth import AuthState, field_messages, signed_in

_REGIONS = {"us": "US cloud", "eu": "EU cloud", "custom": "self-hosted", "": ""}


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


class PosthogState(AuthState):
    posthog_loaded: bool = False
    posthog_enabled: bool = False
    posthog_host: str = ""
    posthog_region: str = ""
    posthog_key_set: bool = False
    posthog_key_set_at: str = ""
    posthog_kinds: list[str] = []
    posthog_can_edit: bool = False
    posthog_notes: list[str] = []
    posthog_progress: str = ""  # what was written and what waits
    posthog_error: str = ""  # the last failed call, while failing
    posthog_errors: dict[str, str] = {}  # refusals at their fields
    posthog_done: str = ""

    def _refresh_posthog(self) -> None:
        with self._service_call() as session:
            found = connection.status(session=session)
        self.posthog_enabled, self.posthog_host = found.enabled, found.host
        self.posthog_region = _REGIONS[found.region]
        self.posthog_key_set, self.posthog_key_set_at = found.api_key_set, _when(found.api_key_set_at)
        self.posthog_kinds = found.kinds
        self.posthog_can_edit, self.posthog_notes = found.can_edit, found.notes
        last = f"last written {_when(found.last_sent_at)}" if found.last_sent_at else "nothing written yet"
        self.posthog_progress = f"{found.backlog} events waiting; {last}."
        self.posthog_error = (
            f"{found.last_error} (next try {_when(found.next_attempt_at)})." if found.next_attempt_at else ""
        )
        self.posthog_loaded = True

    @rx.event
    @signed_in
    def load_posthog(self):
        self.posthog_errors, self.posthog_done = {}, ""
        self._refresh_posthog()

    @rx.event
    @signed_in
    def save_posthog(self, form: dict):
        self.posthog_done = ""
        kinds = [kind for kind in capture.KINDS if form.get(f"kind_{kind}") in ("on", True, "true")]
        with self._service_call("posthog_errors", then=self._refresh_posthog, words=field_messages) as session:
            connection.save(
                session=session,
                host=str(form.get("host", "")),
                api_key=str(form.get("api_key", "")),
                kinds=kinds,
            )
            self.posthog_done = "Saved: engagement is written to PostHog within seconds."

    @rx.event
    @signed_in
    def remove_posthog(self):
        try:
            with self._service_call(then=self._refresh_posthog) as session:
                connection.remove(session=session)
        except ValidationFailed:
            return
        self.posthog_done = "Write-back stopped: nothing more is sent to PostHog."
