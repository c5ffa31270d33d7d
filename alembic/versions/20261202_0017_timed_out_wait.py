"""timed_out_wait

A `match` wait_for that timed out, found by its event name and correlation key: an event stamped inside
the wait but processed after its timeout path ran (of another contact, or of none) is told it arrived late.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "timed_out_wait",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("waiting_for", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("waiting_key", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("deadline", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolment.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_timed_out_wait_key", "timed_out_wait", ["waiting_for", "waiting_key"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_timed_out_wait_key", table_name="timed_out_wait")
    op.drop_table("timed_out_wait")
