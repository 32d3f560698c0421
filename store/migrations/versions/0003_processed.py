"""Commands already applied, for idempotent chat submits

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 07:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processed",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("audit_id", sa.String(length=32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_processed")),
    )


def downgrade() -> None:
    op.drop_table("processed")
