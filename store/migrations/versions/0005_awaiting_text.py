"""Questions waiting for a typed answer

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "awaiting_text",
        sa.Column("person", sa.String(length=254), nullable=False),
        sa.Column("audit_id", sa.String(length=32), nullable=False),
        sa.Column("verb", sa.String(length=64), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person", name=op.f("pk_awaiting_text")),
    )


def downgrade() -> None:
    op.drop_table("awaiting_text")
