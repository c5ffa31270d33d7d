"""journeys: enrolment position, workspace timezone

enrolment.position / reached_at / wake_at / waiting_for / waiting_key: where a contact waits in a journey
(a wait_for node, or a branch reached ahead of time), since when, when its timeout or branch comes due,
and how an event finds it (the event's name and a correlation key: the contact, or the `match` values).
enrolment.variables: the trigger event's template variables, for the emails written when it moves on.
enrolment.trail: the nodes it went through and the path taken at each. workspace.timezone: the time
zone of journeys' time windows for contacts without one of their own.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 09:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('enrolment') as batch_op:
        batch_op.add_column(sa.Column('position', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('reached_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('wake_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('waiting_for', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('waiting_key', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.add_column(sa.Column('variables', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('trail', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.create_index('ix_enrolment_wake_at', ['wake_at'], unique=False)
        batch_op.create_index('ix_enrolment_waiting', ['waiting_for', 'waiting_key'], unique=False)
    with op.batch_alter_table('workspace') as batch_op:
        batch_op.add_column(sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=False, server_default=sa.text("'UTC'")))


def downgrade() -> None:
    with op.batch_alter_table('workspace') as batch_op:
        batch_op.drop_column('timezone')
    with op.batch_alter_table('enrolment') as batch_op:
        batch_op.drop_index('ix_enrolment_waiting')
        batch_op.drop_index('ix_enrolment_wake_at')
        for column in ('trail', 'variables', 'waiting_key', 'waiting_for', 'wake_at', 'reached_at', 'position'):
            batch_op.drop_column(column)
