"""Audits as stored: the state of each, and the people and deadlines read out of it.

An audit's whole state is one JSON column, written under a version number so
two saves cannot cross (`save_audit` raises `Conflict`). The `participants`
and `deadlines` tables are copies of what the state says, kept for queries:
who is in which audit, which step is next and when it is due.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from audits.errors import Conflict, NotFound
from audits.model import Audit, Status
from audits.roles import Role
from store.schema import audits, deadlines, participants


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


async def load_versioned(
    conn: AsyncConnection, audit_id: str, for_update: bool = False
) -> tuple[Audit, int]:
    """The audit and its version, in one read."""
    query = _reading(conn, _STATE_AND_VERSION, for_update)
    row = (await conn.execute(query, {"audit_id": audit_id})).first()
    if row is None:
        raise NotFound(f"There is no audit {audit_id}")
    return Audit.model_validate(row.state), int(row.version)


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


# ---------------------------------------------------------------- queries


@dataclass(frozen=True)
class DeadlineRow:
    """One deadline of an audit, as the `deadlines` table holds it."""

    audit_id: str
    step: str
    owner: str
    role: str
    due_at: datetime
    done_at: datetime | None
    urgent: bool


async def deadline_of(conn: AsyncConnection, audit_id: str, step: str) -> DeadlineRow | None:
    """The audit's deadline for `step`, or None when it has none."""
    row = (
        await conn.execute(
            sa.select(deadlines).where(deadlines.c.audit_id == audit_id, deadlines.c.step == step)
        )
    ).first()
    return None if row is None else DeadlineRow(**row._mapping)


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
    policies: Collection[str] | None = None,
    child_id: str | None = None,
) -> list[AuditRow]:
    conditions: list[Any] = []
    if status:
        conditions.append(audits.c.status == status)
    if policies is not None:
        conditions.append(audits.c.policy.in_(list(policies)))
    if child_id is not None:  # a child's ID as typed: without regard to case
        conditions.append(sa.func.lower(audits.c.child_id) == child_id.lower())
    if person:  # named on the audit, or owning one of its open steps (a standing role)
        conditions.append(
            audits.c.id.in_(
                sa.union(
                    sa.select(participants.c.audit_id).where(participants.c.person == person),
                    sa.select(deadlines.c.audit_id).where(
                        deadlines.c.owner == person, deadlines.c.done_at.is_(None)
                    ),
                )
            )
        )
    if overdue:
        conditions.append(
            audits.c.id.in_(
                sa.select(deadlines.c.audit_id).where(
                    deadlines.c.done_at.is_(None), deadlines.c.due_at < now
                )
            )
        )
    return await _listed(conn, now, *conditions)


async def _listed(conn: AsyncConnection, now: datetime, *conditions: Any) -> list[AuditRow]:
    """The listed columns of the audits the conditions pick, by id, each with its next open
    deadline: the `state` JSON is never read for a row that is only listed."""
    query = (
        sa.select(
            audits.c.id,
            audits.c.child_id,
            audits.c.cycle,
            audits.c.strand,
            audits.c.team,
            audits.c.status,
            audits.c.auditor_grade,
            audits.c.moderated_grade,
            audits.c.case_of_concern,
        )
        .where(*conditions)
        .order_by(audits.c.id)
    )
    rows = (await conn.execute(query)).all()
    # The open deadlines of the listed audits only, not of every audit in the database.
    listed = query.with_only_columns(audits.c.id).order_by(None).scalar_subquery()
    open_deadlines = (
        await conn.execute(
            sa.select(deadlines.c.audit_id, deadlines.c.step, deadlines.c.owner, deadlines.c.due_at)
            .where(deadlines.c.done_at.is_(None), deadlines.c.audit_id.in_(listed))
            .order_by(deadlines.c.due_at)
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


async def tracker_page(
    conn: AsyncConnection,
    now: datetime,
    *,
    team: str | None = None,
    status: str | None = None,
    overdue: bool = False,
    case_of_concern: bool = False,
    offset: int = 0,
    limit: int = 10,
) -> tuple[list[AuditRow], int]:
    """One page of the tracker and how many audits match: overdue first, then by the
    next deadline (none last), then by id; filtered, ordered and paged in SQL, so a page
    reads `limit` rows however many audits there are."""
    soonest = (
        sa.select(
            deadlines.c.audit_id.label("audit_id"),
            sa.func.min(deadlines.c.due_at).label("next_due"),
        )
        .where(deadlines.c.done_at.is_(None))
        .group_by(deadlines.c.audit_id)
        .subquery()
    )
    conditions: list[Any] = []
    if team is not None:
        conditions.append(sa.func.lower(audits.c.team) == team.lower())
    if status is not None:
        conditions.append(audits.c.status == status)
    if overdue:
        conditions.append(soonest.c.next_due < now)
    if case_of_concern:
        conditions.append(audits.c.case_of_concern.is_(True))
    joined = audits.outerjoin(soonest, soonest.c.audit_id == audits.c.id)
    total = (
        await conn.execute(sa.select(sa.func.count()).select_from(joined).where(*conditions))
    ).scalar_one()
    late = sa.case((soonest.c.next_due < now, 0), else_=1)
    none_due = sa.case((soonest.c.next_due.is_(None), 1), else_=0)
    page = (
        (
            await conn.execute(
                sa.select(audits.c.id)
                .select_from(joined)
                .where(*conditions)
                .order_by(late, none_due, soonest.c.next_due, audits.c.id)
                .offset(offset)
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    if not page:
        return [], int(total)
    found = {r.id: r for r in await _listed(conn, now, audits.c.id.in_(list(page)))}
    return [found[audit_id] for audit_id in page], int(total)


async def most_urgent_of(
    conn: AsyncConnection,
    now: datetime,
    person: str,
    panel_policies: Collection[str] | None = None,
    limit: int = 25,
) -> tuple[list[str], int]:
    """The ids of the person's `limit` most urgent audits, and how many they have: those
    that name them, have an open step of theirs, or (`panel_policies` given: they sit on
    the panel) wait for the panel under one of those policies. Most urgent: their own
    soonest open step overdue first, then by it (none last), then by id. Chosen, ordered
    and counted in SQL (indexes on participants' person and deadlines' owner)."""
    theirs: list[Any] = [
        sa.select(participants.c.audit_id.label("audit_id")).where(participants.c.person == person),
        sa.select(deadlines.c.audit_id).where(
            deadlines.c.owner == person, deadlines.c.done_at.is_(None)
        ),
    ]
    if panel_policies is not None:
        theirs.append(
            sa.select(audits.c.id).where(
                audits.c.status == Status.MODERATED.value,
                audits.c.policy.in_(list(panel_policies)),
            )
        )
    chosen = sa.union(*theirs).subquery()
    own = (
        sa.select(
            deadlines.c.audit_id.label("audit_id"),
            sa.func.min(deadlines.c.due_at).label("due_at"),
        )
        .where(deadlines.c.owner == person, deadlines.c.done_at.is_(None))
        .group_by(deadlines.c.audit_id)
        .subquery()
    )
    total = (await conn.execute(sa.select(sa.func.count()).select_from(chosen))).scalar_one()
    late = sa.case((own.c.due_at < now, 0), else_=1)
    none_due = sa.case((own.c.due_at.is_(None), 1), else_=0)
    ids = (
        (
            await conn.execute(
                sa.select(chosen.c.audit_id)
                .select_from(chosen.outerjoin(own, own.c.audit_id == chosen.c.audit_id))
                .order_by(late, none_due, own.c.due_at, chosen.c.audit_id)
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    return list(ids), int(total)


@dataclass(frozen=True)
class OpenStep:
    """A step a person owns and has not done: what "my audits" orders by."""

    audit_id: str
    step: str
    role: str
    due_at: datetime


async def open_steps_of(conn: AsyncConnection, person: str) -> list[OpenStep]:
    """The person's open steps on every audit, soonest first (index ix_deadlines_owner_open)."""
    rows = await conn.execute(
        sa.select(deadlines.c.audit_id, deadlines.c.step, deadlines.c.role, deadlines.c.due_at)
        .where(deadlines.c.owner == person, deadlines.c.done_at.is_(None))
        .order_by(deadlines.c.due_at, deadlines.c.audit_id)
    )
    return [OpenStep(**r._mapping) for r in rows]


async def audits_created_between(
    conn: AsyncConnection, since: datetime, until: datetime
) -> list[Audit]:
    """The audits whose row was created from `since` up to (not including) `until`, by id."""
    rows = await conn.execute(
        sa.select(audits.c.state)
        .where(audits.c.created_at >= since, audits.c.created_at < until)
        .order_by(audits.c.id)
    )
    return [Audit.model_validate(r.state) for r in rows]


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
    """One past the month's highest number. Ids are zero-padded to three digits, so past
    999 the string maximum is wrong ("202501-999" > "202501-1000"): the longest id wins
    first, then the string maximum among ids of that length."""
    prefix = cycle.replace("-", "") + "-"
    last = (
        await conn.execute(
            sa.select(audits.c.id)
            .where(audits.c.id.like(prefix + "%"))
            .order_by(sa.func.length(audits.c.id).desc(), audits.c.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return int(last.split("-")[1]) + 1 if last else 1
