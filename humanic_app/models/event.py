"""Every delivery PostHog makes, accepted or rejected, one row per event it carried."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Enum, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from humanic_app.clock import now


class EventOutcome(str, enum.Enum):
    pending = "pending"  # stored, answered 2xx, not yet mapped and matched
    processed = "processed"
    duplicate = "duplicate"
    skipped = "skipped"  # stored but nothing can be done (no email, paused, legacy text)
    rejected = "rejected"  # the delivery was refused (4xx); kept for the log


# The reason of an event skipped because it matches no contact and has no email to make one with. Read
# back: journeys' `match` waits still take such events (services/campaigns/journeys.py `TAKEN`).
NO_EMAIL_REASON = "no email — add email to your $identify call"


class Event(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("source_id", "dedupe_key", name="uq_event_source_dedupe"),
        Index("ix_event_outcome_id", "outcome", "id"),
        Index("ix_event_source_id_id", "source_id", "id"),
        Index("ix_event_name_id", "event_name", "id"),
        Index("ix_event_contact_id_id", "contact_id", "id"),
        Index("ix_event_contact_name_time", "contact_id", "event_name", "timestamp"),
        Index("ix_event_uuid", "event_uuid"),
        Index("ix_event_name_time", "event_name", "timestamp"),  # PostHog reconciliation's hourly counts
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: int | None = Field(default=None, foreign_key="source.id", ondelete="SET NULL")
    received_at: datetime = Field(default_factory=now)
    outcome: EventOutcome = Field(
        default=EventOutcome.pending,
        sa_column=Column(Enum(EventOutcome, native_enum=False, length=16), nullable=False),
    )
    reason: str = Field(default="", max_length=500)
    dedupe_key: str | None = Field(default=None, max_length=200)
    event_uuid: str | None = Field(default=None, max_length=200)
    event_name: str | None = Field(default=None, max_length=200)
    distinct_id: str | None = Field(default=None, max_length=200)
    # the email and PostHog person id the payload names (mapping.owner_keys), which partition passes
    # route by with the distinct_id; SQLite's webhook inbox leaves them empty: its one pass needs neither
    email: str | None = Field(default=None, max_length=254)
    person_id: str | None = Field(default=None, max_length=200)
    timestamp: datetime | None = None
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    headers: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    mapped: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    contact_id: int | None = Field(default=None, foreign_key="contact.id", ondelete="SET NULL")
    decisions: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True)))
    processed_at: datetime | None = None
    # set when retention (services/retention.py) cleared payload, headers and mapped: the row, its
    # decisions and its name, time and contact stay
    pruned_at: datetime | None = None


class InboxCursor(SQLModel, table=True):
    """SQLite only: the last row of the webhook's inbox file already moved into the event table. Kept
    here, in the same transaction as the move, so a crash between moving and trimming the inbox cannot
    move a row twice (services/intake/inbox.py)."""

    __tablename__ = "inbox_cursor"

    id: int = Field(default=1, primary_key=True)
    moved_upto: int = Field(default=0)
