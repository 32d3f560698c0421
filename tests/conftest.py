"""Shared fixtures: a real database (SQLite file, and PostgreSQL when
AUDITBOT_TEST_POSTGRES_URL is set), the shipped catalog, a fixed clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import create_async_engine

from application.service import AuditService
from auditbot.demo import ROLES_FILE
from audits.catalog import Catalog, load_catalog
from audits.clock import FixedClock
from audits.roles import StandingRoles, load_standing_roles
from audits.workdays import WorkingCalendar
from store.db import Database
from tests.fake_connector import FakeConnector

POSTGRES_URL = os.environ.get("AUDITBOT_TEST_POSTGRES_URL")
# A Monday morning in term time, well clear of bank holidays.
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def standing() -> StandingRoles:
    return load_standing_roles(ROLES_FILE)


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'auditbot.db'}")
        await database.ensure_schema()
        yield database
        await database.dispose()
        return
    async with postgres_schema() as database:
        yield database


class postgres_schema:
    """A fresh PostgreSQL schema per test, dropped afterwards."""

    def __init__(self) -> None:
        assert POSTGRES_URL
        self.name = f"t_{uuid.uuid4().hex[:12]}"

    async def __aenter__(self) -> Database:
        admin = create_async_engine(POSTGRES_URL)
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'CREATE SCHEMA "{self.name}"'))
        await admin.dispose()
        self.database = Database(
            POSTGRES_URL, connect_args={"server_settings": {"search_path": self.name}}
        )
        await self.database.upgrade()
        return self.database

    async def __aexit__(self, *exc: object) -> None:
        await self.database.dispose()
        admin = create_async_engine(POSTGRES_URL)
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA "{self.name}" CASCADE'))
        await admin.dispose()


@pytest.fixture
def service(
    db: Database,
    catalog: Catalog,
    calendar: WorkingCalendar,
    standing: StandingRoles,
    clock: FixedClock,
) -> AuditService:
    return AuditService(db=db, catalog=catalog, calendar=calendar, standing=standing, clock=clock)


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    """A local stand-in for the Bot Connector, recording what the bot sends."""
    fake = FakeConnector()
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"  # type: ignore[union-attr]
    yield fake
    await runner.cleanup()
