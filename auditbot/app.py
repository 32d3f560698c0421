"""The composition root: builds everything from settings and hands it over."""

from __future__ import annotations

from dataclasses import dataclass

from auditbot.service import AuditService
from auditbot.settings import Settings
from audits.catalog import Catalog, load_catalog
from audits.clock import Clock, SystemClock
from audits.roles import StandingRoles, load_standing_roles
from audits.workdays import WorkingCalendar
from store.db import Database


@dataclass
class App:
    settings: Settings
    db: Database
    catalog: Catalog
    service: AuditService

    async def start(self) -> None:
        await self.db.ensure_schema()

    async def close(self) -> None:
        await self.db.dispose()


def build(settings: Settings, clock: Clock | None = None) -> App:
    catalog = load_catalog(settings.config_dir, settings.default_policy)
    standing = load_standing_roles(settings.roles_file) if settings.roles_file else StandingRoles()
    db = Database(settings.database_url)
    service = AuditService(
        db=db,
        catalog=catalog,
        calendar=WorkingCalendar(),
        standing=standing,
        clock=clock or SystemClock(),
    )
    return App(settings=settings, db=db, catalog=catalog, service=service)
