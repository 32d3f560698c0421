"""The database: engine, transactions and migrations (SQLite by default, PostgreSQL to scale out)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from audits.errors import ConfigError
from store.sqlite_driver import one_hop_dbapi

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration in migrations/versions. Written out so that a start whose schema is
# up to date never imports alembic (a fifth of a light command's time); a test checks it
# against alembic's own head, so a new migration without it fails the suite.
HEAD_REVISION = "0012"


class DatabaseUnavailable(Exception):
    """The database cannot be reached or is not ours."""


class Database:
    def __init__(self, url: str, **engine_options: Any) -> None:
        try:
            parsed = make_url(url)
        except Exception as exc:  # SQLAlchemy raises ArgumentError with a terse text
            raise ConfigError(f"AUDITBOT_DATABASE_URL '{url}' is not a database URL") from exc
        if parsed.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise ConfigError(
                "AUDITBOT_DATABASE_URL must start with sqlite+aiosqlite:/// or postgresql+asyncpg://"
            )
        self.url = parsed
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine_options.setdefault("connect_args", {"timeout": 30})
        if self.is_sqlite:
            if (dbapi := one_hop_dbapi()) is not None:
                engine_options.setdefault("module", dbapi)
            # Every use ends its transaction before the connection goes back (commit or
            # rollback in `transaction`, the rollback of closing in `reading`); the pool's
            # own rollback after that was one more trip to SQLite's thread each time.
            engine_options.setdefault("pool_reset_on_return", None)
        self.engine: AsyncEngine = create_async_engine(parsed, **engine_options)
        self._writer = asyncio.Lock()
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction; on SQLite it takes the write lock at once (BEGIN IMMEDIATE).

        SQLite has one writer at a time. Writers of this process queue here, in
        order, rather than in SQLite's busy handler, which sleeps and retries
        with growing pauses: under load that made a few turns wait seconds.
        """
        if self.is_sqlite:
            async with self._writer, self._transaction() as conn:
                yield conn
        else:
            async with self._transaction() as conn:
                yield conn

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            if self.is_sqlite:
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                await conn.begin()
            try:
                yield conn
            except BaseException:
                await conn.rollback()
                raise
            else:
                await conn.commit()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    async def upgrade(self) -> None:
        """Brings the schema to the newest migration."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade)

    async def current_revision(self) -> str | None:
        """The schema's migration, as alembic records it (None: no schema yet)."""
        async with self.engine.connect() as conn:
            has_table = await conn.run_sync(
                lambda sync: sync.dialect.has_table(sync, "alembic_version")
            )
            if not has_table:
                return None
            found = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return found.scalar_one_or_none()

    async def ensure_schema(self) -> None:
        """A SQLite file is upgraded on first use; PostgreSQL must be upgraded by the admin."""
        try:
            current = await self.current_revision()
        except (OSError, SQLAlchemyError) as exc:
            raise DatabaseUnavailable(f"cannot reach the database: {_brief(exc)}") from exc
        if current == head_revision():
            return
        if self.is_sqlite:
            await self.upgrade()
            return
        raise DatabaseUnavailable(
            "the database schema is not up to date: run `auditbot db upgrade`"
        )

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    return HEAD_REVISION


def _upgrade(connection: Connection) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # aiosqlite: let us issue BEGIN ourselves, so BEGIN IMMEDIATE takes the lock.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _brief(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
