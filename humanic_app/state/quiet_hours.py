"""Quiet hours in the UI: Settings' workspace default (its own substate), and the mapping between the form's
fields and the document's `quiet_hours` that Settings and the campaign builder share."""

from __future__ import annotations

from typing import Any

import reflex as rx

from humanic_app.services import workspace
from humanic_app.state.auth import AuthState, field_messages, signed_in

MODES = {"inherit": "Workspace default", "off": "Off", "window": "Own window"}  # the builder's choices
WEEKDAYS_TEXT = "mon, tue, wed, thu, fri"


def form_of(value: Any) -> tuple[str, str, str, str]:
    """A document's (or the workspace's) quiet hours as the form shows them: mode, from, to, days."""
    if isinstance(value, dict):
        between = value.get("between") or ["", ""]
        return "window", str(between[0]), str(between[-1]), ", ".join(value.get("days") or [])
    return ("off", "09:00", "19:00", WEEKDAYS_TEXT) if value == "off" else ("inherit", "09:00", "19:00", WEEKDAYS_TEXT)


def value_of(mode: str, start: str, end: str, days: str) -> Any:
    """The form's fields as the document's `quiet_hours` (None: inherit, left out of the document); what
    is not a valid window is passed on as typed, for the schema to refuse by field."""
    if mode != "window":
        return None if mode == "inherit" else "off"
    return {"between": [start.strip(), end.strip()], "days": [d.strip() for d in days.split(",") if d.strip()]}


class QuietHoursSettingsState(AuthState):
    quiet_loaded: bool = False
    quiet_on: bool = False
    quiet_from: str = "09:00"
    quiet_to: str = "19:00"
    quiet_days: str = WEEKDAYS_TEXT
    quiet_errors: dict[str, str] = {}  # by field: "quiet_hours.between.0"
    quiet_saved: str = ""

    def _refresh_quiet_hours(self) -> None:
        with self._read_call() as session:
            value = workspace.read_workspace(session=session).quiet_hours
        mode, self.quiet_from, self.quiet_to, self.quiet_days = form_of(value)
        self.quiet_on, self.quiet_loaded = mode == "window", True

    @rx.event
    @signed_in
    def load_quiet_hours(self):
        self.quiet_errors, self.quiet_saved = {}, ""
        self._refresh_quiet_hours()

    @rx.event
    @signed_in
    def save_quiet_hours(self, form: dict):
        self.quiet_saved = ""
        on = form.get("quiet_on") in ("on", True, "true")
        value = value_of(
            "window" if on else "off",
            str(form.get("quiet_from", "")),
            str(form.get("quiet_to", "")),
            str(form.get("quiet_days", "")),
        )
        with self._service_call("quiet_errors", then=self._refresh_quiet_hours, words=field_messages) as session:
            workspace.update_workspace(session=session, changes={"quiet_hours": value})
            self.quiet_saved = "Quiet hours saved." if on else "Quiet hours turned off."
