"""Hourly counters kept as events arrive, so the Dashboard and the checks never scan the event table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class Stat(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("hour", "name", "key", name="uq_stat_hour_name_key"),)

    id: int | None = Field(default=None, primary_key=True)
    hour: datetime  # start of the UTC hour
    name: str = Field(max_length=50)  # what is counted, e.g. "received", "rejected", "webhook_ms"
    key: str = Field(default="", max_length=200)  # the breakdown: source id, event name, reason, bucket…
    count: int = 0
