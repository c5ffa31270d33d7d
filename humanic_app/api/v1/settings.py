"""GET/PUT /api/v1/settings: the workspace settings."""

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from humanic_app.api.deps import SessionDep, TransactionRoute
from humanic_app.api.errors import responses
from humanic_app.api.fields import (
    EMAIL_MAX_LENGTH,
    EMAIL_PATTERN,
    NO_NUL,
    NOT_BLANK,
    REQUEST_MODEL_CONFIG,
    WS,
    WholeNumber,
    omitted_or,
)
from humanic_app.services import workspace as workspace_service
from humanic_app.services.quiet_hours import QuietHours

router = APIRouter(route_class=TransactionRoute, tags=["settings"])


class SettingsOut(BaseModel):
    name: str
    from_name: str
    from_email: str
    physical_address: str
    status: Literal["active", "paused"]
    public_url: str
    frequency_cap: int
    timezone: str  # journeys' time windows for contacts without a timezone of their own
    retention_days: int  # raw payloads and delivery events older than this many days are pruned
    quiet_hours: QuietHours | None  # campaigns that inherit quiet hours send only in this window; None: off
    sending_blocked: str  # why the provider refuses email right now (quota), or ""


class SettingsUpdate(BaseModel):
    """What services.workspace accepts, field by field; lengths are the columns' sizes."""

    model_config = REQUEST_MODEL_CONFIG

    name: str = omitted_or(pattern=NOT_BLANK, max_length=200)
    from_name: str = omitted_or(pattern=NO_NUL, max_length=200)
    from_email: str = omitted_or(
        pattern=rf"^[{WS}]*$|{EMAIL_PATTERN}", max_length=EMAIL_MAX_LENGTH, description="The From address, or empty."
    )
    physical_address: str = omitted_or(pattern=NO_NUL, max_length=1000)
    status: Literal["active", "paused"] = omitted_or()
    # An http(s) address with a host, or empty. The host's characters are ASCII and bracket-free so that
    # urlsplit, which the service uses, always finds a host in it.
    public_url: str = omitted_or(
        pattern=rf"^[{WS}]*$|^[{WS}]*[hH][tT][tT][pP][sS]?://[A-Za-z0-9.:@%_~+-]+"
        rf"([/?#][^{WS}\x00]*)?[{WS}]*$",
        max_length=500,
        description="Where this instance is reached, like https://humanic.example.com, or empty.",
    )
    frequency_cap: WholeNumber = omitted_or(
        ge=0, le=1000, description="Emails per contact per 24 hours; 0 turns the cap off."
    )
    timezone: str = omitted_or(
        max_length=64,
        description="An IANA timezone name (Europe/Paris): journeys' time windows for contacts without one.",
    )
    retention_days: WholeNumber = omitted_or(
        ge=workspace_service.RETENTION_DAYS[0],
        le=workspace_service.RETENTION_DAYS[1],
        description="Days events' raw payloads and Resend delivery events are kept; older ones are pruned.",
    )

    # Checked by the service, as a campaign's own is (services/campaigns/schema.py QuietHours), so a refusal
    # names the field inside it ('quiet_hours.between.1') rather than a member of a union.
    quiet_hours: Any = Field(
        default=None,
        description="The default window campaigns send in, in the contact's timezone "
        '({"between": ["09:00", "19:00"], "days": ["mon", "tue", "wed", "thu", "fri"]}), or "off" (or null).',
    )


@router.get("/settings", response_model=SettingsOut, summary="Read the workspace settings")
def read_settings(session: SessionDep) -> dict:
    return workspace_service.workspace_as_dict(workspace_service.get_workspace(session=session))


@router.put(
    "/settings",
    response_model=SettingsOut,
    summary="Change some or all workspace settings",
    responses=responses(400, 422),
)
def update_settings(body: SettingsUpdate, session: SessionDep) -> dict:
    workspace = workspace_service.update_workspace(session=session, changes=body.model_dump(exclude_unset=True))
    return workspace_service.workspace_as_dict(workspace)


@router.post(
    "/settings/resume-sending",
    response_model=SettingsOut,
    summary="Send again after the provider's quota ran out (e.g. the plan was upgraded)",
)
def resume_sending(session: SessionDep) -> dict:
    return workspace_service.workspace_as_dict(workspace_service.resume_sending(session=session))
