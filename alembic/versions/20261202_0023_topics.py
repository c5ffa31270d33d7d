"""topics

Topics (what a campaign's marketing email is about) and each contact's opt-outs from them
(topic_opt_out); the preference page and the send-time gate read them.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "topic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_table(
        "topic_opt_out",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["topic_id"], ["topic.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contact_id", "topic_id", name="uq_topic_opt_out_contact_topic"),
    )
    op.create_index(op.f("ix_topic_opt_out_contact_id"), "topic_opt_out", ["contact_id"], unique=False)
    op.create_index(op.f("ix_topic_opt_out_topic_id"), "topic_opt_out", ["topic_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_topic_opt_out_topic_id"), table_name="topic_opt_out")
    op.drop_index(op.f("ix_topic_opt_out_contact_id"), table_name="topic_opt_out")
    op.drop_table("topic_opt_out")
    op.drop_table("topic")
