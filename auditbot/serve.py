"""`auditbot serve`: the bot endpoint and, beside it, the runner (timers and outbox).

`auditbot runner` runs the runner alone, for installations with several bot
instances: they may all run it too, since timers and outbox rows are claimed
so that each is handled once.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from auditbot.app import App
from auditbot.health import add_readiness_route
from audits.clock import MovableClock
from bot.handler import AuditBot
from bot.server import create_web_app
from scheduling.dispatcher import Dispatcher
from scheduling.runner import Runner, run

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

log = logging.getLogger(__name__)


@dataclass
class BotServer:
    web_app: web.Application
    bot: AuditBot
    dispatcher: Dispatcher
    runner: Runner
    port: int = 0  # the port it listens on, once started


def build_bot_server(app: App) -> BotServer:
    bot = app.bot()
    web_app = create_web_app(bot.adapter, bot)
    if app.settings.demo_mode:
        web_app.router.add_post("/dev/clock", _dev_clock(app))
    add_readiness_route(
        web_app,
        app.db,
        lambda: app.runner.heartbeat,
        app.service.clock,
        failing=lambda: app.runner.failing,
    )
    return BotServer(web_app, bot, app.dispatcher, app.runner)


def _dev_clock(app: App) -> Handler:
    """POST /dev/clock {"advance": "PT72H"}: demo mode only; moves time on and lets the
    runner catch up, so "what happens after 72 hours" is seen in seconds."""

    async def handle(request: web.Request) -> web.StreamResponse:
        clock = app.service.clock
        if not isinstance(clock, MovableClock):
            return web.json_response({"error": "the clock moves only in demo mode"}, status=404)
        try:
            body = await request.json()
            by = TypeAdapter(timedelta).validate_python(body["advance"])
            now = clock.advance(by)
        except (ValueError, KeyError, TypeError, ValidationError):
            return web.json_response(
                {"error": 'send {"advance": "PT72H"}: an ISO 8601 duration, forward'},
                status=400,
            )
        app.runner.wake()
        log.warning("demo clock moved on by %s to %s", by, now.isoformat())
        return web.json_response({"now": now.isoformat()})

    return handle


YOUNG_COLLECTION_EVERY = 10_000  # allocations; CPython's default is 700


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
    background = asyncio.create_task(run(server.runner, server.dispatcher, stop))
    # What start-up built (modules, templates, the card models' schemas) lives as long
    # as the process. Frozen, the collector's full passes no longer walk it: each
    # paused every turn in flight for about 250 ms under load (bench/submit.py).
    # A turn makes thousands of short-lived objects that reference counting frees;
    # collecting the youngest generation every 700 of them cost 1-2 ms a turn.
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, *thresholds[1:])
    try:
        yield server
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        stop.set()
        await background
        await runner.cleanup()


async def run_runner(app: App) -> None:
    """`auditbot runner`: timers and outbox, without the bot endpoint."""
    await app.start()
    app.bot()  # its adapter sends the cards; nothing listens
    stop = asyncio.Event()
    await run(app.runner, app.dispatcher, stop)


def _bound_port(site: web.TCPSite, asked: int) -> int:
    """The port actually bound (asked may be 0: any free port)."""
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None) or ()
    return int(sockets[0].getsockname()[1]) if sockets else asked
