"""Indexes for the views: a person's open steps, and the month and team filters

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-04 00:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deadlines_owner_open", "deadlines", ["owner", "done_at"])
    op.create_index("ix_audits_cycle_team", "audits", ["cycle", "team"])


def downgrade() -> None:
    op.drop_index("ix_audits_cycle_team", table_name="audits")
    op.drop_index("ix_deadlines_owner_open", table_name="deadlines")
