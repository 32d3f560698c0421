"""What auditbot made in Microsoft 365, so it can change or link it later.

The Outlook event standing for each deadline (to move or remove it), each Word
document filed into SharePoint (the tracker links to the newest), and the
SharePoint tracker list item of each audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from store.schema import calendar_events, filings, tracker_items


@dataclass(frozen=True)
class CalendarEventRow:
    audit_id: str
    step: str
    owner: str  # whose calendar it is on
    event_id: str
    due_at: datetime
    updated_at: datetime
    generation: int = 0  # times made again after its owner deleted it


@dataclass(frozen=True)
class FilingRow:
    audit_id: str
    stage: str
    path: str
    item_id: str
    web_url: str
    version: int
    filed_at: datetime


async def calendar_event(
    conn: AsyncConnection, audit_id: str, step: str
) -> CalendarEventRow | None:
    row = (
        await conn.execute(
            sa.select(calendar_events).where(
                calendar_events.c.audit_id == audit_id, calendar_events.c.step == step
            )
        )
    ).first()
    return None if row is None else CalendarEventRow(**row._mapping)


async def save_calendar_event(
    conn: AsyncConnection,
    audit_id: str,
    step: str,
    owner: str,
    event_id: str,
    due_at: datetime,
    now: datetime,
    generation: int = 0,
) -> None:
    await forget_calendar_event(conn, audit_id, step)
    await conn.execute(
        calendar_events.insert().values(
            audit_id=audit_id,
            step=step,
            owner=owner,
            event_id=event_id,
            due_at=due_at,
            updated_at=now,
            generation=generation,
        )
    )


async def forget_calendar_event(conn: AsyncConnection, audit_id: str, step: str) -> None:
    await conn.execute(
        calendar_events.delete().where(
            calendar_events.c.audit_id == audit_id, calendar_events.c.step == step
        )
    )


async def save_filing(
    conn: AsyncConnection,
    audit_id: str,
    stage: str,
    path: str,
    item_id: str,
    web_url: str,
    version: int,
    now: datetime,
) -> None:
    await conn.execute(
        filings.delete().where(filings.c.audit_id == audit_id, filings.c.stage == stage)
    )
    await conn.execute(
        filings.insert().values(
            audit_id=audit_id,
            stage=stage,
            path=path,
            item_id=item_id,
            web_url=web_url,
            version=version,
            filed_at=now,
        )
    )


async def latest_filing(conn: AsyncConnection, audit_id: str) -> FilingRow | None:
    """The audit's most recently filed document (the highest version), if any."""
    row = (
        await conn.execute(
            sa.select(filings)
            .where(filings.c.audit_id == audit_id)
            .order_by(filings.c.version.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else FilingRow(**row._mapping)


async def save_tracker_item(
    conn: AsyncConnection, audit_id: str, item_id: str, now: datetime
) -> None:
    await conn.execute(tracker_items.delete().where(tracker_items.c.audit_id == audit_id))
    await conn.execute(
        tracker_items.insert().values(audit_id=audit_id, item_id=item_id, synced_at=now)
    )
