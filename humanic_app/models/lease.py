"""Leases: one row per named job, held by one process until it expires (periodic jobs run once per
deployment, whichever worker holds the job's lease)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class Lease(SQLModel, table=True):
    name: str = Field(primary_key=True, max_length=100)
    holder: str = Field(max_length=200)  # host:pid:nonce of the worker process
    expires_at: datetime
