"""Idempotency keys: the Teams activities and cards already applied, so none is applied twice.

The key is written in the same transaction as the change it carried; a second
write of the same key fails on the primary key and the transaction is undone.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from store.schema import processed


async def mark_processed(
    conn: AsyncConnection, key: str, audit_id: str | None, now: datetime
) -> None:
    """Raises IntegrityError when `key` was processed before."""
    await conn.execute(processed.insert(), {"key": key, "audit_id": audit_id, "at": now})


async def was_processed(conn: AsyncConnection, key: str) -> bool:
    found = await conn.execute(sa.select(processed.c.key).where(processed.c.key == key))
    return found.first() is not None
