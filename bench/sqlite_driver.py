"""Whether store/sqlite_driver.py pays: our one-trip aiosqlite driver against SQLAlchemy's own.

    .venv/bin/python bench/sqlite_driver.py [--users 20] [--turns 100] [--rounds 3]

Both run in this process on `store.db.Database` (the same pragmas, write lock and pool),
each on its own temporary SQLite file: ours as the app makes it, SQLAlchemy's stock
aiosqlite adapter by giving the engine no DB-API module of ours. `--users` tasks at once
each run `--turns` turns shaped like a card submit's database work: a read of the audit
and the person's conversation, then a transaction that reads the audit, updates it,
adds a history row and two outbox rows (executemany) and counts what is pending: seven
statements a turn, and BEGIN IMMEDIATE and COMMIT. The two drivers take turns, `--rounds` rounds each (ours, stock,
ours, stock...), so a slow spell of this machine falls on both alike; each figure is the
median of its rounds. CPU is the whole process's (the event loop and aiosqlite's thread).
The ratio is stock / ours: above 1, ours is faster.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bench.rows import Row
from store.db import Database

metadata = sa.MetaData()
audits = sa.Table(
    "audits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("doc", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)
conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("person", sa.String, primary_key=True),
    sa.Column("reference", sa.Text, nullable=False),
)
history = sa.Table(
    "history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("audit_id", sa.Integer, nullable=False),
    sa.Column("what", sa.Text, nullable=False),
)
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("audit_id", sa.Integer, nullable=False, index=True),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("sent", sa.Boolean, nullable=False, default=False),
)
DOC = '{"answers": {}, "status": "in_progress"}' * 20  # an audit's JSON, about 800 bytes


async def _ready(db: Database, users: int) -> None:
    async with db.transaction() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(
            audits.insert(), [{"id": u, "doc": DOC, "version": 0} for u in range(users)]
        )
        await conn.execute(
            conversations.insert(), [{"person": f"p{u}", "reference": DOC} for u in range(users)]
        )


async def _turn(db: Database, user: int, n: int) -> None:
    async with db.reading() as conn:
        await conn.execute(sa.select(audits).where(audits.c.id == user))
        await conn.execute(sa.select(conversations).where(conversations.c.person == f"p{user}"))
    async with db.transaction() as conn:
        row = (await conn.execute(sa.select(audits).where(audits.c.id == user))).one()
        await conn.execute(
            audits.update()
            .where(audits.c.id == user, audits.c.version == row.version)
            .values(doc=DOC + str(n), version=row.version + 1)
        )
        await conn.execute(history.insert().values(audit_id=user, what=f"answer {n}"))
        await conn.execute(
            outbox.insert(),
            [{"audit_id": user, "kind": "teams"}, {"audit_id": user, "kind": "tracker"}],
        )
        await conn.execute(
            sa.select(sa.func.count())
            .select_from(outbox)
            .where(outbox.c.audit_id == user, outbox.c.sent.is_(False))
        )


async def _round(stock: bool, folder: Path, users: int, turns: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) for users × turns turns on a fresh database."""
    options: dict[str, Any] = {"module": None} if stock else {}  # None: SQLAlchemy's own
    path = folder / f"{'stock' if stock else 'ours'}-{time.monotonic_ns()}.db"
    db = Database(f"sqlite+aiosqlite:///{path}", **options)
    try:
        await _ready(db, users)

        async def user(u: int) -> None:
            for n in range(turns):
                await _turn(db, u, n)

        await asyncio.gather(*(user(u) for u in range(min(users, 2))))  # warm-up, not counted
        wall, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(user(u) for u in range(users)))
        return time.perf_counter() - wall, time.process_time() - cpu
    finally:
        await db.dispose()


def _is_ours(db: Database) -> bool:
    return type(db.engine.dialect.loaded_dbapi).__module__ == "store.sqlite_driver"


async def run(users: int = 20, turns: int = 100, rounds: int = 3) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ours_db, stock_db = (
            Database(f"sqlite+aiosqlite:///{folder}/check.db"),
            Database(f"sqlite+aiosqlite:///{folder}/check.db", module=None),
        )
        assert _is_ours(ours_db) and not _is_ours(stock_db), "the two drivers are not apart"
        await ours_db.dispose()
        await stock_db.dispose()
        got: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
        for _ in range(rounds):
            for stock in (False, True):
                got[stock].append(await _round(stock, folder, users, turns))
    count = users * turns
    figures: dict[str, float] = {}
    for stock, name in ((False, "ours"), (True, "stock")):
        figures[f"{name}_wall_ms"] = statistics.median(w for w, _ in got[stock]) / count * 1000
        figures[f"{name}_cpu_ms"] = statistics.median(c for _, c in got[stock]) / count * 1000
    figures["wall_ratio"] = figures["stock_wall_ms"] / figures["ours_wall_ms"]
    figures["cpu_ratio"] = figures["stock_cpu_ms"] / figures["ours_cpu_ms"]
    return figures


async def measure(users: int = 20, turns: int = 100, rounds: int = 3) -> list[Row]:
    """The key figures as rows for bench/run_all.py."""
    f = await run(users, turns, rounds)
    return [
        Row(
            f"SQLite turn, {users} at once, our driver (wall per turn)",
            f"{f['ours_wall_ms']:.2f} ms",
            f"{f['stock_wall_ms']:.2f} ms (SQLAlchemy's)",
            f"{f['wall_ratio']:.2f}x",
        ),
        Row(
            "SQLite turn, our driver (CPU per turn)",
            f"{f['ours_cpu_ms']:.2f} ms",
            f"{f['stock_cpu_ms']:.2f} ms (SQLAlchemy's)",
            f"{f['cpu_ratio']:.2f}x",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    f = asyncio.run(run(args.users, args.turns, args.rounds))
    print(
        f"SQLite: {args.users} users at once, {args.turns} turns each, seven statements a "
        f"turn, {args.rounds} rounds per driver (medians)"
    )
    print(f"  wall per turn: ours {f['ours_wall_ms']:.3f} ms, stock {f['stock_wall_ms']:.3f} ms")
    print(f"  CPU per turn:  ours {f['ours_cpu_ms']:.3f} ms, stock {f['stock_cpu_ms']:.3f} ms")
    print(f"  ratio stock / ours: wall {f['wall_ratio']:.2f}x, CPU {f['cpu_ratio']:.2f}x")


if __name__ == "__main__":
    main()
