"""The whole application for tests, built as `auditbot serve` builds it: real settings,
a SQLite file, the tests' council, a fixed clock."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import Any

from application.people import know_people
from auditbot.app import App, build
from auditbot.settings import Settings
from audits.clock import Clock, FixedClock
from graph.provisioning import setup_tracker
from store import contacts
from tests.support.clock import START
from tests.support.council import ROLES_FILE
from tests.support.people import name_of
from tests.support.teams import object_id


def settings(tmp_path: Path, env: Mapping[str, Any] | None = None) -> Settings:
    """Settings with a database in tmp_path and the tests' roles file; `env` adds to them
    or overrides them."""
    return Settings.model_validate(
        {
            "AUDITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            "AUDITBOT_ROLES_FILE": str(ROLES_FILE),
            **(env or {}),
        }
    )


@contextlib.asynccontextmanager
async def started_app(
    tmp_path: Path,
    env: Mapping[str, Any] | None = None,
    *,
    known: Iterable[str] = (),
    clock: Clock | None = None,
    set_up_sharepoint: bool = True,
) -> AsyncIterator[App]:
    """A started App (closed afterwards) whose directory knows the `known` people, with
    the object ids the Teams player gives them. With Microsoft 365 configured, the
    tracker list is first made as an admin makes it (`auditbot setup sharepoint`),
    unless `set_up_sharepoint` is False."""
    app = build(settings(tmp_path, env), clock=clock or FixedClock(START))
    await app.start()
    try:
        if set_up_sharepoint and app.graph is not None:
            await setup_tracker(app.graph)
        if known:
            async with app.db.transaction() as conn:
                await know_people(conn, [(p, object_id(p), True) for p in known], START)
                await contacts.save_names(conn, {p: name_of(p) for p in known}, START)
        yield app
    finally:
        await app.close()
