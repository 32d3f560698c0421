"""What QA can look back on: each audit's history of changes, and the attempts refused.

`history` has a row per change a command made (who, when, which command, the
old and new value); `refusals` a row per attempt refused for want of a role.
Both are only ever appended to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from store.schema import history, refusals

if TYPE_CHECKING:
    from audits.workflow import Change


@dataclass(frozen=True)
class HistoryEntry:
    """One change to an audit, made by the command named, saved as `version`."""

    at: datetime
    actor: str
    command: str
    what: str
    old: Any
    new: Any
    version: int


@dataclass(frozen=True)
class Refusal:
    """Someone tried something their role does not allow."""

    id: int
    at: datetime
    actor: str
    audit_id: str | None
    action: str
    reason: str


async def append_history(
    conn: AsyncConnection,
    audit_id: str,
    version: int,
    actor: str,
    at: datetime,
    command: str,
    changes: Sequence[Change],
) -> None:
    if changes:
        await conn.execute(
            history.insert(),
            [
                {
                    "audit_id": audit_id,
                    "version": version,
                    "at": at,
                    "actor": actor,
                    "command": command,
                    "what": ch.what,
                    "old": ch.old,
                    "new": ch.new,
                }
                for ch in changes
            ],
        )


async def audit_history(conn: AsyncConnection, audit_id: str) -> list[HistoryEntry]:
    """The audit's changes, oldest first."""
    rows = (
        await conn.execute(
            sa.select(history).where(history.c.audit_id == audit_id).order_by(history.c.id)
        )
    ).all()
    return [HistoryEntry(r.at, r.actor, r.command, r.what, r.old, r.new, r.version) for r in rows]


async def record_refusal(
    conn: AsyncConnection, at: datetime, actor: str, audit_id: str | None, action: str, reason: str
) -> None:
    await conn.execute(
        refusals.insert().values(
            at=at, actor=actor, audit_id=audit_id or None, action=action[:64], reason=reason[:500]
        )
    )


async def refusal_rows(conn: AsyncConnection) -> list[Refusal]:
    """Every refusal, oldest first."""
    found = await conn.execute(sa.select(refusals).order_by(refusals.c.id))
    return [Refusal(**r._mapping) for r in found.all()]
