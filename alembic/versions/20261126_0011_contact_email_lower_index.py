"""contact email lower index

Processing matches contacts by email case-insensitively (`lower(email) IN (...)`) for every batch of
events; without this index that was a scan of the whole contact table.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 22:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_contact_email_lower', 'contact', [sa.text('lower(email)')], unique=False)


def downgrade() -> None:
    op.drop_index('ix_contact_email_lower', table_name='contact')
