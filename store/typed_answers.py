"""Questions waiting for a typed answer: at most one per person, whose next message answers it.

The bot asks (`await_text`), the next message is read against it
(`awaited_text`), and it is cleared once answered (`answered`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from store.schema import awaiting_text


@dataclass(frozen=True)
class Awaited:
    audit_id: str
    verb: str
    detail: dict[str, str]


async def await_text(
    conn: AsyncConnection,
    person: str,
    audit_id: str,
    verb: str,
    now: datetime,
    detail: dict[str, str] | None = None,
) -> None:
    """The bot asked `person` a question whose answer they may simply type."""
    await conn.execute(awaiting_text.delete().where(awaiting_text.c.person == person))
    await conn.execute(
        awaiting_text.insert().values(
            person=person, audit_id=audit_id, verb=verb, asked_at=now, detail=detail
        )
    )


async def awaited_text(conn: AsyncConnection, person: str) -> Awaited | None:
    """The question waiting for this person's typed answer, if any (left waiting)."""
    row = (
        await conn.execute(sa.select(awaiting_text).where(awaiting_text.c.person == person))
    ).first()
    return None if row is None else Awaited(row.audit_id, row.verb, dict(row.detail or {}))


async def answered(conn: AsyncConnection, person: str) -> None:
    """The question waiting for this person was answered: later messages are not answers."""
    await conn.execute(awaiting_text.delete().where(awaiting_text.c.person == person))
