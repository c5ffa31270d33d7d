"""The sending-reputation guardrail: where each rolling complaint/bounce window starts, and what it paused.

The counts themselves are the hourly counters (`stat` rows named delivered / bounced / complained, keyed by
campaign id); a window only records what Resume changed: counting starts at `since`, and the counts the
hour of `since` already held then (`baseline_*`) are left out, so events before a Resume never count again.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

WORKSPACE_SCOPE = "*"  # every campaign's emails together; a campaign's scope is its id, as the counters key it


class RateWindow(SQLModel, table=True):
    __tablename__ = "rate_window"

    scope: str = Field(primary_key=True, max_length=20)
    since: datetime | None = None  # the last Resume: only what arrived after it counts
    baseline_delivered: int = 0
    baseline_bounced: int = 0
    baseline_complained: int = 0
    paused_at: datetime | None = None  # set while this scope is paused by the guardrail
    paused_reason: str = Field(default="", max_length=500)
