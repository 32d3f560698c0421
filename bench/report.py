"""How long the monthly QA report takes for a council with 5 years of history.

Builds two councils in temporary SQLite files: one with 60 months of audits
(25 a month, 1,500 in all) and one with a single month of 20. One audit is
taken through the real use cases (allocated, answered, submitted, moderated
with a regrade) and then copied, shifted month by month and varied in grade,
strand and team, and inserted through `store.audit_rows.insert_audit`. Then the
report for one month (figures, charts, Word and Excel) is timed for each.

    .venv/bin/python bench/report.py

Budget: under 5 s for the month of the large council.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from application.service import AuditService
from auditbot.demo import ROLES_FILE
from audits import commands as c
from audits.allocation_csv import AllocationRow
from audits.catalog import Catalog, load_catalog
from audits.clock import FixedClock
from audits.grades import Grade
from audits.model import Audit, Participants
from audits.roles import load_standing_roles
from audits.workdays import WorkingCalendar
from audits.workflow import Allocation
from reports.build import build_report
from reports.bundle import make_report
from reports.charts import render_charts
from reports.monthly_docx import render_report_document
from reports.period import Period
from reports.workbook import render_workbook
from store import audit_rows
from store.db import Database
from tests.support.factories import fill_audit, moderate_audit

BUDGET = 5.0
RUNS = 3
START = datetime(2021, 12, 1, 9, 0, tzinfo=UTC)  # the first of 60 months: Dec 2021 - Nov 2026
STRANDS = (
    "help-and-protection",
    "children-we-care-for",
    "care-experienced",
    "children-with-disabilities",
)
TEAMS = ("Safeguarding Team 1", "Safeguarding Team 2", "Children in Care Team", "Leaving Care Team")
GRADES = (Grade.OUTSTANDING, Grade.GOOD, Grade.GOOD, Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE)


async def _prototype(db: Database, catalog: Catalog) -> Audit:
    """One audit taken through the real process: the shape every copy has."""
    template = catalog.template("swindon-practice-evaluation")
    clock = FixedClock(START)
    service = AuditService(
        db=db,
        catalog=catalog,
        calendar=WorkingCalendar(),
        standing=load_standing_roles(ROLES_FILE),
        clock=clock,
    )
    people = Participants(
        social_worker="sw@council.example",
        auditor="auditor@council.example",
        iro="iro@council.example",
        moderator="moderator@council.example",
        team_manager="tm@council.example",
        service_manager="sm@council.example",
    )
    allocation = Allocation("9999999", STRANDS[0], TEAMS[0], people, template.id, "swindon")
    [outcome] = await service.allocate("system", [AllocationRow(2, allocation)])
    audit_id = outcome.audit.id
    clock.advance(timedelta(days=1))
    await service.execute(people.iro, audit_id, c.AddIroComments("Comments."))
    await fill_audit(service, audit_id, people.auditor, template)
    await service.execute(people.auditor, audit_id, c.Submit())
    clock.advance(timedelta(days=1))
    done = await moderate_audit(
        service,
        audit_id,
        people.moderator,
        template,
        Grade.GOOD,
        {"plans": Grade.REQUIRES_IMPROVEMENT},
    )
    return done.audit


def _shift(value: Any, by: timedelta) -> Any:
    """Every instant in a dumped audit moved by `by`."""
    if isinstance(value, dict):
        return {k: _shift(v, by) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, by) for v in value]
    if isinstance(value, str) and len(value) >= 20 and value[4] == "-" and "T" in value:
        try:
            return (datetime.fromisoformat(value) + by).isoformat()
        except ValueError:
            return value
    return value


def _copies(proto: Audit, months: int, per_month: int, rng: random.Random) -> list[Audit]:
    dumped = proto.model_dump(mode="json")
    made = []
    for m in range(months):
        year, month = divmod(START.month - 1 + m, 12)
        first = START.replace(year=START.year + year, month=month + 1)
        shifted = _shift(dumped, first - START)
        cycle = Audit.model_validate(shifted).allocated_at.strftime("%Y-%m")
        for k in range(per_month):
            state = dict(shifted)
            state.update(
                id=f"{cycle.replace('-', '')}-{k + 101:03d}",
                child_id=f"{1000000 + m * 100 + k}",
                cycle=cycle,
                strand=STRANDS[k % len(STRANDS)],
                team=TEAMS[(k // 2) % len(TEAMS)],
            )
            audit = Audit.model_validate(state)
            grade = rng.choice(GRADES[1:])  # an overall Outstanding would need every section so
            audit.answers[audit.overall_section].grade = grade
            assert audit.moderation is not None
            audit.moderation.auditor_overall = grade
            audit.moderation.overall = grade if rng.random() < 0.8 else Grade.GOOD
            made.append(audit)
    return made


async def _council(path: Path, catalog: Catalog, months: int, per_month: int) -> Period:
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.ensure_schema()
    proto = await _prototype(db, catalog)
    audits = _copies(proto, months, per_month, random.Random(7))
    async with db.transaction() as conn:
        for audit in audits:
            await audit_rows.insert_audit(conn, audit, audit.allocated_at)
    await db.dispose()
    return Period.parse_month(audits[-1].cycle)


async def _time(path: Path, catalog: Catalog, period: Period) -> tuple[float, int]:
    db = Database(f"sqlite+aiosqlite:///{path}")
    times = []
    audits = 0
    try:
        for _ in range(RUNS):
            began = time.perf_counter()
            made = await make_report(db, period, catalog, datetime.now(UTC))
            times.append(time.perf_counter() - began)
            audits = made.report.sample.allocated
    finally:
        await db.dispose()
    return statistics.median(times), audits


async def _parts(path: Path, catalog: Catalog, period: Period) -> str:
    """Where the time goes: figures, charts, Word, Excel."""
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        t0 = time.perf_counter()
        report = await build_report(db, period, catalog, datetime.now(UTC))
        t1 = time.perf_counter()
        charts = render_charts(report)
        t2 = time.perf_counter()
        render_report_document(report, charts)
        t3 = time.perf_counter()
        render_workbook(report)
        t4 = time.perf_counter()
    finally:
        await db.dispose()
    return (
        f"figures {t1 - t0:.2f} s, charts {t2 - t1:.2f} s, "
        f"Word {t3 - t2:.2f} s, Excel {t4 - t3:.2f} s"
    )


async def main() -> int:
    catalog = load_catalog()
    with tempfile.TemporaryDirectory() as folder:
        large, small = Path(folder) / "large.db", Path(folder) / "small.db"
        began = time.perf_counter()
        large_period = await _council(large, catalog, months=60, per_month=25)
        small_period = await _council(small, catalog, months=1, per_month=20)
        print(f"built both councils in {time.perf_counter() - began:.1f} s")
        # Warm the imports (matplotlib, python-docx, openpyxl) so neither run pays for them.
        await _time(small, catalog, small_period)
        large_time, large_n = await _time(large, catalog, large_period)
        small_time, small_n = await _time(small, catalog, small_period)
        parts = await _parts(large, catalog, large_period)
    print(
        f"large council (1,500 audits, 5 years): {large_period.label}, {large_n} audits: {large_time:.2f} s"
    )
    print(
        f"small council (20 audits):           {small_period.label}, {small_n} audits: {small_time:.2f} s"
    )
    print(f"large council, one run: {parts}")
    print(f"ratio large / small: {large_time / small_time:.2f}")
    verdict = "within" if large_time < BUDGET else "OVER"
    print(f"budget {BUDGET:.0f} s: {verdict}")
    return 0 if large_time < BUDGET else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
