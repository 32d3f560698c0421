"""A local stand-in for the Bot Connector service: records what the bot sends."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


@dataclass
class Sent:
    method: str
    conversation: str
    activity_id: str | None
    body: dict[str, Any]
    reply_to: str | None = None  # the activity answered: a turn's own, or a proactive send's

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.body.get("attachments") or []:
            if attachment.get("contentType") == ADAPTIVE_CARD:
                return attachment["content"]
        return None


@dataclass
class FakeConnector:
    sent: list[Sent] = field(default_factory=list)
    throttle_next: int = 0  # answer this many sends with 429 first
    # False: bodies are read and counted, not kept (benchmarks: the real connector's
    # store is not in the bot's process, its memory or its garbage collections).
    keep: bool = True
    cards_received: int = 0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    url: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conv}/activities", self._send)
        app.router.add_post("/v3/conversations/{conv}/activities/{reply}", self._send)
        app.router.add_put("/v3/conversations/{conv}/activities/{id}", self._update)
        app.router.add_post("/v3/conversations", self._create)
        return app

    async def _send(self, request: web.Request) -> web.Response:
        if self.throttle_next:
            self.throttle_next -= 1
            return web.json_response(
                {"error": {"code": "Throttled"}}, status=429, headers={"Retry-After": "1"}
            )
        activity_id = f"msg-{next(self._ids)}"
        if not self.keep:
            if ADAPTIVE_CARD.encode() in await request.read():
                self.cards_received += 1
            return web.json_response({"id": activity_id})
        body = await request.json()
        self.sent.append(
            Sent(
                "POST",
                request.match_info["conv"],
                activity_id,
                body,
                reply_to=request.match_info.get("reply"),
            )
        )
        return web.json_response({"id": activity_id})

    async def _update(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.sent.append(Sent("PUT", request.match_info["conv"], request.match_info["id"], body))
        return web.json_response({"id": request.match_info["id"]})

    async def _create(self, request: web.Request) -> web.Response:
        return web.json_response({"id": f"conv-{next(self._ids)}"})

    def cards_to(self, conversation: str) -> list[dict[str, Any]]:
        return [s.card for s in self.sent if s.conversation == conversation and s.card]

    def cards_not_replying_to(self, conversation: str, prefix: str) -> list[dict[str, Any]]:
        """Cards sent into a conversation other than as the answer to an activity whose id
        starts with `prefix`: the proactive ones, when the client's ids all carry it."""
        return [
            s.card
            for s in self.sent
            if s.conversation == conversation
            and s.card
            and s.method == "POST"
            and not (s.reply_to or "").startswith(prefix)
        ]


@contextlib.asynccontextmanager
async def served_connector(**options: Any) -> AsyncIterator[FakeConnector]:
    """A FakeConnector listening on a free local port (its `url`), stopped afterwards."""
    fake = FakeConnector(**options)
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}/"
    try:
        yield fake
    finally:
        await runner.cleanup()
