"""Data protection: the access trail, and the record of what retention deleted

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
WHEN = sa.DateTime(timezone=True)

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_trail",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("person", sa.String(254), nullable=False),
        sa.Column("audit_id", sa.String(32), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_trail")),
    )
    op.create_index("ix_access_trail_audit_id", "access_trail", ["audit_id"])
    op.create_table(
        "retention_records",
        sa.Column("audit_id", sa.String(32), nullable=False),
        sa.Column("child_id", sa.String(32), nullable=False),
        sa.Column("cycle", sa.String(7), nullable=False),
        sa.Column("closed_at", WHEN, nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("deleted_at", WHEN, nullable=False),
        sa.Column("deleted_by", sa.String(254), nullable=False),
        sa.Column("what", JSON, nullable=False),
        sa.PrimaryKeyConstraint("audit_id", name=op.f("pk_retention_records")),
    )
    op.create_index("ix_retention_records_child_id", "retention_records", ["child_id"])


def downgrade() -> None:
    op.drop_index("ix_retention_records_child_id", table_name="retention_records")
    op.drop_table("retention_records")
    op.drop_index("ix_access_trail_audit_id", table_name="access_trail")
    op.drop_table("access_trail")
