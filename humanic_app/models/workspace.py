"""The workspace: one row holding the settings every email and campaign reads."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Enum
from sqlmodel import Field, SQLModel

from humanic_app.clock import now

WORKSPACE_ID = 1


class WorkspaceStatus(str, enum.Enum):
    active = "active"
    paused = "paused"


class Workspace(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="My workspace", max_length=200)
    from_name: str = Field(default="", max_length=200)
    from_email: str = Field(default="", max_length=320)
    physical_address: str = Field(default="", max_length=1000)
    public_url: str = Field(default="", max_length=500)
    status: WorkspaceStatus = Field(
        default=WorkspaceStatus.active,
        sa_column=Column(Enum(WorkspaceStatus, native_enum=False, length=16), nullable=False),
    )
    frequency_cap: int = Field(default=3)
    timezone: str = Field(
        default="UTC", max_length=64
    )  # IANA name: journeys' time windows for contacts without one  # emails per contact per 24 h, across all campaigns
    # Quiet hours for campaigns that inherit them: {"between": ["09:00", "19:00"], "days": ["mon", …]} in the
    # contact's timezone, or None (off). Checked against schema.QuietHours when saved.
    quiet_hours: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Settings → Brand (services/design/brand.py): logo, colours, font stack, footer text; None: the defaults.
    # Read at send time, so a change reaches emails already scheduled.
    brand: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Shared blocks (services/design/partials.py): {name: [block, …]}, put in any block email by name when it
    # is rendered, so a change reaches every email not sent yet; None: none.
    partials: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Raw payloads (and the mapped copy) of events, and Resend delivery events, older than this are pruned
    # by the background worker (services/retention.py); counters, contacts and campaign history stay
    retention_days: int = Field(default=90)
    link_signing_key: str = Field(default="", max_length=128)  # signs unsubscribe links; never shown
    sending_blocked_until: datetime | None = None  # the provider's quota ran out: nothing is sent until then
    sending_blocked_reason: str = Field(default="", max_length=500)
    # The reputation guardrail (services/reputation.py): rolling 24 h rates, in percent of the emails
    # delivered or bounced, computed from `rate_min_volume` of them; a warning, then an automatic pause.
    rate_min_volume: int = Field(default=200)
    complaint_warn_pct: float = Field(default=0.1)
    complaint_pause_pct: float = Field(default=0.3)
    bounce_warn_pct: float = Field(default=2.0)
    bounce_pause_pct: float = Field(default=4.0)
    updated_at: datetime = Field(default_factory=now)
