"""the email and person id an event names

Event: the email and PostHog person id its payload names, stored by intake beside its distinct_id, so a
PostgreSQL partition pass can find in SQL another partition's pending event that would merge a contact of
its own (services/processing.py `_ROUTES`). 0034 reads them for the events still pending at the upgrade.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-03 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True))
        batch.add_column(sa.Column("person_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.drop_column("person_id")
        batch.drop_column("email")
