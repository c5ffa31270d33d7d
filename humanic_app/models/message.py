"""The outbox: one row per email to send, its status, and what was handed to the provider."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Enum, Index, text
from sqlmodel import Field, SQLModel

from humanic_app.clock import now


class MessageStatus(str, enum.Enum):
    scheduled = "scheduled"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"
    suppressed = "suppressed"


# an erased contact's emails keep their rows, anonymized, under this key (services/erasure.py): their ids
# are never handed out again (an old unsubscribe link names one) and the sending counts stay right
ERASED_KEY_PREFIX = "erased-"


class Message(SQLModel, table=True):
    """One email to send: the outbox row. Rendering happens at send time from the latest contact data."""

    __table_args__ = (
        Index("ix_message_status_due", "status", "due_at"),
        # what warm-up counts (sent today, or in flight, from a domain) and the campaign rate counts
        Index("ix_message_domain_sent", "from_domain", "status", "sent_at"),
        Index("ix_message_campaign_sent", "campaign_id", "status", "sent_at"),
        # a batch call's emails are looked up by its key (`batch_key = :key`); a scheduled email has none yet
        Index(
            "ix_message_batch_key",
            "batch_key",
            postgresql_where=text("batch_key IS NOT NULL"),
            sqlite_where=text("batch_key IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # campaign_id leads ix_message_campaign_sent, which serves its lookups: no index of its own
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", ondelete="SET NULL")
    enrolment_id: int | None = Field(default=None, foreign_key="enrolment.id", index=True, ondelete="SET NULL")
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True, ondelete="SET NULL")
    to_email: str = Field(max_length=320)
    step_index: int = 0
    due_at: datetime
    status: MessageStatus = Field(
        default=MessageStatus.scheduled,
        sa_column=Column(Enum(MessageStatus, native_enum=False, length=16), nullable=False),
    )
    idempotency_key: str = Field(max_length=200, unique=True)
    variables: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    is_test: bool = False
    attempts: int = 0
    last_error: str = Field(default="", max_length=1000)
    provider_message_id: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = None  # a dispatcher owns a `sending` row until then
    batch_key: str | None = Field(default=None, max_length=100)  # the Resend batch call it went in
    # Set when the call under its current key first went out, cleared when an answer settles it: while set,
    # the provider may have the email, so it is only ever replayed under that key (or sent anew by a person).
    maybe_sent_since: datetime | None = None
    test_step: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))  # a test send's own content
    from_address: str = Field(default="", max_length=500)
    from_domain: str = Field(default="", max_length=253)  # the From address's domain, set when gated
    subject: str = Field(default="", max_length=1000)  # as rendered at send time
    html: str = Field(default="")
    text: str = Field(default="")
    sent_via: str = Field(default="", max_length=20)
    delivery_status: str = Field(default="", max_length=20)  # delivered → opened → clicked, or bounced/complained
    created_at: datetime = Field(default_factory=now)
    sent_at: datetime | None = None

    @property
    def erased(self) -> bool:
        """Its contact was erased: the row holds no personal data and is never sent, retried or exported."""
        return self.idempotency_key.startswith(ERASED_KEY_PREFIX)
