"""Durable timers: one row per reminder planned for an audit's open deadlines.

`sync_reminders` keeps the rows in step with the plan; the runner claims due
rows (`claim_due_timers`), then fires, cancels or reschedules each
(`finish_timer`, `reschedule_timer`). A row's `status` is a `TimerStatus`,
stored as its string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from audits.reminders import Reminder
from store.schema import timers


class TimerStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"  # a runner has it until `claimed_until`
    FIRED = "fired"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class TimerRow:
    """One timer as stored."""

    id: int
    key: str
    audit_id: str  # the column allows none, but every timer is an audit's
    kind: str
    step: str
    owner: str
    due_at: datetime
    status: TimerStatus
    claimed_by: str | None
    claimed_until: datetime | None
    fired_at: datetime | None
    payload: dict[str, Any]


def _row(r: Row[Any]) -> TimerRow:
    values = dict(r._mapping)
    values["status"] = TimerStatus(values["status"])
    return TimerRow(**values)


async def sync_reminders(
    conn: AsyncConnection, audit_id: str, reminders: Sequence[Reminder]
) -> None:
    """One durable timer per reminder of the audit's open deadlines.

    A reminder whose time moved (an extension, a return from the panel) is
    pending again, even if it had fired; one no longer planned (the step is
    done) is cancelled. A new owner takes over the timers as they stand.
    """
    rows = (
        await conn.execute(
            sa.select(timers.c.key, timers.c.due_at, timers.c.owner, timers.c.status).where(
                timers.c.audit_id == audit_id
            )
        )
    ).all()
    existing = {r.key: r for r in rows}
    wanted = {r.key: r for r in reminders}
    for key, r in wanted.items():
        payload = {
            "to_role": r.to_role.value if r.to_role else None,
            "due_at": r.due_at.isoformat(),
            "urgent": r.urgent,
        }
        row = existing.get(key)
        if row is None:
            await conn.execute(
                timers.insert().values(
                    key=key,
                    audit_id=audit_id,
                    kind=r.kind.value,
                    step=r.step,
                    owner=r.owner,
                    due_at=r.at,
                    status=TimerStatus.PENDING.value,
                    payload=payload,
                )
            )
        elif row.due_at != r.at or row.status == TimerStatus.CANCELLED:
            await conn.execute(
                timers.update()
                .where(timers.c.key == key)
                .values(
                    due_at=r.at,
                    owner=r.owner,
                    payload=payload,
                    status=TimerStatus.PENDING.value,
                    claimed_by=None,
                    claimed_until=None,
                    fired_at=None,
                )
            )
        elif row.owner != r.owner:
            await conn.execute(
                timers.update().where(timers.c.key == key).values(owner=r.owner, payload=payload)
            )
    open_states = (TimerStatus.PENDING, TimerStatus.CLAIMED)
    stale = [k for k, r in existing.items() if k not in wanted and r.status in open_states]
    if stale:
        await conn.execute(
            timers.update()
            .where(timers.c.key.in_(stale))
            .values(status=TimerStatus.CANCELLED.value, claimed_by=None, claimed_until=None)
        )


async def claim_due_timers(
    conn: AsyncConnection,
    now: datetime,
    worker: str,
    limit: int = 100,
    lease: timedelta = timedelta(minutes=5),
) -> list[TimerRow]:
    """Claims due timers (and ones whose claim has lapsed) for `worker`.

    On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets several instances claim at
    once without taking the same row; SQLite's BEGIN IMMEDIATE serialises them.
    """
    ids: list[int] = []
    # Two index range scans (status, due_at), not one OR: cheap with many timers waiting.
    for status, lapsed in ((TimerStatus.PENDING, False), (TimerStatus.CLAIMED, True)):
        query = (
            sa.select(timers.c.id)
            .where(timers.c.status == status.value, timers.c.due_at <= now)
            .order_by(timers.c.due_at)
            .limit(limit - len(ids))
        )
        if lapsed:
            query = query.where(timers.c.claimed_until < now)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids += list((await conn.execute(query)).scalars())
        if len(ids) >= limit:
            break
    if not ids:
        return []
    await conn.execute(
        timers.update()
        .where(timers.c.id.in_(ids))
        .values(status=TimerStatus.CLAIMED.value, claimed_by=worker, claimed_until=now + lease)
    )
    rows = (await conn.execute(sa.select(timers).where(timers.c.id.in_(ids)))).all()
    return [_row(r) for r in rows]


async def finish_timer(
    conn: AsyncConnection,
    timer_id: int,
    worker: str,
    now: datetime,
    status: TimerStatus = TimerStatus.FIRED,
) -> bool:
    """Ends `worker`'s claim; False when the claim was lost (lapsed, or the timer moved)."""
    result = await conn.execute(
        timers.update()
        .where(
            timers.c.id == timer_id,
            timers.c.claimed_by == worker,
            timers.c.status == TimerStatus.CLAIMED.value,
        )
        .values(status=status.value, fired_at=now if status != TimerStatus.CANCELLED else None)
    )
    return bool(result.rowcount)


async def reschedule_timer(conn: AsyncConnection, timer_id: int, worker: str, at: datetime) -> None:
    await conn.execute(
        timers.update()
        .where(
            timers.c.id == timer_id,
            timers.c.claimed_by == worker,
            timers.c.status == TimerStatus.CLAIMED.value,
        )
        .values(status=TimerStatus.PENDING.value, due_at=at, claimed_by=None, claimed_until=None)
    )


async def any_timer_due(conn: AsyncConnection, now: datetime, lapsed: bool = True) -> bool:
    """Is any timer due (or, with `lapsed`, a claim lapsed)? Index seeks, no lock."""
    checks: list[tuple[TimerStatus, sa.ColumnElement[bool]]] = [(TimerStatus.PENDING, sa.true())]
    if lapsed:
        checks.append((TimerStatus.CLAIMED, timers.c.claimed_until < now))
    for status, extra in checks:
        found = await conn.execute(
            sa.select(timers.c.id)
            .where(timers.c.status == status.value, timers.c.due_at <= now, extra)
            .limit(1)
        )
        if found.first() is not None:
            return True
    return False


async def next_timer_due(conn: AsyncConnection) -> datetime | None:
    """When the earliest pending timer falls due (None: nothing is waiting)."""
    found = await conn.execute(
        sa.select(timers.c.due_at)
        .where(timers.c.status == TimerStatus.PENDING.value)
        .order_by(timers.c.due_at)
        .limit(1)
    )
    value: datetime | None = found.scalar()
    return value
