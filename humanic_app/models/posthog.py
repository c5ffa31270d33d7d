"""Engagement written back to PostHog (services/posthog/): the connection set in Settings → PostHog (one
row, id 1; its project API key encrypted like the Resend key) and the capture outbox, one row per fact,
written in the transaction that records the fact and drained to PostHog's batch endpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from humanic_app.clock import now


class PosthogConnection(SQLModel, table=True):
    __tablename__ = "posthog_connection"

    id: int | None = Field(default=None, primary_key=True)
    host: str = Field(default="", max_length=500)
    api_key_cipher: str = Field(default="", sa_column=Column(Text, nullable=False))
    api_key_set_at: datetime | None = None
    kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # kinds written back
    failures: int = 0  # failed batch calls in a row: the backoff grows with it
    next_attempt_at: datetime | None = None  # no call before this (backoff, or PostHog's Retry-After)
    last_error: str = Field(default="", max_length=1000)
    last_error_at: datetime | None = None
    last_sent_at: datetime | None = None
    # Backfill (services/posthog_backfill.py): a personal API key with query read scope, encrypted like
    # the project key and never shown back, and the project whose events are queried
    personal_api_key_cipher: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    personal_api_key_set_at: datetime | None = None
    project_id: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})
    # Pull-only mode (services/posthog_pull.py): events polled from the query API instead of a webhook
    pull_enabled: bool = False
    pull_interval_s: int = 30
    pull_cursor: datetime | None = None  # the end of the last window read in full; the next starts before it
    pull_last_at: datetime | None = None  # the last poll's start, successful or not
    pull_failures: int = 0  # failed polls in a row
    pull_last_error: str = Field(default="", max_length=1000)
    pull_last_error_at: datetime | None = None
    pull_last_pulled: int = 0  # new events the last successful poll stored
    # Reconciliation (services/posthog_reconcile.py): the last hourly comparison, and its gaps
    reconciled_at: datetime | None = None
    reconcile_gaps: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reconcile_error: str = Field(default="", max_length=1000)  # why the last check could not run ("" if it ran)
    reconcile_failed_at: datetime | None = None


class PosthogCapture(SQLModel, table=True):
    """One fact to capture. `uuid` is derived from the fact itself (uuid5), so enqueueing it again is a
    no-op and PostHog, which deduplicates on it, counts a replayed batch once."""

    __tablename__ = "posthog_capture"
    __table_args__ = (Index("ix_posthog_capture_unsent", "sent_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(max_length=36, unique=True)
    kind: str = Field(max_length=32)
    event: str = Field(max_length=64)
    contact_id: int | None = Field(default=None, index=True)
    timestamp: datetime
    properties: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=now)
    sent_at: datetime | None = None  # PostHog accepted it (or it was dropped: see `outcome`)
    outcome: str = Field(default="", max_length=300)  # "" while waiting; "sent", or why it was dropped


class PosthogCohort(SQLModel, table=True):
    """A PostHog cohort brought in as contacts (services/posthog_cohorts.py): imported once, or kept in sync
    every SYNC_PERIOD; `last_result` says what the last import did, `last_error` why it failed."""

    __tablename__ = "posthog_cohort"

    id: int | None = Field(default=None, primary_key=True)
    posthog_id: int = Field(unique=True)  # the cohort's id in the PostHog project
    name: str = Field(max_length=400)  # as PostHog named it at the last import: what `in_cohort` may name
    keep_in_sync: bool = False
    members: int = 0
    last_synced_at: datetime | None = None  # the last import that succeeded
    last_result: str = Field(default="", max_length=500)
    last_error: str = Field(default="", max_length=500)
    last_attempt_at: datetime | None = None
    created_at: datetime = Field(default_factory=now)


class PosthogCohortMember(SQLModel, table=True):
    """A contact in an imported cohort as of its last import; those who left are removed at the next."""

    __tablename__ = "posthog_cohort_member"
    __table_args__ = (UniqueConstraint("cohort_id", "contact_id", name="uq_posthog_cohort_member"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="posthog_cohort.id", index=True, ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contact.id", index=True, ondelete="CASCADE")
