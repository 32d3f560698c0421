"""What the monthly QA report is computed from, read from the store in one read transaction.

The report needs the audits of some sample months (`audits.cycle`, the month
each was allocated: the period's, the previous period's and the trend's) and
the cases of concern of any earlier sample. Both are read here and handed
back as `ReportRows`; `reports.monthly.compute_report` does the rest without
the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from audits.model import Audit
from store.db import Database
from store.schema import audits


@dataclass(frozen=True)
class ReportRows:
    """The audits of the months asked for and the earlier cases of concern."""

    # Every month asked for (none left out, even when empty), earliest first; each
    # month's audits by id.
    by_cycle: Mapping[str, tuple[Audit, ...]]
    # Cases of concern from samples before `before`, none of the months asked for, by id.
    earlier_concerns: tuple[Audit, ...]


async def read_report_rows(db: Database, cycles: Iterable[str], before: str) -> ReportRows:
    """The audits of `cycles` and the cases of concern of samples before `before` that
    are not among them, in one read transaction."""
    wanted = sorted(set(cycles))
    async with db.reading() as conn:
        by_cycle = await _audits_of_cycles(conn, wanted)
        earlier = await _earlier_concerns(conn, before, wanted)
    return ReportRows(by_cycle=by_cycle, earlier_concerns=earlier)


async def _audits_of_cycles(
    conn: AsyncConnection, wanted: list[str]
) -> dict[str, tuple[Audit, ...]]:
    found: dict[str, list[Audit]] = {c: [] for c in wanted}
    rows = await conn.execute(
        sa.select(audits.c.cycle, audits.c.state)
        .where(audits.c.cycle.in_(wanted))
        .order_by(audits.c.id)
    )
    for row in rows:
        found[row.cycle].append(Audit.model_validate(row.state))
    return {c: tuple(group) for c, group in found.items()}


async def _earlier_concerns(
    conn: AsyncConnection, before: str, skip: list[str]
) -> tuple[Audit, ...]:
    rows = await conn.execute(
        sa.select(audits.c.state)
        .where(
            audits.c.case_of_concern.is_(True),
            audits.c.cycle < before,
            audits.c.cycle.not_in(skip),
        )
        .order_by(audits.c.id)
    )
    return tuple(Audit.model_validate(row.state) for row in rows)
