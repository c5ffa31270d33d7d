"""Campaigns and the contacts enrolled in them (their emails are outbox rows: models/message.py)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Enum, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from humanic_app.clock import now


class CampaignStatus(str, enum.Enum):
    draft = "draft"
    active = "active"
    paused = "paused"
    archived = "archived"


CAMPAIGN_TRANSITIONS = {
    CampaignStatus.draft: {CampaignStatus.active, CampaignStatus.archived},
    CampaignStatus.active: {CampaignStatus.paused, CampaignStatus.archived},
    CampaignStatus.paused: {CampaignStatus.active, CampaignStatus.archived},
    CampaignStatus.archived: set(),
}


class Campaign(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    status: CampaignStatus = Field(
        default=CampaignStatus.draft,
        sa_column=Column(Enum(CampaignStatus, native_enum=False, length=16), nullable=False, index=True),
    )
    trigger_event: str = Field(max_length=200, index=True)
    definition: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Every (event, match) a wait_for of this campaign has ever awaited, in any saved version: contacts finish
    # the version they entered under, so an event must still find them after an edit removed or re-keyed
    # their wait. Only grows; a stale entry costs one index lookup that finds nobody.
    awaits: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    paused_reason: str = Field(default="", max_length=1000)  # why the dispatcher paused it; cleared on activation
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)


class EnrolmentStatus(str, enum.Enum):
    active = "active"  # steps still to send
    completed = "completed"  # every step scheduled has been handled
    cancelled = "cancelled"  # the `unless` event happened first, or the campaign was archived
    exited = "exited"  # reached an exit goal


class Enrolment(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("campaign_id", "trigger_event_id", name="uq_enrolment_campaign_event"),
        Index("ix_enrolment_contact_campaign", "contact_id", "campaign_id"),
        # Only enrolments that wait are looked up by these, so only theirs are indexed: an enrolment
        # that moves on or finishes (one UPDATE per resumed or timed-out wait) has two fewer index entries
        # to write. Queries that compare the column (`= :name`, `<= :now`) imply the predicate.
        Index(
            "ix_enrolment_waiting",
            "waiting_for",
            "waiting_key",
            postgresql_where=text("waiting_for IS NOT NULL"),
            sqlite_where=text("waiting_for IS NOT NULL"),
        ),
        Index(
            "ix_enrolment_wake_at",
            "wake_at",
            postgresql_where=text("wake_at IS NOT NULL"),
            sqlite_where=text("wake_at IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # campaign_id leads uq_enrolment_campaign_event, which serves its lookups: no index of its own
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contact.id", ondelete="CASCADE")
    trigger_event_id: int = Field(foreign_key="event.id", ondelete="CASCADE")
    status: EnrolmentStatus = Field(
        default=EnrolmentStatus.active,
        sa_column=Column(Enum(EnrolmentStatus, native_enum=False, length=16), nullable=False),
    )
    enrolled_at: datetime  # the trigger event's own time
    trigger_properties: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    definition: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    ended_reason: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=now)
    # Where the contact is in a journey (services/campaigns/journeys.py): the id of the node it waits at —
    # a wait_for, or a branch reached ahead of time — or "" once nothing is left to decide. Emails up to
    # that node are outbox rows already; later ones are written when it moves on.
    position: str = Field(default="", max_length=64)
    reached_at: datetime | None = None  # when it reached `position` (the wait's start, by event time)
    wake_at: datetime | None = None  # the timeout, or when a branch is reached
    waiting_for: str | None = Field(default=None, max_length=200)  # the event a wait_for waits for
    waiting_key: str | None = Field(default=None, max_length=500)  # how it is correlated (contact or match)
    variables: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    trail: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # nodes passed


class TimedOutWait(SQLModel, table=True):
    """A `match` wait_for that timed out: so an event of that key stamped inside the wait but processed
    after its timeout path ran — of any contact, or of none — finds it on an index and is told it arrived
    late (a wait without `match` is found through the event's own contact's enrolments)."""

    __tablename__ = "timed_out_wait"
    __table_args__ = (Index("ix_timed_out_wait_key", "waiting_for", "waiting_key"),)

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="enrolment.id", ondelete="CASCADE")
    waiting_for: str = Field(max_length=200)
    waiting_key: str = Field(max_length=500)
    since: datetime  # when the wait started (event time)
    deadline: datetime  # when it timed out
