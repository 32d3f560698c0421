"""The composition root: builds everything from settings and hands it over."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditbot.effects import EffectsConfig
from auditbot.m365 import M365Senders
from auditbot.service import AuditService
from auditbot.settings import Settings
from audits.catalog import Catalog, load_catalog
from audits.clock import Clock, SystemClock
from audits.roles import StandingRoles, load_standing_roles
from audits.workdays import WorkingCalendar
from scheduling.dispatcher import Dispatcher
from store.db import Database

if TYPE_CHECKING:  # msgraph-sdk is loaded only when Microsoft 365 is configured
    from graph.client import MsGraph


@dataclass
class App:
    settings: Settings
    db: Database
    catalog: Catalog
    service: AuditService
    graph: MsGraph | None
    dispatcher: Dispatcher | None  # None when nothing can be sent yet (no Microsoft 365)

    async def start(self) -> None:
        await self.db.ensure_schema()

    async def close(self) -> None:
        if self.graph is not None:
            await self.graph.close()
        await self.db.dispose()


def build(settings: Settings, clock: Clock | None = None) -> App:
    clock = clock or SystemClock()
    catalog = load_catalog(settings.config_dir, settings.default_policy)
    standing = load_standing_roles(settings.roles_file) if settings.roles_file else StandingRoles()
    calendar = WorkingCalendar()
    db = Database(settings.database_url)
    graph = _graph(settings) if settings.graph_configured else None
    service = AuditService(
        db=db,
        catalog=catalog,
        calendar=calendar,
        standing=standing,
        clock=clock,
        effects=EffectsConfig(m365=graph is not None, install_app=bool(settings.teams_app_id)),
        directory=graph,
    )
    dispatcher = None
    if graph is not None:
        senders = M365Senders(db, catalog, graph, clock, calendar, settings.chat_link).senders()
        dispatcher = Dispatcher(db, clock, senders, worker=f"{socket.gethostname()}-cli")
    return App(settings, db, catalog, service, graph, dispatcher)


def _graph(settings: Settings) -> MsGraph:
    from graph.client import MsGraph

    return MsGraph(settings.graph_settings())
