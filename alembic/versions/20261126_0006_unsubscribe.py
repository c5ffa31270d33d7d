"""unsubscribe

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 18:39:01.196100
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unsubscribed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))

    with op.batch_alter_table('workspace', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_signing_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False, server_default=sa.text("''")))



def downgrade() -> None:
    with op.batch_alter_table('workspace', schema=None) as batch_op:
        batch_op.drop_column('link_signing_key')

    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_column('unsubscribed_at')

