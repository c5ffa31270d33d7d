"""Topics a workspace's marketing email is about, and the topics each contact opted out of."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from humanic_app.clock import now

# The campaign document's `topic` value for account and billing mail: exempt from marketing opt-outs (one
# topic's or "unsubscribe from all"), never from bounces, complaints, manual or erasure suppression.
TRANSACTIONAL = "transactional"


class Topic(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=60, unique=True)  # what a campaign document names (e.g. "product-tips")
    name: str = Field(max_length=100)  # what recipients read on the preference page
    created_at: datetime = Field(default_factory=now)


class TopicOptOut(SQLModel, table=True):
    __tablename__ = "topic_opt_out"
    __table_args__ = (UniqueConstraint("contact_id", "topic_id", name="uq_topic_opt_out_contact_topic"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True, ondelete="CASCADE")
    topic_id: int = Field(foreign_key="topic.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=now)
