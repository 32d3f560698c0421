"""`auditbot serve`: the bot endpoint and, beside it, the runner that sends the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from auditbot.app import App
from bot.handler import AuditBot
from bot.sender import TeamsSender
from bot.server import BotCredentials, create_web_app, make_adapter
from scheduling.dispatcher import Dispatcher

log = logging.getLogger(__name__)
RUNNER_INTERVAL = 1.0  # seconds between outbox polls when idle


@dataclass
class BotServer:
    web_app: web.Application
    bot: AuditBot
    dispatcher: Dispatcher
    port: int = 0  # the port it listens on, once started


def build_bot_server(app: App) -> BotServer:
    s = app.settings
    credentials = BotCredentials(
        APP_ID=s.app_id or "",
        APP_PASSWORD=s.app_password or "",
        APP_TYPE=s.app_type,
        APP_TENANTID=s.app_tenant_id or "",
    )
    adapter = make_adapter(credentials)
    tenants = frozenset(t.strip() for t in s.allowed_tenants.split(",") if t.strip())
    if s.app_tenant_id and not tenants:
        tenants = frozenset({s.app_tenant_id})
    bot = AuditBot(app.service, tenants)
    senders = dict(app.dispatcher.senders) if app.dispatcher else {}
    senders["teams"] = TeamsSender(adapter, app.db, s.app_id)
    dispatcher = Dispatcher(
        app.db, app.service.clock, senders, worker=f"{socket.gethostname()}-serve"
    )
    return BotServer(create_web_app(adapter, bot), bot, dispatcher)


async def run_outbox(dispatcher: Dispatcher, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            handled = await dispatcher.run_once()
        except Exception:
            log.exception("outbox round failed")
            handled = 0
        if not handled:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RUNNER_INTERVAL)


@contextlib.asynccontextmanager
async def serving(app: App, host: str, port: int) -> AsyncIterator[BotServer]:
    """Starts the endpoint and the runner; stops both on exit."""
    await app.start()
    server = build_bot_server(app)
    runner = web.AppRunner(server.web_app)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server.port = _bound_port(site, port)
    stop = asyncio.Event()
    outbox_task = asyncio.create_task(run_outbox(server.dispatcher, stop))
    try:
        yield server
    finally:
        stop.set()
        await outbox_task
        await runner.cleanup()


def _bound_port(site: web.TCPSite, asked: int) -> int:
    """The port actually bound (asked may be 0: any free port)."""
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None) or ()
    return int(sockets[0].getsockname()[1]) if sockets else asked
