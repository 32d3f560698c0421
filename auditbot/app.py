"""The composition root: builds everything from settings, once, and hands it over.

`build` is used by every entry point (`serve`, `runner`, the other CLI commands,
the demo) and by the tests. It makes one Dispatcher (the outbox) and one Runner
(timers); `serve` and `runner` add the Teams sender to that dispatcher with
`App.bot()`, so the command line, which never sends cards, loads no botbuilder.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

from application.effects import EffectsConfig
from application.service import AuditService
from auditbot.settings import Settings
from audits.catalog import Catalog, check_roles, load_catalog
from audits.clock import Clock, SystemClock
from audits.errors import ConfigError
from audits.roles import StandingRoles, load_standing_roles
from audits.workdays import WorkingCalendar
from scheduling.dispatcher import Dispatcher
from scheduling.runner import Runner
from store.db import Database

if TYPE_CHECKING:  # loaded only when needed: msgraph-sdk, botbuilder, the cards
    from application.services import Services
    from bot.handler import AuditBot
    from bot.server import BotCredentials
    from graph.client import MsGraph

# `claimed_by` holds the worker's name (64 characters on PostgreSQL).
WORKER_NAME_MAX = 64


@dataclass
class App:
    settings: Settings
    db: Database
    catalog: Catalog
    service: AuditService
    graph: MsGraph | None
    dispatcher: Dispatcher
    runner: Runner
    _bot: AuditBot | None = None
    _services: Services | None = None

    async def start(self) -> None:
        await self.db.ensure_schema()

    async def close(self) -> None:
        if self.graph is not None:
            await self.graph.close()
        await self.db.dispose()

    @property
    def services(self) -> Services:
        """What Teams asks of the application (made once, when first asked: the command
        line's listings need none of it, and it loads the cards)."""
        if self._services is None:
            from application.services import Services

            self._services = Services.of(self.service)
        return self._services

    def bot(self) -> AuditBot:
        """The Teams bot (made once): its adapter also sends the outbox's cards."""
        if self._bot is None:
            from bot.handler import AuditBot
            from bot.sender import TeamsSender
            from bot.server import make_adapter

            s = self.settings
            adapter = make_adapter(bot_credentials(s))
            self._bot = AuditBot(self.services, s.tenants, adapter)
            self.dispatcher.add_sender("teams", TeamsSender(adapter, self.db, s.app_id))
        return self._bot


def build(settings: Settings, clock: Clock | None = None) -> App:
    clock = clock or SystemClock()
    catalog = load_catalog(settings.config_dir, settings.default_policy)
    standing = load_standing_roles(settings.roles_file) if settings.roles_file else StandingRoles()
    if settings.roles_file:
        check_roles(catalog, standing, settings.roles_file)
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
    return assemble(settings, service, graph)


def assemble(settings: Settings, service: AuditService, graph: MsGraph | None = None) -> App:
    """The rest of the app around a service already made (`build`, and drills that make
    their own service with a fixed clock)."""
    db, catalog, clock, calendar = service.db, service.catalog, service.clock, service.calendar
    worker = worker_name()
    senders = {}
    if graph is not None:
        from graph.senders import M365Senders

        senders = M365Senders(db, catalog, graph, clock, calendar, settings.chat_link).senders()
    dispatcher = Dispatcher(db, clock, senders, worker=worker)
    runner = Runner(db, catalog, calendar, service.standing, clock, worker)
    return App(settings, db, catalog, service, graph, dispatcher, runner)


def worker_name() -> str:
    """This process, as its claims on timers and outbox rows name it: host and pid,
    the host cut short so that the whole fits the column."""
    pid = f"-{os.getpid()}"
    return socket.gethostname()[: WORKER_NAME_MAX - len(pid)] + pid


def bot_credentials(s: Settings) -> BotCredentials:
    from bot.server import BotCredentials

    certificate = {}
    if s.bot_certificate:
        from graph.credentials import CertificateError, load_certificate

        try:
            loaded = load_certificate(s.bot_certificate, s.bot_certificate_password)
        except CertificateError as exc:
            raise ConfigError(f"setting AUDITBOT_BOT_CERTIFICATE: {exc}") from None
        certificate = {
            "CERTIFICATE_PRIVATE_KEY": loaded.private_key_pem,
            "CERTIFICATE_PUBLIC": loaded.certificate_pem,
            "CERTIFICATE_THUMBPRINT": loaded.thumbprint,
        }
    return BotCredentials(
        APP_ID=s.app_id or "",
        APP_PASSWORD=s.app_password or "",
        APP_TYPE=s.app_type,
        APP_TENANTID=s.app_tenant_id or "",
        OPENID_METADATA_URL=s.bot_openid_metadata_url,
        **certificate,
    )


def _graph(settings: Settings) -> MsGraph:
    from graph.client import MsGraph

    return MsGraph(settings.graph_settings())
