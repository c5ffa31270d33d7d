"""Failed sign-in attempts, counted per key (an account's email or a client address), so every web worker
sees the same count and the delays it sets."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class SignInAttempt(SQLModel, table=True):
    __tablename__ = "sign_in_attempt"

    key: str = Field(primary_key=True, max_length=64)  # SHA-256 of "account:<email>" or "address:<ip>"
    failures: int = Field(default=0)
    last_failure_at: datetime
    next_allowed_at: datetime
