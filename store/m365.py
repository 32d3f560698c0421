"""What auditbot remembers of Microsoft 365: people's object ids, the events, files and
tracker items it made, and Teams conversations."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from store.schema import (
    awaiting_text,
    calendar_events,
    conversations,
    deadlines,
    filings,
    outbox,
    people,
    tracker_items,
)


async def save_people(
    conn: AsyncConnection, found: Iterable[tuple[str, str, bool]], now: datetime
) -> None:
    """(upn, object id, enabled) for each person, replacing what was known. Someone who
    opened the bot before anyone knew them gets their chat linked now."""
    for upn, object_id, enabled in found:
        await conn.execute(
            people.delete().where(sa.or_(people.c.upn == upn, people.c.object_id == object_id))
        )
        await conn.execute(
            people.insert().values(upn=upn, object_id=object_id, enabled=enabled, resolved_at=now)
        )
        linked = await conn.execute(
            conversations.update()
            .where(conversations.c.object_id == object_id, conversations.c.upn.is_(None))
            .values(upn=upn)
        )
        if linked.rowcount:
            await _release_cards(conn, upn, now)


async def _release_cards(conn: AsyncConnection, upn: str, now: datetime) -> None:
    """A person's cards that waited for their chat go now."""
    await conn.execute(
        outbox.update()
        .where(outbox.c.channel == "teams", outbox.c.recipient == upn, outbox.c.status == "pending")
        .values(available_at=now)
    )


async def object_id_of(conn: AsyncConnection, upn: str) -> str | None:
    return (
        await conn.execute(sa.select(people.c.object_id).where(people.c.upn == upn))
    ).scalar_one_or_none()


async def upn_of(conn: AsyncConnection, object_id: str) -> str | None:
    return (
        await conn.execute(sa.select(people.c.upn).where(people.c.object_id == object_id))
    ).scalar_one_or_none()


async def has_conversation(conn: AsyncConnection, upn: str) -> bool:
    found = await conn.execute(
        sa.select(conversations.c.object_id).where(conversations.c.upn == upn)
    )
    return found.first() is not None


async def current_deadline(conn: AsyncConnection, audit_id: str, step: str) -> Any:
    return (
        await conn.execute(
            sa.select(deadlines).where(deadlines.c.audit_id == audit_id, deadlines.c.step == step)
        )
    ).first()


async def calendar_event(conn: AsyncConnection, audit_id: str, step: str) -> Any:
    return (
        await conn.execute(
            sa.select(calendar_events).where(
                calendar_events.c.audit_id == audit_id, calendar_events.c.step == step
            )
        )
    ).first()


async def save_calendar_event(
    conn: AsyncConnection,
    audit_id: str,
    step: str,
    owner: str,
    event_id: str,
    due_at: datetime,
    now: datetime,
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


async def latest_filing(conn: AsyncConnection, audit_id: str) -> Any:
    return (
        await conn.execute(
            sa.select(filings)
            .where(filings.c.audit_id == audit_id)
            .order_by(filings.c.version.desc())
            .limit(1)
        )
    ).first()


async def save_tracker_item(
    conn: AsyncConnection, audit_id: str, item_id: str, now: datetime
) -> None:
    await conn.execute(tracker_items.delete().where(tracker_items.c.audit_id == audit_id))
    await conn.execute(
        tracker_items.insert().values(audit_id=audit_id, item_id=item_id, synced_at=now)
    )


async def save_conversation(
    conn: AsyncConnection, object_id: str, upn: str | None, reference: dict[str, Any], now: datetime
) -> bool:
    """Stores a person's conversation reference; True if it is new. Their waiting cards go now."""
    existing = await conn.execute(
        sa.select(conversations.c.object_id).where(conversations.c.object_id == object_id)
    )
    is_new = existing.first() is None
    values = {"object_id": object_id, "upn": upn, "reference": reference, "updated_at": now}
    if conn.dialect.name == "postgresql":
        # An upsert: two activities from one person at once (a double click, two
        # instances) would both find no row and both insert; the second one's turn
        # failed on the primary key. SQLite's BEGIN IMMEDIATE already serialises them.
        insert = postgresql.insert(conversations).values(**values)
        await conn.execute(
            insert.on_conflict_do_update(
                index_elements=[conversations.c.object_id],
                set_={k: insert.excluded[k] for k in ("upn", "reference", "updated_at")},
            )
        )
    else:
        await conn.execute(conversations.delete().where(conversations.c.object_id == object_id))
        await conn.execute(conversations.insert().values(**values))
    if upn:
        await _release_cards(conn, upn, now)
    return is_new


async def conversation_of(conn: AsyncConnection, upn: str) -> dict[str, Any] | None:
    found = await conn.execute(
        sa.select(conversations.c.reference)
        .where(conversations.c.upn == upn)
        .order_by(conversations.c.updated_at.desc())
        .limit(1)
    )
    row = found.first()
    return dict(row.reference) if row else None


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


@dataclass(frozen=True)
class Awaited:
    audit_id: str
    verb: str
    detail: dict[str, str]


async def awaited_text(conn: AsyncConnection, person: str) -> Awaited | None:
    """The question waiting for this person's typed answer, if any (left waiting)."""
    row = (
        await conn.execute(sa.select(awaiting_text).where(awaiting_text.c.person == person))
    ).first()
    return None if row is None else Awaited(row.audit_id, row.verb, dict(row.detail or {}))


async def answered(conn: AsyncConnection, person: str) -> None:
    """The question waiting for this person was answered: later messages are not answers."""
    await conn.execute(awaiting_text.delete().where(awaiting_text.c.person == person))
