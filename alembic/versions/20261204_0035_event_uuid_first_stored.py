"""a uuid's first stored event in one probe

Processing asks, for each event of a batch, which event with the same PostHog uuid was stored first.
`ix_event_uuid_id` (uuid, then id) answers that from the index alone, whatever statistics the planner has;
it replaces `ix_event_uuid`, whose lookups it serves as well.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-04 15:00:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_event_uuid_id", "event", ["event_uuid", "id"])
    op.drop_index("ix_event_uuid", table_name="event")


def downgrade() -> None:
    op.create_index("ix_event_uuid", "event", ["event_uuid"])
    op.drop_index("ix_event_uuid_id", table_name="event")
