"""campaigns enrolments messages

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 18:08:12.096415
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('status', sa.Enum('draft', 'active', 'paused', 'archived', name='campaignstatus', native_enum=False, length=16), nullable=False),
    sa.Column('trigger_event', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_trigger_event'), ['trigger_event'], unique=False)

    op.create_table('enrolment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('trigger_event_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('active', 'completed', 'cancelled', 'exited', name='enrolmentstatus', native_enum=False, length=16), nullable=False),
    sa.Column('enrolled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('trigger_properties', sa.JSON(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('ended_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['trigger_event_id'], ['event.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'trigger_event_id', name='uq_enrolment_campaign_event')
    )
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolment_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index('ix_enrolment_contact_campaign', ['contact_id', 'campaign_id'], unique=False)

    op.create_table('message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('enrolment_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('to_email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('step_index', sa.Integer(), nullable=False),
    sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'sending', 'sent', 'failed', 'cancelled', 'suppressed', name='messagestatus', native_enum=False, length=16), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('variables', sa.JSON(), nullable=False),
    sa.Column('is_test', sa.Boolean(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('provider_message_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_index('ix_message_status_due', ['status', 'due_at'], unique=False)

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decisions', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('decisions')

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_status_due')
        batch_op.drop_index(batch_op.f('ix_message_enrolment_id'))
        batch_op.drop_index(batch_op.f('ix_message_contact_id'))
        batch_op.drop_index(batch_op.f('ix_message_campaign_id'))

    op.drop_table('message')
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.drop_index('ix_enrolment_contact_campaign')
        batch_op.drop_index(batch_op.f('ix_enrolment_campaign_id'))

    op.drop_table('enrolment')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_trigger_event'))
        batch_op.drop_index(batch_op.f('ix_campaign_status'))

    op.drop_table('campaign')
