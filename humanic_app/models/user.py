"""People who sign in, their sessions, and API keys. Only hashes of secrets are stored."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, Enum
from sqlmodel import Field, SQLModel

from humanic_app.clock import now


class UserRole(str, enum.Enum):
    owner = "owner"
    member = "member"


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    role: UserRole = Field(sa_column=Column(Enum(UserRole, native_enum=False, length=16), nullable=False))
    must_change_password: bool = Field(default=False)
    created_at: datetime = Field(default_factory=now)


class UserSession(SQLModel, table=True):
    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=now)
    expires_at: datetime


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=now)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
