"""Who people are and how to reach them: Entra object ids by address, and Teams conversations.

`people` maps each address (UPN) to its directory object id; `conversations`
holds the Teams conversation reference of each person who has opened the bot,
which proactive cards are sent into. What to do when a chat becomes known (send
the cards waiting for it) is the application's decision, not made here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from store.schema import conversations, display_names, people


async def save_people(
    conn: AsyncConnection, found: Iterable[tuple[str, str, bool]], now: datetime
) -> list[str]:
    """(upn, object id, enabled) for each person, replacing what was known. Someone who
    opened the bot before anyone knew them has their conversation linked to their
    address now; returns those addresses."""
    linked_upns = []
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
            linked_upns.append(upn)
    return linked_upns


async def save_names(conn: AsyncConnection, names: Mapping[str, str], now: datetime) -> None:
    """The directory's display name of each address, replacing what was known."""
    names = {address.lower(): name for address, name in names.items() if name}
    if not names:
        return
    await conn.execute(display_names.delete().where(display_names.c.address.in_(names)))
    await conn.execute(
        display_names.insert(),
        [{"address": a, "name": name, "updated_at": now} for a, name in names.items()],
    )


async def names_of(conn: AsyncConnection, addresses: Iterable[str]) -> dict[str, str]:
    """The display names known for these addresses (lower case); others are left out."""
    wanted = sorted({a.lower() for a in addresses if a})
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):  # within every database's parameter limit
        rows = await conn.execute(
            sa.select(display_names.c.address, display_names.c.name).where(
                display_names.c.address.in_(wanted[start : start + 500])
            )
        )
        found.update({address: name for address, name in rows})
    return found


async def upn_of(conn: AsyncConnection, object_id: str) -> str | None:
    return (
        await conn.execute(sa.select(people.c.upn).where(people.c.object_id == object_id))
    ).scalar_one_or_none()


async def object_id_of(conn: AsyncConnection, upn: str) -> str | None:
    """The directory object id of the person known by this address (as an allocation gave
    it: their UPN, or a mail address that is not their UPN)."""
    return (
        await conn.execute(sa.select(people.c.object_id).where(people.c.upn == upn))
    ).scalar_one_or_none()


async def has_conversation(conn: AsyncConnection, upn: str) -> bool:
    found = await conn.execute(
        sa.select(conversations.c.object_id).where(conversations.c.upn == upn)
    )
    return found.first() is not None


async def save_conversation(
    conn: AsyncConnection, object_id: str, upn: str | None, reference: dict[str, Any], now: datetime
) -> bool:
    """Stores a person's conversation reference; True if it is new."""
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
    if upn is None and is_new:
        await _forget_oldest_strangers(conn)
    return is_new


# Chats of people nobody knows yet are kept, so that they can be linked when the
# directory learns who they are; but no more than this many (the newest), so that a
# flood of made-up identities cannot grow the table without bound.
MAX_STRANGERS = 1_000


async def _forget_oldest_strangers(conn: AsyncConnection) -> None:
    newest = (
        sa.select(conversations.c.object_id)
        .where(conversations.c.upn.is_(None))
        .order_by(conversations.c.updated_at.desc(), conversations.c.object_id)
        .limit(MAX_STRANGERS)
    )
    await conn.execute(
        conversations.delete().where(
            conversations.c.upn.is_(None), conversations.c.object_id.not_in(newest)
        )
    )


async def conversation_of(conn: AsyncConnection, upn: str) -> dict[str, Any] | None:
    """The newest conversation reference stored for the person, if any."""
    found = await conn.execute(
        sa.select(conversations.c.reference)
        .where(conversations.c.upn == upn)
        .order_by(conversations.c.updated_at.desc())
        .limit(1)
    )
    row = found.first()
    return dict(row.reference) if row else None
