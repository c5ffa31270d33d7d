"""hourly counters; event uuid index (the same event through two sources)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 21:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('stat',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hour', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('hour', 'name', 'key', name='uq_stat_hour_name_key')
    )
    op.create_index('ix_event_uuid', 'event', ['event_uuid'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_event_uuid', table_name='event')
    op.drop_table('stat')
