"""posthog writeback

The PostHog connection set in Settings → PostHog (posthog_connection: host, encrypted project API key,
the kinds written back, the backoff) and the capture outbox (posthog_capture) the write-back job drains.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "posthog_connection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("api_key_cipher", sa.Text(), nullable=False),
        sa.Column("api_key_set_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("last_error_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "posthog_capture",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("event", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("timestamp", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
    )
    op.create_index("ix_posthog_capture_unsent", "posthog_capture", ["sent_at", "id"], unique=False)
    op.create_index(op.f("ix_posthog_capture_contact_id"), "posthog_capture", ["contact_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_posthog_capture_contact_id"), table_name="posthog_capture")
    op.drop_index("ix_posthog_capture_unsent", table_name="posthog_capture")
    op.drop_table("posthog_capture")
    op.drop_table("posthog_connection")
