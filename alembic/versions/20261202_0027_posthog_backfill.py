"""posthog backfill

PosthogConnection: the personal API key (query read scope, encrypted) and project id that backfill
queries PostHog's query API with.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-02 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "posthog_connection", sa.Column("personal_api_key_cipher", sa.Text(), nullable=False, server_default="")
    )
    op.add_column(
        "posthog_connection", sa.Column("personal_api_key_set_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
    )
    op.add_column(
        "posthog_connection",
        sa.Column("project_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False, server_default=""),
    )


def downgrade() -> None:
    with op.batch_alter_table("posthog_connection") as batch:
        batch.drop_column("project_id")
        batch.drop_column("personal_api_key_set_at")
        batch.drop_column("personal_api_key_cipher")
