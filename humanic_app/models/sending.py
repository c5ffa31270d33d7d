"""The Resend connection made in Settings → Sending: the API key and the signing secret of the webhook
Humanic registered, both encrypted at rest (services/sending/credentials.py). One row, id 1."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, Enum, Text
from sqlmodel import Field, SQLModel


class KeyAccess(str, enum.Enum):
    unknown = "unknown"  # not tested yet, or Resend could not be reached
    full = "full"  # full access: domains, webhooks and sending
    sending = "sending"  # sending access only: Resend answers 401 restricted_api_key elsewhere


class SendingCredentials(SQLModel, table=True):
    __tablename__ = "sending_credentials"

    id: int | None = Field(default=None, primary_key=True)
    api_key_cipher: str = Field(default="", sa_column=Column(Text, nullable=False))
    api_key_set_at: datetime | None = None
    key_access: KeyAccess = Field(
        default=KeyAccess.unknown,
        sa_column=Column(Enum(KeyAccess, native_enum=False, length=16), nullable=False),
    )
    key_tested_at: datetime | None = None
    webhook_id: str = Field(default="", max_length=100)
    webhook_endpoint: str = Field(default="", max_length=600)
    webhook_secret_cipher: str = Field(default="", sa_column=Column(Text, nullable=False))
    webhook_registered_at: datetime | None = None
