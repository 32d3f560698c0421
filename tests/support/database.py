"""Real databases for tests: a SQLite file, and PostgreSQL when AUDITBOT_TEST_POSTGRES_URL
is set (a fresh schema per use)."""

from __future__ import annotations

import os
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from store.db import Database

POSTGRES_URL = os.environ.get("AUDITBOT_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


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
