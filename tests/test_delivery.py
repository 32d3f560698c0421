"""Drills for the Teams sender: a card is marked sent only when the Bot Connector took it.

The connector refusing the connection, accepting it and never answering, and the bot's
own token endpoint down: each leaves every card pending for a retry (none marked sent,
none lost), and once the fault is gone each card arrives exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

from application.people import keep_conversation, know_people
from auditbot.app import App, build
from audits import commands as c
from audits.clock import FixedClock
from bot.sender import TeamsSender
from bot.server import BotCredentials, make_adapter
from cards import notice_card
from scheduling.dispatcher import Dispatcher
from store.db import Database
from store.schema import outbox
from tests.support.apps import settings
from tests.support.clock import START
from tests.support.council import SAMPLE, allocate_sample
from tests.support.fake_connector import FakeConnector
from tests.support.people import AUDITOR, IRO
from tests.support.teams import conversation, object_id

pytestmark = pytest.mark.drill

TENANT = "5b9d4c2e-7a1f-4e0b-9c3d-2f6a8e1b7d40"
FAULTS = ("connection refused", "no answer", "token endpoint down")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def _serving(app: web.Application, port: int) -> AsyncIterator[None]:
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield
    finally:
        await runner.cleanup()


def _silent() -> web.Application:
    """Takes the connection and the request, and never answers."""

    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hang)
    return app


def _reference(upn: str, service_url: str) -> dict[str, Any]:
    return ConversationReference(
        user=ChannelAccount(id=f"29:{upn}", aad_object_id=object_id(upn)),
        bot=ChannelAccount(id="28:bot", name="auditbot"),
        conversation=ConversationAccount(
            id=conversation(upn), conversation_type="personal", tenant_id=TENANT
        ),
        channel_id="msteams",
        service_url=service_url,
    ).serialize()


async def _allocated(tmp_path: Path, service_url: str, clock: FixedClock) -> App:
    """One audit allocated, everyone on it in a chat with the bot at `service_url`."""
    app = build(settings(tmp_path), clock=clock)
    await app.start()
    people = sorted(SAMPLE[0][3:])
    async with app.db.transaction() as conn:
        await know_people(conn, [(p, object_id(p), True) for p in people], START)
        for p in people:
            await keep_conversation(conn, object_id(p), p, _reference(p, service_url), START)
    await allocate_sample(app.service, 1)
    return app


async def _teams_rows(db: Database) -> list[dict[str, Any]]:
    async with db.reading() as conn:
        query = sa.select(outbox).where(outbox.c.channel == "teams").order_by(outbox.c.id)
        return [dict(r._mapping) for r in (await conn.execute(query)).all()]


def _cards(rows: list[dict[str, Any]]) -> Counter[str]:
    return Counter(json.dumps(notice_card(r["kind"], r["payload"]), sort_keys=True) for r in rows)


def _received(connector: FakeConnector) -> Counter[str]:
    return Counter(json.dumps(s.card, sort_keys=True) for s in connector.sent if s.card)


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_card_the_connector_did_not_take_is_not_marked_sent(
    fault: str, tmp_path: Path
) -> None:
    port, clock = _free_port(), FixedClock(START)
    url = f"http://127.0.0.1:{port}/"
    app = await _allocated(tmp_path, url, clock)
    try:
        credentials = BotCredentials()
        if fault == "token endpoint down":  # the bot's own Entra app, its login unreachable
            credentials = BotCredentials(
                APP_ID="0b5e8f7a-3c2d-4e1f-9a8b-7c6d5e4f3a2b",
                APP_PASSWORD="not-a-real-secret",
                APP_TYPE="SingleTenant",
                APP_TENANTID=TENANT,
                LOGIN_URL=f"http://127.0.0.1:{_free_port()}/",
            )
        sender = TeamsSender(make_adapter(credentials), app.db, None, timeout=1.0)
        dispatcher = Dispatcher(app.db, clock, {"teams": sender}, worker="drill")
        fake = FakeConnector()
        during = (
            _serving(_silent(), port)
            if fault == "no answer"
            else _serving(fake.app(), port)
            if fault == "token endpoint down"
            else contextlib.nullcontext()
        )
        async with during:
            tried = await dispatcher.run_once()
        rows = await _teams_rows(app.db)
        assert tried == len(rows) > 0
        assert {r["status"] for r in rows} == {"pending"}, Counter(r["status"] for r in rows)
        assert all(r["attempts"] == 1 for r in rows)
        assert all(
            r["available_at"].replace(tzinfo=None) > START.replace(tzinfo=None) for r in rows
        )
        assert not fake.sent  # nothing reached Teams

        # The fault is gone: the connector answers (and the bot's credentials work).
        healthy = TeamsSender(make_adapter(BotCredentials()), app.db, None)
        dispatcher = Dispatcher(app.db, clock, {"teams": healthy}, worker="drill")
        clock.advance(timedelta(hours=1))
        async with _serving(fake.app(), port):
            await dispatcher.drain()
        rows = await _teams_rows(app.db)
        assert {r["status"] for r in rows} == {"sent"}
        assert _received(fake) == _cards(rows)  # each card once, none lost
        print(
            f"\nTeams sender, {fault}: {len(rows)} cards, none marked sent during the fault, "
            f"{sum(_received(fake).values())} delivered once after it; 0 lost, 0 duplicates"
        )
    finally:
        await app.close()


async def test_a_card_that_waited_in_the_queue_is_checked_before_it_goes(tmp_path: Path) -> None:
    """A card never tried before, but queued for minutes (behind another card to the same
    person, or behind a backlog), is checked like one that was retried: the IRO/CP
    chair's request, whose comments were recorded meanwhile, is not sent; the rest are."""
    fake, port = FakeConnector(), _free_port()
    clock = FixedClock(datetime.now(UTC) - timedelta(minutes=5))  # allocated 5 minutes ago
    app = await _allocated(tmp_path, f"http://127.0.0.1:{port}/", clock)
    try:
        [row] = await app.service.list()
        audit = await app.service.get(row.id)
        await app.service.execute(IRO, audit.id, c.AddIroComments("Plan on track."))
        sender = TeamsSender(make_adapter(BotCredentials()), app.db, None)
        dispatcher = Dispatcher(app.db, clock, {"teams": sender}, worker="drill")
        async with _serving(fake.app(), port):
            await dispatcher.drain()
        rows = await _teams_rows(app.db)
        assert rows and all(r["attempts"] == 1 for r in rows)  # each tried once only
        dropped = [r for r in rows if r["status"] == "dropped"]
        assert [r["kind"] for r in dropped] == ["iro_comments_requested"], dropped
        assert dropped[0]["recipient"] == IRO
        to_iro = [json.dumps(s.card) for s in fake.sent if s.conversation == conversation(IRO)]
        assert not any("Your comments are needed" in card for card in to_iro), to_iro
        others = [s for s in fake.sent if s.conversation == conversation(AUDITOR) and s.card]
        assert others  # the auditor's allocation card still went
    finally:
        await app.close()
