"""leaner enrolment and message indexes

Enrolment: `ix_enrolment_waiting` and `ix_enrolment_wake_at` hold only the enrolments that wait (the rows
their lookups can find), so moving an enrolment on or finishing it writes two index entries fewer; message:
`ix_message_batch_key` holds only emails that went out in a batch call, so scheduling one writes one fewer; the
single-column indexes on `enrolment.campaign_id` and `message.campaign_id` go, each the leading column of
another index (`uq_enrolment_campaign_event`, `ix_message_campaign_sent`) that serves the same lookups.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-04 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _partial(column: str) -> dict[str, sa.TextClause]:
    predicate = sa.text(f"{column} IS NOT NULL")
    return {"postgresql_where": predicate, "sqlite_where": predicate}


def upgrade() -> None:
    op.drop_index("ix_enrolment_waiting", table_name="enrolment")
    op.drop_index("ix_enrolment_wake_at", table_name="enrolment")
    op.drop_index("ix_enrolment_campaign_id", table_name="enrolment")
    op.drop_index("ix_message_campaign_id", table_name="message")
    op.drop_index("ix_message_batch_key", table_name="message")
    op.create_index("ix_message_batch_key", "message", ["batch_key"], **_partial("batch_key"))
    op.create_index("ix_enrolment_waiting", "enrolment", ["waiting_for", "waiting_key"], **_partial("waiting_for"))
    op.create_index("ix_enrolment_wake_at", "enrolment", ["wake_at"], **_partial("wake_at"))


def downgrade() -> None:
    op.drop_index("ix_enrolment_wake_at", table_name="enrolment")
    op.drop_index("ix_enrolment_waiting", table_name="enrolment")
    op.drop_index("ix_message_batch_key", table_name="message")
    op.create_index("ix_message_batch_key", "message", ["batch_key"])
    op.create_index("ix_message_campaign_id", "message", ["campaign_id"])
    op.create_index("ix_enrolment_campaign_id", "enrolment", ["campaign_id"])
    op.create_index("ix_enrolment_wake_at", "enrolment", ["wake_at"])
    op.create_index("ix_enrolment_waiting", "enrolment", ["waiting_for", "waiting_key"])
