"""What keeps a turn cheap: one trip to SQLite's thread per statement, cards never
copied, and the collector's settings while serving (bench/submit.py measures them)."""

from __future__ import annotations

import copy
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

import cards
from auditbot.app import build
from auditbot.serve import YOUNG_COLLECTION_EVERY, serving
from auditbot.settings import Settings
from audits.clock import FixedClock
from store.db import Database
from store.sqlite_driver import OneHopDbapi
from tests.support.clock import START

TENANT = "4a6d3c2b-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
things = sa.Table(
    "things",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String, unique=True),
)


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Counts the functions aiosqlite runs in its thread (each one a trip there and back)."""
    made: list[str] = []
    execute = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(getattr(fn, "__name__", repr(fn)))
        return await execute(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    yield made


async def test_a_statement_is_one_trip_and_behaves_as_sqlalchemys_own(
    tmp_path: Path, trips: list[str]
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/hot.db")
    assert isinstance(db.engine.dialect.dbapi, OneHopDbapi)
    try:
        async with db.transaction() as conn:
            await conn.run_sync(things.metadata.create_all)
        async with db.transaction() as conn:
            trips.clear()
            inserted = await conn.execute(things.insert(), [{"name": "a"}, {"name": "b"}])
            assert inserted.rowcount == 2
            one = await conn.execute(things.insert().values(name="c"))
            assert one.inserted_primary_key == (3,)
            changed = await conn.execute(
                things.update()
                .where(things.c.name.in_(["a", "c"]))
                .values(name=things.c.name + "!")
            )
            assert changed.rowcount == 2
            rows = (await conn.execute(sa.select(things.c.name).order_by(things.c.id))).all()
            assert [r.name for r in rows] == ["a!", "b", "c!"]
            none = await conn.execute(sa.select(things).where(things.c.id == 99))
            assert none.first() is None
            # Five statements, five trips (SQLAlchemy's own adapter takes two to four each).
            assert len(trips) == 5
        with pytest.raises(IntegrityError):
            async with db.transaction() as conn:
                await conn.execute(things.insert().values(name="b"))
        async with db.reading() as conn:
            count = (await conn.execute(sa.select(sa.func.count()).select_from(things))).scalar()
        assert count == 3  # the failed insert was rolled back
    finally:
        await db.dispose()


def test_a_built_card_is_shared_by_its_copies_and_is_plain_json() -> None:
    card = cards.help_card()
    assert isinstance(card, cards.Built) and isinstance(card, dict)
    assert copy.deepcopy({"attachments": [card]})["attachments"][0] is card
    assert copy.copy(card) is card


async def test_serving_freezes_the_start_up_heap_and_restores_the_collector(
    tmp_path: Path,
) -> None:
    before = gc.get_threshold()
    settings = Settings.model_validate(
        {
            "AUDITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/serve.db",
            "AUDITBOT_ALLOWED_TENANTS": TENANT,
        }
    )
    app = build(settings, clock=FixedClock(START))
    try:
        async with serving(app, "127.0.0.1", 0):
            assert gc.get_threshold()[0] == YOUNG_COLLECTION_EVERY
            assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0
    finally:
        await app.close()
