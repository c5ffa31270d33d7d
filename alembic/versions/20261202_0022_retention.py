"""retention

Workspace.retention_days (raw payloads and delivery events older than it are pruned), Event.pruned_at,
and the pruning's progress (retention_state).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMNs (no table copy on SQLite): the event table may hold hundreds of millions of rows
    op.add_column("workspace", sa.Column("retention_days", sa.Integer(), nullable=False, server_default=sa.text("90")))
    op.add_column("event", sa.Column("pruned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_table(
        "retention_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("events_pruned_upto", sa.Integer(), nullable=False),
        sa.Column("last_run_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_run_events", sa.Integer(), nullable=False),
        sa.Column("last_run_delivery_events", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("retention_state")
    with op.batch_alter_table("event") as batch:
        batch.drop_column("pruned_at")
    with op.batch_alter_table("workspace") as batch:
        batch.drop_column("retention_days")
