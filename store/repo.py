"""Reading and writing audits, their trail, the outbox and the timers, inside a given transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from audits.errors import Conflict, NotFound
from audits.model import Audit, Status
from audits.reminders import Reminder
from audits.roles import Role
from audits.workflow import Change, Notice, payload_of
from store.schema import (
    audits,
    deadlines,
    history,
    outbox,
    participants,
    processed,
    refusals,
    timers,
)

# Outbox and timer row states.
PENDING, CLAIMED, SENT, DEAD, FIRED, CANCELLED = (
    "pending",
    "claimed",
    "sent",
    "dead",
    "fired",
    "cancelled",
)


def _is_postgres(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql"


# The statements every turn runs, built once: building one costs more than running it.
_STATE = sa.select(audits.c.state).where(audits.c.id == sa.bindparam("audit_id"))
_STATE_AND_VERSION = sa.select(audits.c.state, audits.c.version).where(
    audits.c.id == sa.bindparam("audit_id")
)
_SAVE = audits.update().where(
    audits.c.id == sa.bindparam("b_id"), audits.c.version == sa.bindparam("b_version")
)


def _reading(conn: AsyncConnection, query: sa.Select[Any], for_update: bool) -> sa.Select[Any]:
    """`query`, locking the row on PostgreSQL (SQLite's writer holds the whole file)."""
    return query.with_for_update() if for_update and _is_postgres(conn) else query


async def load_audit(conn: AsyncConnection, audit_id: str, for_update: bool = False) -> Audit:
    query = _reading(conn, _STATE, for_update)
    state = (await conn.execute(query, {"audit_id": audit_id})).scalar_one_or_none()
    if state is None:
        raise NotFound(f"There is no audit {audit_id}")
    return Audit.model_validate(state)


async def version_of(conn: AsyncConnection, audit_id: str) -> int:
    version = (
        await conn.execute(sa.select(audits.c.version).where(audits.c.id == audit_id))
    ).scalar_one_or_none()
    if version is None:
        raise NotFound(f"There is no audit {audit_id}")
    return int(version)


def _columns(audit: Audit) -> dict[str, Any]:
    return {
        "status": audit.status.value,
        "strand": audit.strand,
        "team": audit.team,
        "auditor_grade": audit.auditor_grade.value if audit.auditor_grade else None,
        "moderated_grade": audit.moderated_grade.value if audit.moderated_grade else None,
        "case_of_concern": audit.case_of_concern is not None,
        "state": audit.model_dump(mode="json"),
    }


async def insert_audit(conn: AsyncConnection, audit: Audit, now: datetime) -> int:
    await conn.execute(
        audits.insert().values(
            id=audit.id,
            child_id=audit.child_id,
            cycle=audit.cycle,
            template=audit.template,
            policy=audit.policy,
            version=1,
            created_at=now,
            updated_at=now,
            **_columns(audit),
        )
    )
    await _sync_people_and_deadlines(conn, audit)
    return 1


async def save_audit(
    conn: AsyncConnection,
    audit: Audit,
    expected_version: int,
    now: datetime,
    before: Audit | None = None,
) -> int:
    """Writes the new state if nobody else has since `expected_version`; returns the new version.

    With `before` (the state it was loaded as), the people and deadline tables are
    rewritten only when those changed: most saves are an answer.
    """
    result = await conn.execute(
        _SAVE,
        {
            "b_id": audit.id,
            "b_version": expected_version,
            "version": expected_version + 1,
            "updated_at": now,
            **_columns(audit),
        },
    )
    if result.rowcount != 1:
        raise Conflict(
            f"Audit {audit.id} was changed by someone else; nothing was saved, try again"
        )
    if before is None or _structure(before) != _structure(audit):
        await _sync_people_and_deadlines(conn, audit)
    return expected_version + 1


def _structure(audit: Audit) -> tuple[Any, ...]:
    """What the people and deadline tables hold of an audit."""
    return (
        audit.participants,
        sorted((a.number, a.owner) for a in audit.actions),
        audit.deadlines,
    )


async def load_versioned(
    conn: AsyncConnection, audit_id: str, for_update: bool = False
) -> tuple[Audit, int]:
    """The audit and its version, in one read."""
    query = _reading(conn, _STATE_AND_VERSION, for_update)
    row = (await conn.execute(query, {"audit_id": audit_id})).first()
    if row is None:
        raise NotFound(f"There is no audit {audit_id}")
    return Audit.model_validate(row.state), int(row.version)


async def _sync_people_and_deadlines(conn: AsyncConnection, audit: Audit) -> None:
    people = {(r.value, p) for r in Role if (p := audit.participants.of(r))}
    people |= {(Role.ACTION_OWNER.value, a.owner) for a in audit.actions}
    await conn.execute(participants.delete().where(participants.c.audit_id == audit.id))
    await conn.execute(
        participants.insert(), [{"audit_id": audit.id, "role": r, "person": p} for r, p in people]
    )
    await conn.execute(deadlines.delete().where(deadlines.c.audit_id == audit.id))
    if audit.deadlines:
        await conn.execute(
            deadlines.insert(),
            [
                {
                    "audit_id": audit.id,
                    "step": d.step,
                    "owner": d.owner,
                    "role": d.role.value,
                    "due_at": d.due_at,
                    "done_at": d.done_at,
                    "urgent": d.urgent,
                }
                for d in audit.deadlines.values()
            ],
        )


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
                    status=PENDING,
                    payload=payload,
                )
            )
        elif row.due_at != r.at or row.status == CANCELLED:
            await conn.execute(
                timers.update()
                .where(timers.c.key == key)
                .values(
                    due_at=r.at,
                    owner=r.owner,
                    payload=payload,
                    status=PENDING,
                    claimed_by=None,
                    claimed_until=None,
                    fired_at=None,
                )
            )
        elif row.owner != r.owner:
            await conn.execute(
                timers.update().where(timers.c.key == key).values(owner=r.owner, payload=payload)
            )
    stale = [k for k, r in existing.items() if k not in wanted and r.status in (PENDING, CLAIMED)]
    if stale:
        await conn.execute(
            timers.update()
            .where(timers.c.key.in_(stale))
            .values(status=CANCELLED, claimed_by=None, claimed_until=None)
        )


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


async def enqueue_items(conn: AsyncConnection, items: Sequence[OutboxItem], now: datetime) -> None:
    """Queues follow-on work. A key already queued is skipped: the effect that queues it
    may run twice (its lease ran out while a slow upload was still going)."""
    if not items:
        return
    insert = (
        postgresql.insert(outbox) if conn.dialect.name == "postgresql" else sqlite.insert(outbox)
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
                "status": PENDING,
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
        channels = ("teams", "email") if notice.email else ("teams",)
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
                    "status": PENDING,
                    "attempts": 0,
                    "available_at": now,
                    "created_at": now,
                }
            )
    if rows:
        await conn.execute(outbox.insert(), rows)


# ---------------------------------------------------------------- queries


@dataclass(frozen=True)
class AuditRow:
    id: str
    child_id: str
    cycle: str
    strand: str
    team: str
    status: Status
    auditor_grade: str | None
    moderated_grade: str | None
    case_of_concern: bool
    next_step: str | None
    next_owner: str | None
    next_due: datetime | None
    overdue: bool


async def list_audits(
    conn: AsyncConnection,
    now: datetime,
    status: str | None = None,
    overdue: bool = False,
    person: str | None = None,
) -> list[AuditRow]:
    query = sa.select(audits).order_by(audits.c.id)
    if status:
        query = query.where(audits.c.status == status)
    if person:
        query = query.where(
            audits.c.id.in_(
                sa.select(participants.c.audit_id).where(participants.c.person == person)
            )
        )
    if overdue:
        query = query.where(
            audits.c.id.in_(
                sa.select(deadlines.c.audit_id).where(
                    deadlines.c.done_at.is_(None), deadlines.c.due_at < now
                )
            )
        )
    rows = (await conn.execute(query)).all()
    open_deadlines = (
        await conn.execute(
            sa.select(deadlines).where(deadlines.c.done_at.is_(None)).order_by(deadlines.c.due_at)
        )
    ).all()
    nxt: dict[str, Any] = {}
    for row in open_deadlines:
        nxt.setdefault(row.audit_id, row)
    result = []
    for r in rows:
        d = nxt.get(r.id)
        result.append(
            AuditRow(
                id=r.id,
                child_id=r.child_id,
                cycle=r.cycle,
                strand=r.strand,
                team=r.team,
                status=Status(r.status),
                auditor_grade=r.auditor_grade,
                moderated_grade=r.moderated_grade,
                case_of_concern=r.case_of_concern,
                next_step=d.step if d else None,
                next_owner=d.owner if d else None,
                next_due=d.due_at if d else None,
                overdue=bool(d and d.due_at < now),
            )
        )
    return result


async def audit_history(conn: AsyncConnection, audit_id: str) -> list[dict[str, Any]]:
    rows = (
        await conn.execute(
            sa.select(history).where(history.c.audit_id == audit_id).order_by(history.c.id)
        )
    ).all()
    return [
        {
            "at": r.at,
            "actor": r.actor,
            "command": r.command,
            "what": r.what,
            "old": r.old,
            "new": r.new,
            "version": r.version,
        }
        for r in rows
    ]


async def children_in_cycle(
    conn: AsyncConnection, cycle: str, child_ids: Iterable[str]
) -> dict[str, str]:
    """child id -> audit id, for those of `child_ids` already sampled in `cycle`."""
    ids = list(child_ids)
    if not ids:
        return {}
    rows = (
        await conn.execute(
            sa.select(audits.c.child_id, audits.c.id).where(
                audits.c.cycle == cycle, audits.c.child_id.in_(ids)
            )
        )
    ).all()
    return {r.child_id: r.id for r in rows}


async def next_audit_number(conn: AsyncConnection, cycle: str) -> int:
    prefix = cycle.replace("-", "") + "-"
    last = (
        await conn.execute(
            sa.select(sa.func.max(audits.c.id)).where(audits.c.id.like(prefix + "%"))
        )
    ).scalar_one_or_none()
    return int(last.split("-")[1]) + 1 if last else 1


async def outbox_rows(conn: AsyncConnection, audit_id: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(outbox).order_by(outbox.c.id)
    if audit_id:
        query = query.where(outbox.c.audit_id == audit_id)
    return [dict(r._mapping) for r in (await conn.execute(query)).all()]


# ------------------------------------------------------------ claims


async def claim_due_timers(
    conn: AsyncConnection,
    now: datetime,
    worker: str,
    limit: int = 100,
    lease: timedelta = timedelta(minutes=5),
) -> list[dict[str, Any]]:
    """Claims due timers (and ones whose claim has lapsed) for `worker`.

    On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets several instances claim at
    once without taking the same row; SQLite's BEGIN IMMEDIATE serialises them.
    """
    ids: list[int] = []
    # Two index range scans (status, due_at), not one OR: cheap with many timers waiting.
    for status, lapsed in ((PENDING, False), (CLAIMED, True)):
        query = (
            sa.select(timers.c.id)
            .where(timers.c.status == status, timers.c.due_at <= now)
            .order_by(timers.c.due_at)
            .limit(limit - len(ids))
        )
        if lapsed:
            query = query.where(timers.c.claimed_until < now)
        if _is_postgres(conn):
            query = query.with_for_update(skip_locked=True)
        ids += list((await conn.execute(query)).scalars())
        if len(ids) >= limit:
            break
    if not ids:
        return []
    await conn.execute(
        timers.update()
        .where(timers.c.id.in_(ids))
        .values(status=CLAIMED, claimed_by=worker, claimed_until=now + lease)
    )
    rows = (await conn.execute(sa.select(timers).where(timers.c.id.in_(ids)))).all()
    return [dict(r._mapping) for r in rows]


async def finish_timer(
    conn: AsyncConnection, timer_id: int, worker: str, now: datetime, status: str = FIRED
) -> bool:
    """Ends `worker`'s claim; False when the claim was lost (lapsed, or the timer moved)."""
    result = await conn.execute(
        timers.update()
        .where(timers.c.id == timer_id, timers.c.claimed_by == worker, timers.c.status == CLAIMED)
        .values(status=status, fired_at=now if status != CANCELLED else None)
    )
    return bool(result.rowcount)


async def reschedule_timer(conn: AsyncConnection, timer_id: int, worker: str, at: datetime) -> None:
    await conn.execute(
        timers.update()
        .where(timers.c.id == timer_id, timers.c.claimed_by == worker, timers.c.status == CLAIMED)
        .values(status=PENDING, due_at=at, claimed_by=None, claimed_until=None)
    )


async def outbox_key_exists(conn: AsyncConnection, key: str) -> bool:
    found = await conn.execute(sa.select(outbox.c.id).where(outbox.c.key == key))
    return found.first() is not None


async def any_timer_due(conn: AsyncConnection, now: datetime, lapsed: bool = True) -> bool:
    """Is any timer due (or, with `lapsed`, a claim lapsed)? Index seeks, no lock."""
    checks: list[tuple[str, sa.ColumnElement[bool]]] = [(PENDING, sa.true())]
    if lapsed:
        checks.append((CLAIMED, timers.c.claimed_until < now))
    for status, extra in checks:
        found = await conn.execute(
            sa.select(timers.c.id)
            .where(timers.c.status == status, timers.c.due_at <= now, extra)
            .limit(1)
        )
        if found.first() is not None:
            return True
    return False


async def channels_ready(conn: AsyncConnection, now: datetime, channels: Sequence[str]) -> set[str]:
    """The channels with an outbox row sendable now. A read: no write lock is taken to
    find there is nothing to send (every committed answer wakes the dispatcher)."""
    found = await conn.execute(
        sa.select(outbox.c.channel)
        .where(
            outbox.c.status == PENDING,
            outbox.c.available_at <= now,
            outbox.c.channel.in_(list(channels)),
        )
        .group_by(outbox.c.channel)
    )
    return {str(channel) for channel in found.scalars()}


async def next_timer_due(conn: AsyncConnection) -> datetime | None:
    """When the earliest pending timer falls due (None: nothing is waiting)."""
    found = await conn.execute(
        sa.select(timers.c.due_at)
        .where(timers.c.status == PENDING)
        .order_by(timers.c.due_at)
        .limit(1)
    )
    value: datetime | None = found.scalar()
    return value


async def claim_outbox(
    conn: AsyncConnection,
    now: datetime,
    worker: str,
    limit: int = 50,
    lease: timedelta = timedelta(minutes=2),
    channels: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Claims sendable outbox rows: the first pending row of each lane, due now.

    A claimed row stays pending with `available_at` moved past the lease, so a
    row whose worker died becomes sendable again when the lease lapses.
    """
    earlier = outbox.alias("earlier")
    head_of_lane = ~sa.exists().where(
        earlier.c.lane == outbox.c.lane, earlier.c.status == PENDING, earlier.c.id < outbox.c.id
    )
    query = (
        sa.select(outbox.c.id)
        .where(outbox.c.status == PENDING, outbox.c.available_at <= now, head_of_lane)
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
    return [dict(r._mapping) for r in rows]


async def mark_sent_many(conn: AsyncConnection, row_ids: Sequence[int], now: datetime) -> None:
    await conn.execute(
        outbox.update()
        .where(outbox.c.id.in_(list(row_ids)))
        .values(status=SENT, sent_at=now, last_error=None)
    )


async def mark_failed(
    conn: AsyncConnection, row_id: int, error: str, retry_at: datetime | None
) -> None:
    """Retry at `retry_at`, or dead-letter the row (visible to QA) when None."""
    values: dict[str, Any] = {"last_error": error[:500], "claimed_by": None}
    if retry_at is None:
        values["status"] = DEAD
    else:
        values["available_at"] = retry_at
    await conn.execute(outbox.update().where(outbox.c.id == row_id).values(**values))


async def mark_processed(
    conn: AsyncConnection, key: str, audit_id: str | None, now: datetime
) -> None:
    """Raises IntegrityError when `key` was processed before."""
    await conn.execute(processed.insert(), {"key": key, "audit_id": audit_id, "at": now})


async def was_processed(conn: AsyncConnection, key: str) -> bool:
    found = await conn.execute(sa.select(processed.c.key).where(processed.c.key == key))
    return found.first() is not None


async def record_refusal(
    conn: AsyncConnection, at: datetime, actor: str, audit_id: str | None, action: str, reason: str
) -> None:
    await conn.execute(
        refusals.insert().values(
            at=at, actor=actor, audit_id=audit_id or None, action=action[:64], reason=reason[:500]
        )
    )


async def refusal_rows(conn: AsyncConnection) -> list[dict[str, Any]]:
    found = await conn.execute(sa.select(refusals).order_by(refusals.c.id))
    return [dict(r._mapping) for r in found.all()]


# ------------------------------------------------------------ operations


async def outbox_backlog(
    conn: AsyncConnection, status: str = PENDING, limit: int = 200
) -> list[dict[str, Any]]:
    """Outbox rows in `status` (pending or dead), oldest first, for the `auditbot outbox` list."""
    query = (
        sa.select(
            outbox.c.id,
            outbox.c.channel,
            outbox.c.kind,
            outbox.c.recipient,
            outbox.c.audit_id,
            outbox.c.attempts,
            outbox.c.last_error,
            outbox.c.created_at,
            outbox.c.available_at,
        )
        .where(outbox.c.status == status)
        .order_by(outbox.c.id)
        .limit(limit)
    )
    return [dict(r._mapping) for r in (await conn.execute(query)).all()]


async def requeue_dead(conn: AsyncConnection, row_id: int, now: datetime) -> str | None:
    """Puts a dead-lettered row back in the queue with a fresh retry budget.

    Returns None when done, else the row's status ("missing" when there is no such row).
    """
    result = await conn.execute(
        outbox.update()
        .where(outbox.c.id == row_id, outbox.c.status == DEAD)
        .values(status=PENDING, attempts=0, available_at=now, claimed_by=None)
    )
    if result.rowcount:
        return None
    found = await conn.execute(sa.select(outbox.c.status).where(outbox.c.id == row_id))
    status = found.scalar()
    return str(status) if status is not None else "missing"
