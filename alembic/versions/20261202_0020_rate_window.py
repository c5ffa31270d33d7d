"""reputation guardrail: rolling complaint/bounce rate thresholds and windows

workspace.rate_min_volume / complaint_warn_pct / complaint_pause_pct / bounce_warn_pct / bounce_pause_pct:
the guardrail's settings (percent of emails delivered or bounced in the rolling 24 h, from a minimum volume).
rate_window: per scope (the workspace, or a campaign id), where counting restarted at the last Resume, the
counts its hour already held then, and the pause the guardrail made.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 12:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('workspace') as batch_op:
        batch_op.add_column(sa.Column('rate_min_volume', sa.Integer(), nullable=False, server_default=sa.text('200')))
        for name, default in (
            ('complaint_warn_pct', '0.1'),
            ('complaint_pause_pct', '0.3'),
            ('bounce_warn_pct', '2.0'),
            ('bounce_pause_pct', '4.0'),
        ):
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=False, server_default=sa.text(default)))
    op.create_table(
        'rate_window',
        sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('baseline_delivered', sa.Integer(), nullable=False),
        sa.Column('baseline_bounced', sa.Integer(), nullable=False),
        sa.Column('baseline_complained', sa.Integer(), nullable=False),
        sa.Column('paused_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('paused_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.PrimaryKeyConstraint('scope'),
    )


def downgrade() -> None:
    op.drop_table('rate_window')
    with op.batch_alter_table('workspace') as batch_op:
        for column in ('bounce_pause_pct', 'bounce_warn_pct', 'complaint_pause_pct', 'complaint_warn_pct',
                       'rate_min_volume'):
            batch_op.drop_column(column)
