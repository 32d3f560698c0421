"""The directory's display name of each address, shown instead of the address

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "display_names",
        sa.Column("address", sa.String(254), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("display_names")
