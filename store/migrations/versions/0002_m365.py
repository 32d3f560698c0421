"""Microsoft 365: people, conversations, calendar events, filings, tracker items, outbox lanes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 06:27:55.434802
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversations',
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('upn', sa.String(length=254), nullable=True),
    sa.Column('reference', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('object_id', name=op.f('pk_conversations'))
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversations_upn'), ['upn'], unique=False)

    op.create_table('people',
    sa.Column('upn', sa.String(length=254), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('upn', name=op.f('pk_people')),
    sa.UniqueConstraint('object_id', name=op.f('uq_people_object_id'))
    )
    op.create_table('calendar_events',
    sa.Column('audit_id', sa.String(length=32), nullable=False),
    sa.Column('step', sa.String(length=64), nullable=False),
    sa.Column('owner', sa.String(length=254), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], name=op.f('fk_calendar_events_audit_id_audits')),
    sa.PrimaryKeyConstraint('audit_id', 'step', name=op.f('pk_calendar_events'))
    )
    op.create_table('filings',
    sa.Column('audit_id', sa.String(length=32), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('path', sa.String(length=400), nullable=False),
    sa.Column('item_id', sa.String(length=200), nullable=False),
    sa.Column('web_url', sa.String(length=1000), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], name=op.f('fk_filings_audit_id_audits')),
    sa.PrimaryKeyConstraint('audit_id', 'stage', name=op.f('pk_filings'))
    )
    op.create_table('tracker_items',
    sa.Column('audit_id', sa.String(length=32), nullable=False),
    sa.Column('item_id', sa.String(length=200), nullable=False),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], name=op.f('fk_tracker_items_audit_id_audits')),
    sa.PrimaryKeyConstraint('audit_id', name=op.f('pk_tracker_items'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lane', sa.String(length=300), server_default='', nullable=False))
        batch_op.create_index('ix_outbox_lane', ['lane', 'status', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_lane')
        batch_op.drop_column('lane')

    op.drop_table('tracker_items')
    op.drop_table('filings')
    op.drop_table('calendar_events')
    op.drop_table('people')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversations_upn'))

    op.drop_table('conversations')
