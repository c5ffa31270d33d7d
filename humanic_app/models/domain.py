"""Sending domains, created and verified through Resend's Domains API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from humanic_app.clock import now

DOMAIN_STATUS_LABELS = {
    "not_started": "Not started",
    "pending": "Pending",
    "verified": "Verified",
    "failed": "Failed",
    "temporary_failure": "Temporary failure",
    "partially_verified": "Partially verified",
    "partially_failed": "Partially failed",
}


class Domain(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=253, unique=True)
    resend_id: str = Field(max_length=100)
    status: str = Field(default="not_started", max_length=30)  # Resend's own status values
    records: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=now)
    checked_at: datetime | None = None
    verified_at: datetime | None = None  # when Humanic first saw it verified
    # Warm-up (services/warmup.py): a daily cap that rises one step a UTC day from the day it started
    warmup_enabled: bool = False
    warmup_ladder: list[int] | None = Field(default=None, sa_column=Column(JSON))  # None: the default ladder
    warmup_started_at: datetime | None = None  # day 1 of the ladder; None until the domain is verified
