"""sending_credentials

The Resend API key and webhook signing secret set in Settings → Sending, encrypted at rest.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 12:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sending_credentials',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('api_key_cipher', sa.Text(), nullable=False),
                    sa.Column('api_key_set_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
                    sa.Column('key_access', sa.Enum('unknown', 'full', 'sending', name='keyaccess',
                                                    native_enum=False, length=16), nullable=False),
                    sa.Column('key_tested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
                    sa.Column('webhook_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
                    sa.Column('webhook_endpoint', sqlmodel.sql.sqltypes.AutoString(length=600), nullable=False),
                    sa.Column('webhook_secret_cipher', sa.Text(), nullable=False),
                    sa.Column('webhook_registered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
                    sa.PrimaryKeyConstraint('id'))


def downgrade() -> None:
    op.drop_table('sending_credentials')
