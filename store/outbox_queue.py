"""The outbox: side effects queued in the transaction that caused them and sent after it.

Rows are written here (`enqueue`, `enqueue_items`), claimed by the dispatcher a
lane's head at a time (`claim_outbox`), then marked sent, retried or
dead-lettered; the operators' views (`outbox_backlog`, `outbox_figures`,
`statuses_of`) and `requeue_dead` read and change the same rows. A row's
`status` is an `OutboxStatus`, stored as its string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from audits.workflow import Notice, payload_of
from store.schema import outbox


class OutboxStatus(StrEnum):
    """Where an outbox row stands. A claimed row stays pending (its lease is `available_at`)."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # given up: for QA to see, and to retry by hand
    DROPPED = "dropped"  # not sent: what it asked for was done before it could go


@dataclass(frozen=True)
class OutboxItem:
    """A side effect to be carried out after the commit, at least once."""

    key: str  # unique: a second row with the same key is a no-op
    channel: str
    kind: str
    recipient: str
    lane: str  # rows of a lane leave in order
    payload: dict[str, Any]
    audit_id: str | None = None
    urgent: bool = False


@dataclass(frozen=True)
class OutboxRow:
    """One row of the outbox as stored."""

    id: int
    key: str
    channel: str
    lane: str
    kind: str
    recipient: str
    audit_id: str | None
    payload: dict[str, Any]
    urgent: bool
    status: OutboxStatus
    attempts: int
    available_at: datetime
    claimed_by: str | None
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


def _row(r: Row[Any]) -> OutboxRow:
    values = dict(r._mapping)
    values["status"] = OutboxStatus(values["status"])
    return OutboxRow(**values)


def _is_postgres(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql"


async def enqueue_items(conn: AsyncConnection, items: Sequence[OutboxItem], now: datetime) -> None:
    """Queues follow-on work. A key already queued is skipped: the effect that queues it
    may run twice (its lease ran out while a slow upload was still going)."""
    if not items:
        return
    insert = (
        postgresql.insert(outbox) if _is_postgres(conn) else sqlite.insert(outbox)
    ).on_conflict_do_nothing(index_elements=[outbox.c.key])
    await conn.execute(
        insert,
        [
            {
                "key": i.key,
                "channel": i.channel,
                "kind": i.kind,
                "recipient": i.recipient,
                "lane": i.lane,
                "audit_id": i.audit_id,
                "payload": i.payload,
                "urgent": i.urgent,
                "status": OutboxStatus.PENDING.value,
                "attempts": 0,
                "available_at": now,
                "created_at": now,
            }
            for i in items
        ],
    )


async def enqueue(
    conn: AsyncConnection, audit_id: str, version: int, notices: Sequence[Notice], now: datetime
) -> None:
    """Notices become outbox rows; the key makes a re-run of the same commit a no-op."""
    rows = []
    for i, notice in enumerate(notices):
        channels = [c for c, on in (("teams", notice.teams), ("email", notice.email)) if on]
        for channel in channels:
            rows.append(
                {
                    "key": f"{audit_id}:v{version}:{i}:{channel}",
                    "lane": f"{channel}:{notice.to}",
                    "channel": channel,
                    "kind": notice.kind.value,
                    "recipient": notice.to,
                    "audit_id": audit_id,
                    "payload": payload_of(notice),
                    "urgent": notice.urgent,
                    "status": OutboxStatus.PENDING.value,
                    "attempts": 0,
                    "available_at": now,
                    "created_at": now,
                }
            )
    if rows:
        await conn.execute(outbox.insert(), rows)


async def outbox_rows(conn: AsyncConnection, audit_id: str | None = None) -> list[OutboxRow]:
    """Every row (or every row of one audit), oldest first."""
    query = sa.select(outbox).order_by(outbox.c.id)
    if audit_id:
        query = query.where(outbox.c.audit_id == audit_id)
    return [_row(r) for r in (await conn.execute(query)).all()]


async def outbox_key_exists(conn: AsyncConnection, key: str) -> bool:
    found = await conn.execute(sa.select(outbox.c.id).where(outbox.c.key == key))
    return found.first() is not None


async def channels_ready(conn: AsyncConnection, now: datetime, channels: Sequence[str]) -> set[str]:
    """The channels with an outbox row sendable now. A read: no write lock is taken to
    find there is nothing to send (the runner looks twice a second)."""
    found = await conn.execute(
        sa.select(outbox.c.channel)
        .where(
            outbox.c.status == OutboxStatus.PENDING.value,
            outbox.c.available_at <= now,
            outbox.c.channel.in_(list(channels)),
        )
        .group_by(outbox.c.channel)
    )
    return {str(channel) for channel in found.scalars()}


def _head_of_lane() -> sa.ColumnElement[bool]:
    """A row no earlier pending row of its lane holds back (read through `ix_outbox_lane`)."""
    earlier = outbox.alias("earlier")
    return ~sa.exists().where(
        earlier.c.lane == outbox.c.lane,
        earlier.c.status == OutboxStatus.PENDING.value,
        earlier.c.id < outbox.c.id,
    )


async def claim_outbox(
    conn: AsyncConnection,
    now: datetime,
    worker: str,
    limit: int = 50,
    lease: timedelta = timedelta(minutes=2),
    channels: Sequence[str] | None = None,
) -> list[OutboxRow]:
    """Claims sendable outbox rows: the first pending row of each lane, due now.

    A claimed row stays pending with `available_at` moved past the lease, so a
    row whose worker died becomes sendable again when the lease lapses.
    """
    pending = OutboxStatus.PENDING.value
    query = (
        sa.select(outbox.c.id)
        .where(outbox.c.status == pending, outbox.c.available_at <= now, _head_of_lane())
        .order_by(outbox.c.urgent.desc(), outbox.c.id)
        .limit(limit)
    )
    if channels is not None:
        query = query.where(outbox.c.channel.in_(list(channels)))
    if _is_postgres(conn):
        query = query.with_for_update(skip_locked=True)
    ids = list((await conn.execute(query)).scalars())
    if not ids:
        return []
    await conn.execute(
        outbox.update()
        .where(outbox.c.id.in_(ids))
        .values(claimed_by=worker, available_at=now + lease, attempts=outbox.c.attempts + 1)
    )
    rows = (
        await conn.execute(sa.select(outbox).where(outbox.c.id.in_(ids)).order_by(outbox.c.id))
    ).all()
    return [_row(r) for r in rows]


async def mark_sent_many(conn: AsyncConnection, row_ids: Sequence[int], now: datetime) -> None:
    await conn.execute(
        outbox.update()
        .where(outbox.c.id.in_(list(row_ids)))
        .values(status=OutboxStatus.SENT.value, sent_at=now, last_error=None)
    )


async def mark_failed(
    conn: AsyncConnection,
    row_id: int,
    error: str,
    retry_at: datetime | None,
    leased_until: datetime | None = None,
    *,
    uncounted: bool = False,
) -> None:
    """Retry at `retry_at`, or dead-letter the row (visible to QA) when None.

    With `leased_until` (the `available_at` the claim gave the row), the retry time is
    written only if nothing changed it while the row was out: a person who opened their
    chat meanwhile released it (`send_waiting_now`), and that release must not be
    overwritten with a wait of hours. The row is updated first, so on PostgreSQL a
    release racing this write waits for it and then finds the row pending."""
    values: dict[str, Any] = {"last_error": error[:500], "claimed_by": None}
    if uncounted:  # a probe: this try does not count against the row's budget
        values["attempts"] = outbox.c.attempts - 1
    if retry_at is None:
        values["status"] = OutboxStatus.DEAD.value
    elif leased_until is None:
        values["available_at"] = retry_at
    await conn.execute(outbox.update().where(outbox.c.id == row_id).values(**values))
    if retry_at is not None and leased_until is not None:
        await conn.execute(
            outbox.update()
            .where(outbox.c.id == row_id, outbox.c.available_at == leased_until)
            .values(available_at=retry_at)
        )


async def mark_dropped(conn: AsyncConnection, row_id: int, reason: str) -> None:
    """Not sent, and not to be: the notice no longer says something true."""
    await conn.execute(
        outbox.update()
        .where(outbox.c.id == row_id)
        .values(status=OutboxStatus.DROPPED.value, last_error=reason[:500], claimed_by=None)
    )


async def retry_now(conn: AsyncConnection, channel: str, kind: str, now: datetime) -> None:
    """Makes the rows of `channel`/`kind` that failed and wait to retry sendable now (the
    service they need answered again)."""
    await conn.execute(
        outbox.update()
        .where(
            outbox.c.channel == channel,
            outbox.c.kind == kind,
            outbox.c.status == OutboxStatus.PENDING.value,
            outbox.c.claimed_by.is_(None),
            outbox.c.last_error.is_not(None),
            outbox.c.available_at > now,
        )
        .values(available_at=now)
    )


async def send_waiting_now(
    conn: AsyncConnection, channel: str, recipient: str, now: datetime
) -> None:
    """Makes `recipient`'s pending rows of `channel` sendable now (those waiting to retry too)."""
    await conn.execute(
        outbox.update()
        .where(
            outbox.c.channel == channel,
            outbox.c.recipient == recipient,
            outbox.c.status == OutboxStatus.PENDING.value,
        )
        .values(available_at=now)
    )


# ------------------------------------------------------------ operations


async def outbox_backlog(
    conn: AsyncConnection, status: OutboxStatus = OutboxStatus.PENDING, limit: int = 200
) -> list[OutboxRow]:
    """Outbox rows in `status` (pending or dead), oldest first, for the `auditbot outbox` list."""
    query = (
        sa.select(outbox).where(outbox.c.status == status.value).order_by(outbox.c.id).limit(limit)
    )
    return [_row(r) for r in (await conn.execute(query)).all()]


async def requeue_dead(conn: AsyncConnection, row_id: int, now: datetime) -> str | None:
    """Puts a dead-lettered row back in the queue with a fresh retry budget.

    Returns None when done, else the row's status ("missing" when there is no such row).
    """
    result = await conn.execute(
        outbox.update()
        .where(outbox.c.id == row_id, outbox.c.status == OutboxStatus.DEAD.value)
        .values(status=OutboxStatus.PENDING.value, attempts=0, available_at=now, claimed_by=None)
    )
    if result.rowcount:
        return None
    found = await conn.execute(sa.select(outbox.c.status).where(outbox.c.id == row_id))
    status = found.scalar()
    return str(status) if status is not None else "missing"


async def statuses_of(conn: AsyncConnection, keys: Sequence[str]) -> dict[str, OutboxStatus]:
    """The status of each of the rows queued under `keys` (a key not queued is left out)."""
    found = await conn.execute(
        sa.select(outbox.c.key, outbox.c.status).where(outbox.c.key.in_(list(keys)))
    )
    return {str(key): OutboxStatus(status) for key, status in found.all()}


@dataclass(frozen=True)
class OutboxFigures:
    """How much the outbox holds, for `/readyz`."""

    pending: int
    oldest_created: datetime | None  # the oldest pending row's
    # the earliest `available_at` of the rows the runner could send now: pending, due, and
    # first of their lane. A row queued behind a card parked for a person with no
    # conversation yet waits for that card, not for the runner.
    oldest_due: datetime | None
    dead: int


async def outbox_figures(conn: AsyncConnection, now: datetime) -> OutboxFigures:
    pending = OutboxStatus.PENDING.value
    count, oldest_created = (
        await conn.execute(
            sa.select(sa.func.count(), sa.func.min(outbox.c.created_at)).where(
                outbox.c.status == pending
            )
        )
    ).one()
    oldest_due = (
        await conn.execute(
            sa.select(sa.func.min(outbox.c.available_at)).where(
                outbox.c.status == pending, outbox.c.available_at <= now, _head_of_lane()
            )
        )
    ).scalar()
    dead = (
        await conn.execute(
            sa.select(sa.func.count())
            .select_from(outbox)
            .where(outbox.c.status == OutboxStatus.DEAD.value)
        )
    ).scalar()
    return OutboxFigures(int(count), _utc(oldest_created), _utc(oldest_due), int(dead or 0))


def _utc(value: datetime | None) -> datetime | None:
    """An aggregate's datetime, aware and in UTC (SQLite gives it back without a zone)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
