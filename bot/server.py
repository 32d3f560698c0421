"""The aiohttp app: POST /api/messages through botbuilder's CloudAdapter, GET /healthz."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from aiohttp import web
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)

from bot.handler import AuditBot

log = logging.getLogger(__name__)
MAX_BODY = 256 * 1024  # an activity carrying a card submit is far below this


@dataclass(frozen=True)
class BotCredentials:
    """The Azure Bot registration. No app id: anonymous, for local clients only."""

    APP_ID: str = ""
    APP_PASSWORD: str = ""
    APP_TYPE: str = "SingleTenant"
    APP_TENANTID: str = ""


def make_adapter(credentials: BotCredentials) -> CloudAdapter:
    if not credentials.APP_ID:
        log.warning(
            "MicrosoftAppId is not set: the bot accepts UNAUTHENTICATED requests. "
            "Use this only with a local client such as the Agents Playground."
        )
        # botbuilder allows an empty app id only for the multi-tenant type.
        credentials = BotCredentials(APP_TYPE="MultiTenant")
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(credentials))

    async def on_error(context, error: Exception) -> None:  # type: ignore[no-untyped-def]
        log.error("turn failed: %s", type(error).__name__, exc_info=error)
        try:
            await context.send_activity(
                "Sorry, something went wrong. Nothing was lost; please try again."
            )
        except Exception:  # the connector itself may be what failed
            log.warning("could not tell the person that the turn failed")

    adapter.on_turn_error = on_error
    return adapter


def create_web_app(adapter: CloudAdapter, bot: AuditBot) -> web.Application:
    async def messages(request: web.Request) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "activity too large"}, status=413)
        raw = await request.read()
        if len(raw) > MAX_BODY:
            return web.json_response({"error": "activity too large"}, status=413)
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            log.warning("refused a request that is not JSON")
            return web.json_response({"error": "the body is not JSON"}, status=400)
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            log.warning("refused a request that is not an activity")
            return web.json_response({"error": "the body is not an activity"}, status=400)
        try:
            response = await adapter.process(request, bot)
        except web.HTTPException as exc:
            return web.json_response({"error": exc.reason}, status=exc.status)
        except (TypeError, ValueError, KeyError, AttributeError):
            log.warning("refused a malformed activity", exc_info=True)
            return web.json_response({"error": "malformed activity"}, status=400)
        return response or web.Response(status=201)

    async def healthz(_: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    return app
