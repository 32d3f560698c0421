"""Who opened which audit, when, and from where: appended to only, read by QA."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from store.schema import access_trail

# Where an audit was opened from.
VIA = ("card", "chat", "cli", "tab")


@dataclass(frozen=True)
class Access:
    at: datetime
    person: str
    audit_id: str
    via: str


async def record_access(
    conn: AsyncConnection, at: datetime, person: str, audit_id: str, via: str
) -> None:
    if via not in VIA:
        raise ValueError(f"unknown place an audit is opened from: {via}")
    await conn.execute(
        access_trail.insert().values(at=at, person=person[:254], audit_id=audit_id[:32], via=via)
    )


async def accesses(conn: AsyncConnection, audit_id: str) -> list[Access]:
    """Every opening of the audit, oldest first."""
    rows = await conn.execute(
        sa.select(
            access_trail.c.at, access_trail.c.person, access_trail.c.audit_id, access_trail.c.via
        )
        .where(access_trail.c.audit_id == audit_id)
        .order_by(access_trail.c.id)
    )
    return [Access(**r._mapping) for r in rows]


async def accesses_by(conn: AsyncConnection, person: str) -> list[Access]:
    """Every audit this person opened, oldest first."""
    rows = await conn.execute(
        sa.select(
            access_trail.c.at, access_trail.c.person, access_trail.c.audit_id, access_trail.c.via
        )
        .where(access_trail.c.person == person)
        .order_by(access_trail.c.id)
    )
    return [Access(**r._mapping) for r in rows]
