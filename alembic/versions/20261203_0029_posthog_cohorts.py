"""posthog cohorts

PostHog cohorts brought in as contacts (posthog_cohort: imported once or kept in sync, with the last
import's result) and their members (posthog_cohort_member), which the `in_cohort` branch condition reads.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "posthog_cohort",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("posthog_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("keep_in_sync", sa.Boolean(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("last_synced_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_result", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("last_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("posthog_id"),
    )
    op.create_table(
        "posthog_cohort_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["cohort_id"], ["posthog_cohort.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cohort_id", "contact_id", name="uq_posthog_cohort_member"),
    )
    op.create_index(op.f("ix_posthog_cohort_member_cohort_id"), "posthog_cohort_member", ["cohort_id"], unique=False)
    op.create_index(op.f("ix_posthog_cohort_member_contact_id"), "posthog_cohort_member", ["contact_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_posthog_cohort_member_contact_id"), table_name="posthog_cohort_member")
    op.drop_index(op.f("ix_posthog_cohort_member_cohort_id"), table_name="posthog_cohort_member")
    op.drop_table("posthog_cohort_member")
    op.drop_table("posthog_cohort")
