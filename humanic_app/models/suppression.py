"""Addresses Humanic must never send to, and the delivery events Resend reports."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Enum
from sqlmodel import Field, SQLModel

from humanic_app.clock import now


class SuppressionReason(str, enum.Enum):
    unsubscribed = "unsubscribed"
    bounced = "bounced"
    complained = "complained"
    provider = "provider"  # Resend's own suppression list
    manual = "manual"
    erased = "erased"  # the contact was erased: the address is kept only as a salted hash (services/erasure.py)


class Suppression(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    reason: SuppressionReason = Field(
        sa_column=Column(Enum(SuppressionReason, native_enum=False, length=16), nullable=False)
    )
    note: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=now)


class DeliveryEvent(SQLModel, table=True):
    """One Resend webhook delivery (deduplicated on svix-id)."""

    __tablename__ = "delivery_event"

    id: int | None = Field(default=None, primary_key=True)
    svix_id: str = Field(max_length=200, unique=True)
    type: str = Field(max_length=100)
    message_id: int | None = Field(default=None, foreign_key="message.id", index=True, ondelete="SET NULL")
    provider_message_id: str | None = Field(default=None, max_length=200, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    occurred_at: datetime | None = None
    received_at: datetime = Field(default_factory=now)
