"""inbox cursor

On SQLite the webhook appends to an inbox file of its own and the background worker moves the rows into
the event table; this single row says how far it got, committed with each move.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 01:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inbox_cursor',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('moved_upto', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('id'))


def downgrade() -> None:
    op.drop_table('inbox_cursor')
