"""Do the views grow with history? "my audits" and the QA tracker at 150, 1,500 and
15,000 audits, each size in a fresh process of its own (so memory is that size's alone).

Each council is built in a temporary SQLite file: the audits of its latest month are
copies of one audit allocated through the real use case (open, every deadline running);
the months before are copies of one taken through the whole process (moderated), as in
bench/report.py. Twenty auditors share the work, so at 15,000 audits each has 750 in
their history and a dozen open; the auditor measured has a dozen open and enough history
to fill the card's 25 rows at every size, so only what is not shown grows. Then, through the same path as a Teams message (the
command's route, the names looked up, the card rendered), "my audits" for one auditor and
the tracker's first and a middle page for the QA officer are timed, and the process's
resident memory is read after.

    .venv/bin/python bench/scale.py [--sizes 150,1500,15000]

Budgets (the figures are ratios against the 150-audit council, measured in the same run):
my audits and tracker at 15,000 within 1.5x their time at 150; memory within 1.2x.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.rows import Row, rss_mb, table

SIZES = (150, 1_500, 15_000)
AUDITORS = 20
ROUNDS = 15
BUDGET_TIME = 1.5
BUDGET_MEMORY = 1.2
START = datetime(2021, 12, 1, 9, 0, tzinfo=UTC)
MEASURED = "auditor07@council.example"
OPEN = 12
HISTORY = 3


def _layout(size: int) -> tuple[int, int]:
    """Months of history and audits a month: 150 is half a year of 25 a month."""
    return (6, 25) if size <= 150 else (60, size // 60)


def _auditor(month: int, months: int, k: int, per_month: int) -> str:
    """Who audits the month's k-th audit. The measured auditor (MEASURED) has the same
    open work at every size (OPEN audits of the latest month) and at least HISTORY a month
    before it, so "my audits" shows the same 25 rows at 150 audits as at 15,000 and only
    their history grows (15 closed audits at 150, 708 at 15,000). The rest is shared."""
    floor = OPEN if month == months - 1 else HISTORY
    if k < floor:
        return MEASURED
    return f"auditor{(month * per_month + k) % AUDITORS:02d}@council.example"


async def _seed(path: Path, size: int) -> None:
    import random

    from application.service import AuditService
    from auditbot.demo import ROLES_FILE
    from audits.allocation_csv import AllocationRow
    from audits.catalog import load_catalog
    from audits.clock import FixedClock
    from audits.model import Audit, Participants
    from audits.roles import load_standing_roles
    from audits.workdays import WorkingCalendar
    from audits.workflow import Allocation
    from bench.report import _prototype, _shift
    from store import audit_rows
    from store.db import Database

    catalog = load_catalog()
    months, per_month = _layout(size)
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.ensure_schema()
    done = (await _prototype(db, catalog)).model_dump(mode="json")
    year, month = divmod(START.month - 1 + months - 1, 12)
    last = START.replace(year=START.year + year, month=month + 1)
    service = AuditService(
        db=db,
        catalog=catalog,
        calendar=WorkingCalendar(),
        standing=load_standing_roles(ROLES_FILE),
        clock=FixedClock(last),
    )
    people = Participants(
        social_worker="sw@council.example",
        auditor="auditor@council.example",
        iro="iro@council.example",
        moderator="moderator@council.example",
        team_manager="tm@council.example",
        service_manager="sm@council.example",
    )
    allocation = Allocation(
        "8888888",
        "help-and-protection",
        "Safeguarding Team 1",
        people,
        "swindon-practice-evaluation",
        "swindon",
    )
    [outcome] = await service.allocate("system", [AllocationRow(2, allocation)])
    running = outcome.audit.model_dump(mode="json")
    rng = random.Random(7)
    async with db.transaction() as conn:
        for m in range(months):
            year, month = divmod(START.month - 1 + m, 12)
            first = START.replace(year=START.year + year, month=month + 1)
            source = running if m == months - 1 else _shift(done, first - START)
            text = json.dumps(source)
            for k in range(per_month):
                who = _auditor(m, months, k, per_month)
                state = json.loads(text.replace("auditor@council.example", who))
                cycle = Audit.model_validate(state).allocated_at.strftime("%Y-%m")
                state.update(
                    id=f"{cycle.replace('-', '')}-{k + 101:03d}",
                    child_id=f"{1000000 + m * 1000 + k}",
                    cycle=cycle,
                    team=("Safeguarding Team 1", "Children in Care Team")[rng.random() < 0.5],
                )
                audit = Audit.model_validate(state)
                await audit_rows.insert_audit(conn, audit, audit.allocated_at)
    await db.dispose()


async def _measure_one(size: int) -> dict[str, Any]:
    from application.routes import ACTIONS, answer_text
    from application.services import Press
    from application.views import people_in
    from auditbot.app import build
    from auditbot.settings import Settings
    from bot.render import render
    from cards.actions import Verb

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "council.db"
        await _seed(path, size)
        from auditbot.demo import ROLES_FILE

        settings = Settings.model_validate(
            {
                "AUDITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{path}",
                "AUDITBOT_ROLES_FILE": str(ROLES_FILE),
            }
        )
        app = build(settings)
        services = app.services
        qa = services.service.standing.qa_staff[0]
        auditor = MEASURED

        async def view(reply: Any) -> int:
            shown = reply.follow_up or reply.replace
            names = await services.people.names(people_in(shown))
            return len(json.dumps(render(shown, names)))

        async def my_audits() -> int:
            return await view(await answer_text(services, auditor, "my audits", None))

        async def tracker() -> int:
            return await view(await answer_text(services, qa, "tracker", None))

        async def tracker_middle() -> int:
            press = Press(qa, {"verb": Verb.TRACKER_PAGE.value, "page": size // 20}, "k")
            return await view(await ACTIONS.dispatch(services, press))

        figures: dict[str, Any] = {"size": size}
        for name, work in (
            ("my_audits", my_audits),
            ("tracker", tracker),
            ("tracker_middle", tracker_middle),
        ):
            await work()  # warm: the first run pays imports and caches
            samples = []
            for _ in range(ROUNDS):
                began = time.perf_counter()
                await work()
                samples.append(time.perf_counter() - began)
            figures[name] = statistics.median(samples)
        figures["rss_mb"] = rss_mb()
        await app.close()
        return figures


def _run_size(size: int) -> dict[str, Any]:
    answer = subprocess.run(
        [sys.executable, __file__, "--one", str(size)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if answer.returncode != 0:
        raise RuntimeError(f"size {size} failed:\n{answer.stderr[-3000:]}")
    return dict(json.loads(answer.stdout.strip().splitlines()[-1]))


def measure(sizes: tuple[int, ...] = SIZES) -> list[Row]:
    load = os.getloadavg()[0]
    results = [_run_size(size) for size in sizes]
    base = results[0]
    rows = []
    for r in results:
        for name, label in (
            ("my_audits", "my audits"),
            ("tracker", "tracker page 1"),
            ("tracker_middle", "tracker middle page"),
        ):
            ratio = r[name] / base[name]
            judged = r is results[-1] and r is not base
            rows.append(
                Row(
                    f"{label} at {r['size']:,} audits (load {load:.1f})",
                    f"{r[name] * 1000:.1f} ms",
                    f"{base[name] * 1000:.1f} ms at {base['size']}",
                    f"{ratio:.2f}x",
                    f"<= {BUDGET_TIME}x" if judged else "-",
                    ratio <= BUDGET_TIME if judged else None,
                )
            )
        ratio = r["rss_mb"] / base["rss_mb"]
        judged = r is results[-1] and r is not base
        rows.append(
            Row(
                f"memory after the views at {r['size']:,} audits",
                f"{r['rss_mb']:.0f} MB",
                f"{base['rss_mb']:.0f} MB at {base['size']}",
                f"{ratio:.2f}x",
                f"<= {BUDGET_MEMORY}x" if judged else "-",
                ratio <= BUDGET_MEMORY if judged else None,
            )
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(asyncio.run(_measure_one(args.one))))
        return 0
    rows = measure(tuple(int(s) for s in args.sizes.split(",")))
    print(table(rows))
    return 0 if all(r.ok is not False for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
