"""warm-up per sending domain, counts for the per-campaign send rate

domain.verified_at / warmup_enabled / warmup_ladder / warmup_started_at: a newly verified domain's daily
cap, rising one step a UTC day (services/warmup.py). message.from_domain: the domain an email is sent
from, so today's sends per domain are counted on an index; ix_message_campaign_sent counts a campaign's
sends in the last minute.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("domain") as batch_op:
        batch_op.add_column(sa.Column("verified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("warmup_enabled", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("warmup_ladder", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("warmup_started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table("message") as batch_op:
        batch_op.add_column(
            sa.Column(
                "from_domain",
                sqlmodel.sql.sqltypes.AutoString(length=253),
                nullable=False,
                server_default=sa.text("''"),
            )
        )
        batch_op.create_index("ix_message_domain_sent", ["from_domain", "status", "sent_at"], unique=False)
        batch_op.create_index("ix_message_campaign_sent", ["campaign_id", "status", "sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("message") as batch_op:
        batch_op.drop_index("ix_message_campaign_sent")
        batch_op.drop_index("ix_message_domain_sent")
        batch_op.drop_column("from_domain")
    with op.batch_alter_table("domain") as batch_op:
        batch_op.drop_column("warmup_started_at")
        batch_op.drop_column("warmup_ladder")
        batch_op.drop_column("warmup_enabled")
        batch_op.drop_column("verified_at")
