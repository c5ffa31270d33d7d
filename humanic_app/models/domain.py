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
