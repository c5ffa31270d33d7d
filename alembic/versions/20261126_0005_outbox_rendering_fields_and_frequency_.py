"""outbox rendering fields and frequency cap

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 18:31:47.084449
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('test_step', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('from_address', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('html', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('sent_via', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default=sa.text("''")))

    with op.batch_alter_table('workspace', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frequency_cap', sa.Integer(), nullable=False, server_default=sa.text("'3'")))



def downgrade() -> None:
    with op.batch_alter_table('workspace', schema=None) as batch_op:
        batch_op.drop_column('frequency_cap')

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('sent_via')
        batch_op.drop_column('text')
        batch_op.drop_column('html')
        batch_op.drop_column('subject')
        batch_op.drop_column('from_address')
        batch_op.drop_column('test_step')
        batch_op.drop_column('lease_until')

