"""Quiet hours as a campaign document and the workspace's Settings write them: a window of local times on
some weekdays. Its own module because both the campaign schema and the workspace settings check it (and
campaigns read the workspace); what it means at send time is `campaigns.rules.quiet_send_at`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from humanic_app.services.errors import ValidationFailed
from humanic_app.services.timewindow import WEEKDAYS, ClockTime

SETTINGS = ("inherit", "off")  # a campaign's other choices: the workspace's default, or none


class QuietHours(BaseModel):
    """Emails go out only between `between` (HH:MM, the contact's timezone; an end before the start crosses
    midnight) on `days` (every day when empty). Outside it, an email waits for the window's opening."""

    model_config = ConfigDict(extra="forbid")

    between: list[ClockTime] = Field(min_length=2, max_length=2)
    days: list[Literal[WEEKDAYS]] = []  # type: ignore[valid-type]

    @field_validator("days", mode="before")
    @classmethod
    def _known_days(cls, value: Any) -> Any:
        # One message on the field itself (not 'days.3'), naming the day the form's text got wrong.
        if isinstance(value, list) and (unknown := [d for d in value if d not in WEEKDAYS]):
            raise ValueError(f"'{unknown[0]}' is not a day: use mon, tue, wed, thu, fri, sat or sun")
        return value

    @field_validator("between")
    @classmethod
    def _a_window(cls, value: list[str]) -> list[str]:
        if value[0] == value[1]:
            raise ValueError("the window ends when it starts: pick a different end time")
        return value


def workspace_default(value: Any) -> dict[str, Any] | None:
    """The workspace's default quiet hours as stored: a window checked as a campaign's is, or None for
    'off' (or null). Errors are named by field ('quiet_hours.between.1')."""
    if value is None or value == "off":
        return None
    if not isinstance(value, dict):
        raise ValidationFailed(
            {"quiet_hours": 'A window like {"between": ["09:00", "19:00"], "days": ["mon", "tue"]}, or "off".'}
        )
    try:
        return QuietHours.model_validate(value).model_dump()
    except ValidationError as exc:
        raise ValidationFailed(
            {
                ".".join(["quiet_hours", *(str(p) for p in error["loc"])]): error["msg"].removeprefix("Value error, ")
                for error in exc.errors()
            }
        ) from None
