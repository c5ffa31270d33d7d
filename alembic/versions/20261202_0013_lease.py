"""lease

Named leases in the database: a periodic job runs in whichever worker process holds its lease, so any
number of workers run it once per period.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 06:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('lease',
                    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
                    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
                    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('name'))


def downgrade() -> None:
    op.drop_table('lease')
