"""event index for campaign lookups

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 18:26:53.531485
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index('ix_event_contact_name_time', ['contact_id', 'event_name', 'timestamp'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_contact_name_time')

