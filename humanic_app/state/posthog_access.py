"""Settings → PostHog API access: the personal API key (write-only: it passes through a handler's argument
only, no state field holds it) and the project id that backfill, pull-only mode, reconciliation and cohorts
all read PostHog with. The other PostHog panels say whether it is set from this state."""

from __future__ import annotations

import functools

import reflex as rx

from humanic_app.services.errors import ServiceError, ValidationFailed
from humanic_app.services.posthog import connection
from humanic_app.state.auth import AuthState, field_messages, signed_in

ACCESS_FIELDS = ("personal_api_key", "project_id")


def refused_here(exc: ServiceError, fields: tuple[str, ...] = ()) -> dict[str, str]:
    """A refusal as {field: message} for a panel holding only `fields`: the rest (the API access's key and
    project id among them, set in their own section) joined under "", where the panel shows them whole."""
    found = field_messages(exc)
    if not isinstance(exc, ValidationFailed):
        return found
    kept = {field: message for field, message in found.items() if field in fields}
    rest = " ".join(message for field, message in found.items() if field not in fields)
    return {**kept, **({"": rest} if rest else {})}


class PosthogAccessState(AuthState):
    access_loaded: bool = False
    access_key_set: bool = False
    access_project: str = ""
    access_can_edit: bool = False
    access_errors: dict[str, str] = {}  # refusals at their fields; "" for the rest (no host yet…)
    access_done: str = ""
    access_saves: int = 0  # the key field's React key: a save empties it, so the key typed is not left there

    @rx.var
    def access_ready(self) -> bool:
        return self.access_key_set and self.access_project != ""

    def _refresh_access(self) -> None:
        with self._read_call() as session:
            found = connection.status(session=session)
        self.access_key_set, self.access_project = found.personal_api_key_set, found.project_id
        self.access_can_edit = found.can_edit
        self.access_loaded = True

    @rx.event
    @signed_in
    def load_access(self):
        self.access_errors, self.access_done = {}, ""
        self._refresh_access()

    @rx.event
    @signed_in
    def save_access(self, form: dict):
        self.access_done = ""
        words = functools.partial(refused_here, fields=ACCESS_FIELDS)
        with self._service_call("access_errors", then=self._refresh_access, words=words) as session:
            connection.save(
                session=session,
                personal_api_key=str(form.get("personal_api_key", "")),
                project_id=str(form.get("project_id", "")),
            )
            self.access_saves += 1
            self.access_done = "Saved: backfill, pull-only mode and cohorts read PostHog with this access."
