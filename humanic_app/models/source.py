"""A PostHog source: one webhook URL (a random token), its field mapping, security options and status."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Enum
from sqlmodel import Field, SQLModel

from humanic_app.clock import now


class SourceStatus(str, enum.Enum):
    """Not connected means no source exists; a source starts by waiting for its test event."""

    waiting_for_test_event = "waiting_for_test_event"
    test_event_received = "test_event_received"
    active = "active"
    paused = "paused"
    deleted = "deleted"  # kept for its events' history; its URL answers 404 and nothing lists or checks it


SOURCE_STATUS_LABELS = {
    SourceStatus.waiting_for_test_event: "Waiting for test event",
    SourceStatus.test_event_received: "Test event received",
    SourceStatus.active: "Active",
    SourceStatus.paused: "Paused",
    SourceStatus.deleted: "Deleted",
}


class Source(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    token: str = Field(max_length=64)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    previous_token_hash: str | None = Field(default=None, max_length=64, index=True)
    status: SourceStatus = Field(
        default=SourceStatus.waiting_for_test_event,
        sa_column=Column(Enum(SourceStatus, native_enum=False, length=32), nullable=False),
    )
    mapping: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    signing_secret: str | None = Field(default=None, max_length=200)
    required_header_name: str | None = Field(default=None, max_length=200)
    required_header_value: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=now)
    last_event_at: datetime | None = None
