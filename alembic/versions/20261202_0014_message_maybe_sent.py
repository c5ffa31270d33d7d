"""message maybe_sent_since, campaign paused_reason

message.maybe_sent_since: when the provider may have an email under its current key and no answer has
settled it: replays keep that key while it lasts (Resend's 24 h idempotency window), and a failed row
with it set asks a person before it is sent again. campaign.paused_reason: why the dispatcher paused a
campaign (a step that keeps failing to render).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 07:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('message') as batch_op:
        batch_op.add_column(sa.Column('maybe_sent_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table('campaign') as batch_op:
        batch_op.add_column(sa.Column('paused_reason', sqlmodel.sql.sqltypes.AutoString(length=1000),
                                      nullable=False, server_default=sa.text("''")))


def downgrade() -> None:
    with op.batch_alter_table('campaign') as batch_op:
        batch_op.drop_column('paused_reason')
    with op.batch_alter_table('message') as batch_op:
        batch_op.drop_column('maybe_sent_since')
