"""sources events contacts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 17:31:01.184494
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('properties', sa.JSON(), nullable=False),
    sa.Column('property_times', sa.JSON(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_email'), ['email'], unique=False)

    op.create_table('source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('previous_token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('status', sa.Enum('waiting_for_test_event', 'test_event_received', 'active', 'paused', name='sourcestatus', native_enum=False, length=32), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('signing_secret', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('required_header_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('required_header_value', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_event_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('source', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_source_previous_token_hash'), ['previous_token_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_source_token_hash'), ['token_hash'], unique=True)

    op.create_table('contact_identity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('distinct_id', 'person_id', name='identitykind', native_enum=False, length=16), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'value', name='uq_contact_identity_kind_value')
    )
    with op.batch_alter_table('contact_identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_identity_contact_id'), ['contact_id'], unique=False)

    op.create_table('event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('outcome', sa.Enum('pending', 'processed', 'duplicate', 'skipped', 'rejected', name='eventoutcome', native_enum=False, length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('event_uuid', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('event_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('distinct_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('timestamp', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('headers', sa.JSON(), nullable=True),
    sa.Column('mapped', sa.JSON(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('processed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_id', 'dedupe_key', name='uq_event_source_dedupe')
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index('ix_event_contact_id_id', ['contact_id', 'id'], unique=False)
        batch_op.create_index('ix_event_name_id', ['event_name', 'id'], unique=False)
        batch_op.create_index('ix_event_outcome_id', ['outcome', 'id'], unique=False)
        batch_op.create_index('ix_event_source_id_id', ['source_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_source_id_id')
        batch_op.drop_index('ix_event_outcome_id')
        batch_op.drop_index('ix_event_name_id')
        batch_op.drop_index('ix_event_contact_id_id')

    op.drop_table('event')
    with op.batch_alter_table('contact_identity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_identity_contact_id'))

    op.drop_table('contact_identity')
    with op.batch_alter_table('source', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_source_token_hash'))
        batch_op.drop_index(batch_op.f('ix_source_previous_token_hash'))

    op.drop_table('source')
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_email'))

    op.drop_table('contact')
