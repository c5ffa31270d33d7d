"""reconciliation failures

PosthogConnection: why the last hourly reconciliation with PostHog could not run, and when, so Pipeline
health can say so instead of showing only the last gaps it found.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("posthog_connection") as batch:
        batch.add_column(
            sa.Column(
                "reconcile_error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False, server_default=""
            )
        )
        batch.add_column(sa.Column("reconcile_failed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("posthog_connection") as batch:
        batch.drop_column("reconcile_failed_at")
        batch.drop_column("reconcile_error")
