"""posthog pull and reconciliation

PosthogConnection: pull-only mode (events polled from PostHog's query API instead of a webhook): whether it
is on, its interval, the cursor of the last window read, and how the last polls went; reconciliation's last
run and the gaps it found. Event: an index on (event_name, timestamp) for reconciliation's hourly counts.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOMENTS = ("pull_cursor", "pull_last_at", "pull_last_error_at")


def upgrade() -> None:
    with op.batch_alter_table("posthog_connection") as batch:
        batch.add_column(sa.Column("pull_enabled", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("pull_interval_s", sa.Integer(), nullable=False, server_default="30"))
        for name in _MOMENTS:
            batch.add_column(sa.Column(name, sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("pull_failures", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column(
                "pull_last_error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False, server_default=""
            )
        )
        batch.add_column(sa.Column("pull_last_pulled", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("reconciled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("reconcile_gaps", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    op.create_index("ix_event_name_time", "event", ["event_name", "timestamp"])


def downgrade() -> None:
    op.drop_index("ix_event_name_time", table_name="event")
    with op.batch_alter_table("posthog_connection") as batch:
        batch.drop_column("reconcile_gaps")
        batch.drop_column("reconciled_at")
        for name in ("pull_last_pulled", "pull_last_error", "pull_failures", *reversed(_MOMENTS)):
            batch.drop_column(name)
        batch.drop_column("pull_interval_s")
        batch.drop_column("pull_enabled")
