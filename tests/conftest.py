"""Shared fixtures: a real database (SQLite file, and PostgreSQL when
AUDITBOT_TEST_POSTGRES_URL is set), the shipped catalog, a fixed clock, the fake Bot
Connector, the Microsoft 365 sandbox and the whole app (built by tests.support.apps)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from application.service import AuditService
from auditbot.app import App
from audits.catalog import Catalog, load_catalog
from audits.clock import FixedClock
from audits.roles import StandingRoles, load_standing_roles
from audits.workdays import WorkingCalendar
from sandbox import RunningSandbox, start_sandbox
from store.db import Database
from tests.support.apps import started_app
from tests.support.clock import START
from tests.support.council import DIRECTORY, ROLES_FILE
from tests.support.database import BACKENDS, postgres_schema
from tests.support.fake_connector import FakeConnector, served_connector
from tests.support.teams import TENANT


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
    async with served_connector() as fake:
        yield fake


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[RunningSandbox]:
    """The Microsoft 365 sandbox on a free port, its state in tmp_path."""
    running = await start_sandbox(tmp_path / "sandbox", port=0)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    """The whole application, for the tests' tenant, its directory knowing the council."""
    async with started_app(
        tmp_path, {"AUDITBOT_ALLOWED_TENANTS": TENANT}, known=DIRECTORY
    ) as running:
        yield running
