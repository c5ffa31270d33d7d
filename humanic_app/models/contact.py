"""Contacts and the PostHog identities (distinct_ids, person ids) that point at them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Enum, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from humanic_app.clock import now


class Contact(SQLModel, table=True):
    __table_args__ = (Index("ix_contact_email_lower", text("lower(email)")),)  # case-insensitive matching

    id: int | None = Field(default=None, primary_key=True)
    email: str | None = Field(default=None, max_length=320, index=True)
    name: str = Field(default="", max_length=300)
    properties: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    property_times: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    unsubscribed_at: datetime | None = None
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)


class IdentityKind(str, enum.Enum):
    distinct_id = "distinct_id"
    person_id = "person_id"


class ContactIdentity(SQLModel, table=True):
    __tablename__ = "contact_identity"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_contact_identity_kind_value"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True, ondelete="CASCADE")
    kind: IdentityKind = Field(sa_column=Column(Enum(IdentityKind, native_enum=False, length=16), nullable=False))
    value: str = Field(max_length=200)
