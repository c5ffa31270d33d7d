"""outbox batch keys; sending blocked by a provider quota

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 20:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('message') as batch_op:
        batch_op.add_column(sa.Column('batch_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_message_batch_key'), ['batch_key'], unique=False)
    with op.batch_alter_table('workspace') as batch_op:
        batch_op.add_column(sa.Column('sending_blocked_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('sending_blocked_reason', sqlmodel.sql.sqltypes.AutoString(length=500),
                                      nullable=False, server_default=sa.text("''")))


def downgrade() -> None:
    with op.batch_alter_table('workspace') as batch_op:
        batch_op.drop_column('sending_blocked_reason')
        batch_op.drop_column('sending_blocked_until')
    with op.batch_alter_table('message') as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_batch_key'))
        batch_op.drop_column('batch_key')
