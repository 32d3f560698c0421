"""The runner with many pending timers: idle tick cost, fire delay, memory over time.

    .venv/bin/python bench/timers.py [--timers 100000] [--backend sqlite|postgres]

Budgets (docs/performance.md): with 100,000 pending timers a tick with nothing due costs
under 10 ms, and a due timer fires within 1 s. Prints each figure and the
ratio of the idle tick to the idle tick with 100 timers, measured in this run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from application.service import AuditService
from auditbot.demo import ROLES_FILE
from audits.catalog import load_catalog
from audits.clock import MovableClock
from audits.roles import load_standing_roles
from audits.workdays import WorkingCalendar
from audits.workflow import SYSTEM
from bench.rows import Row
from scheduling.runner import Runner
from store.db import Database
from store.schema import outbox, timers
from store.timer_queue import TimerStatus
from tests.support.allocations import allocation, rows

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def rss_mb() -> float:
    """Resident memory now (Linux /proc), in MB."""
    try:
        with open(f"/proc/{os.getpid()}/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


async def make_service(url: str, clock: MovableClock) -> AuditService:
    db = Database(url)
    if url.startswith("postgresql"):
        async with db.transaction() as conn:
            await conn.execute(sa.text("DROP SCHEMA IF EXISTS bench_timers CASCADE"))
            await conn.execute(sa.text("CREATE SCHEMA bench_timers"))
        await db.dispose()
        db = Database(url, connect_args={"server_settings": {"search_path": "bench_timers"}})
        await db.upgrade()
    else:
        await db.ensure_schema()
    return AuditService(
        db=db,
        catalog=load_catalog(),
        calendar=WorkingCalendar(),
        standing=load_standing_roles(ROLES_FILE),
        clock=clock,
    )


async def add_pending(service: AuditService, n: int, offset: int = 0) -> None:
    """`n` pending timers spread over the next year, none due now."""
    batch = []
    for i in range(offset, offset + n):
        batch.append(
            {
                "key": f"bench-{i}",
                "audit_id": None,
                "kind": "nudge",
                "step": "iro_comments",
                "owner": f"p{i % 600}@council.example",
                "due_at": START + timedelta(days=1, seconds=(i * 317) % (365 * 86400)),
                "status": TimerStatus.PENDING.value,
                "payload": {},
            }
        )
        if len(batch) == 5000:
            async with service.db.transaction() as conn:
                await conn.execute(timers.insert(), batch)
            batch = []
    if batch:
        async with service.db.transaction() as conn:
            await conn.execute(timers.insert(), batch)


async def idle_tick_ms(runner: Runner, rounds: int = 200) -> tuple[float, float]:
    """Median and p95 of a tick that finds nothing due."""
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        handled = await runner.tick()
        samples.append((time.perf_counter() - t0) * 1000)
        assert handled == 0
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


async def fire_delay_s(service: AuditService, runner: Runner, clock: MovableClock) -> float:
    """A real audit's nudge falls due while the runner loop runs: seconds until its card
    is in the outbox."""
    from scheduling.runner import run

    [o] = await service.allocate(SYSTEM, rows(allocation("9999999", n=999)))
    first = min(service.reminders(o.audit), key=lambda r: r.at)
    stop = asyncio.Event()
    loop = asyncio.create_task(run(runner, None, stop))
    await asyncio.sleep(0.3)  # the runner is idle, sleeping between looks
    clock.advance(first.at - clock.now())  # it is due now
    due_wall = time.perf_counter()
    while True:
        async with service.db.reading() as conn:
            found = (
                await conn.execute(sa.select(outbox.c.id).where(outbox.c.kind == "nudge"))
            ).first()
        if found:
            break
        await asyncio.sleep(0.005)
    delay = time.perf_counter() - due_wall
    stop.set()
    await loop
    return delay


async def memory_over_an_hour(runner: Runner, clock: MovableClock) -> tuple[float, float]:
    """RSS before and after 3,600 ticks, the clock a second on each time."""
    gc.collect()
    before = rss_mb()
    for _ in range(3600):
        clock.advance(timedelta(seconds=1))
        await runner.tick()
    gc.collect()
    return before, rss_mb()


async def _run(n: int, backend: str) -> tuple[float, float, float, float, float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db" if backend == "sqlite" else POSTGRES
        clock = MovableClock(START)
        service = await make_service(url, clock)
        runner = Runner(
            service.db,
            service.catalog,
            service.calendar,
            service.standing,
            clock,
            "bench",
        )
        await add_pending(service, 100)
        small_p50, small_p95 = await idle_tick_ms(runner)
        await add_pending(service, n - 100, offset=100)
        big_p50, big_p95 = await idle_tick_ms(runner)
        delay = await fire_delay_s(service, runner, clock)
        before, after = await memory_over_an_hour(runner, clock)
        await service.db.dispose()

    return small_p50, small_p95, big_p50, big_p95, delay, before, after


async def measure(n: int = 100_000, backend: str = "sqlite") -> list[Row]:
    """The key figures as rows for bench/run_all.py."""
    _, small_p95, _, big_p95, delay, before, after = await _run(n, backend)
    return [
        Row(
            f"runner idle tick, {n:,} timers (p95)",
            f"{big_p95:.2f} ms",
            f"{small_p95:.2f} ms (100 timers)",
            f"{big_p95 / small_p95:.2f}x",
            "< 10 ms",
            big_p95 < 10,
        ),
        Row(
            "due timer fired after",
            f"{delay * 1000:.0f} ms",
            budget="< 1000 ms",
            ok=delay < 1,
        ),
        Row("runner memory over 3,600 ticks", f"{before:.0f} -> {after:.0f} MB"),
    ]


async def main(n: int, backend: str) -> None:
    small_p50, small_p95, big_p50, big_p95, delay, before, after = await _run(n, backend)
    print(f"runner, {backend}: idle tick and fire delay with {n:,} pending timers")
    print(f"  idle tick, 100 timers:      p50 {small_p50:6.2f} ms   p95 {small_p95:6.2f} ms")
    print(f"  idle tick, {n:,} timers: p50 {big_p50:6.2f} ms   p95 {big_p95:6.2f} ms")
    print(f"  ratio (p95, {n:,} / 100):   {big_p95 / small_p95:5.2f}x")
    print(f"  budget < 10 ms:             {'ok' if big_p95 < 10 else 'OVER'}")
    print(
        f"  due timer fired after:      {delay * 1000:6.0f} ms (budget < 1000 ms: "
        f"{'ok' if delay < 1 else 'OVER'})"
    )
    print(
        f"  memory over 3,600 ticks:    {before:6.1f} MB -> {after:6.1f} MB "
        f"({after - before:+.1f} MB)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    asyncio.run(main(args.timers, args.backend))
