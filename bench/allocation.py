"""Allocating 200 audits: how close the outbox comes to the limits it is sent against.

    .venv/bin/python bench/allocation.py [--audits 200] [--latency-ms 100]

Set up, all in temporary folders:
- the Microsoft 365 sandbox as its own process (`python -m sandbox`), so its work
  does not share auditbot's event loop, with every request taking `--latency-ms`
  (SANDBOX_LATENCY_MS: the stand-in for Exchange's and SharePoint's own service
  time) and its Outlook limit at the default 4 concurrent requests per app;
  the directory holds every person in the allocation;
- a stand-in Bot Connector (in this process) that enforces Teams' limits:
  50 messages a second per app and 7 a second per conversation, over a sliding
  one-second window, answering 429 with Retry-After: 1 beyond them;
- auditbot as `auditbot serve` runs it (`build` + `serving`: the runner and the
  outbox dispatcher with the Graph senders and the TeamsSender), on a fresh
  SQLite file, with the real clock, and a Teams conversation already known for
  everyone (as if each had opened the bot), so no card waits for one.

Then `--audits` audits are allocated at once (each with its own social
worker, auditor and IRO, and one of ten moderators, team managers and service
managers: about 3 x audits + 30 people), and the clock starts when the
allocation has committed. It stops for each kind when the last row of that
kind has been sent.

What the ceilings are, and how they are computed:
- Calendar events (Outlook). The sandbox admits at most C = 4 Outlook requests
  of one app in flight and holds each for the injected latency L, so no client
  can get more than C / L requests a second through it (with L = 100 ms:
  40 events/s). That is the ceiling; the figure is events / elapsed divided by
  C / L. (A client that keeps exactly C in flight also pays its own round trip
  per request, so a little under 1.0 is the best it can do without being
  throttled.)
- Teams cards. The connector lets through 50 a second per app and 7 a second
  per conversation, so the fastest all N cards can leave is
  max(N / 50, max over conversations of n_c / 7) seconds; the ceiling rate is
  N divided by that, and the figure is the measured rate over it.
- Tracker items (SharePoint lists): the sandbox enforces no rate limit on
  SharePoint (only an optional outage or request budget, both off here), so
  there is no ceiling; their rate is printed for context, without a budget.
- No documents are filed at allocation (they are filed on submission), so
  there are none to time.

Budget (docs/performance.md): notifications and calendar events leave at >= 90% of the
rate limits the sandbox enforces. If the whole run would take over 3 minutes,
use fewer audits (--audits); the output says how many were used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import sqlalchemy as sa
from aiohttp import web
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

from application.people import keep_conversation, know_people
from auditbot.app import App, build
from auditbot.demo import ROLES_FILE
from auditbot.serve import serving
from auditbot.settings import Settings
from audits.allocation_csv import AllocationRow
from audits.clock import SystemClock
from audits.model import Participants
from audits.workflow import SYSTEM, Allocation
from bench.rows import Row, table
from graph.provisioning import setup_tracker
from sandbox import sandbox_env, sandbox_user_id, tls
from sandbox.faults import Faults
from sandbox.state import DB_NAME, Store
from store.outbox_queue import OutboxStatus
from store.schema import outbox

BUDGET = 0.9
PER_APP, PER_CONVERSATION = 50, 7  # Teams: messages a second
TIMEOUT = 170.0  # seconds to wait for the outbox to empty
TENANT = "4a6d3c2b-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
ROOT = Path(__file__).resolve().parent.parent
POOL = 10  # moderators, team managers and service managers shared between audits


# ----------------------------------------------------------------- people


def participants(i: int) -> Participants:
    return Participants(
        social_worker=f"sw{i}@council.example",
        auditor=f"auditor{i}@council.example",
        iro=f"iro{i}@council.example",
        moderator=f"moderator{i % POOL}@council.example",
        team_manager=f"tm{i % POOL}@council.example",
        service_manager=f"sm{i % POOL}@council.example",
    )


def allocation_rows(n: int, first: int = 0) -> list[AllocationRow]:
    return [
        AllocationRow(
            line=i + 2,
            allocation=Allocation(
                child_id=f"{3000001 + i}",
                strand="help-and-protection",
                team="Safeguarding Team 1",
                participants=participants(i),
                template="swindon-practice-evaluation",
                policy="swindon",
            ),
        )
        for i in range(first, first + n)
    ]


def everyone(n: int) -> list[str]:
    return sorted({p for i in range(n) for p in participants(i).model_dump().values()})


def seed_directory(state_dir: Path, upns: list[str]) -> None:
    """Adds the people to the sandbox's directory (its seed has only the demo staff)."""
    Store.open(state_dir).close()  # creates the schema and the seed
    db = sqlite3.connect(state_dir / DB_NAME)
    with db:
        for upn in upns:
            user = {
                "id": sandbox_user_id(upn),
                "userPrincipalName": upn,
                "mail": upn,
                "displayName": upn.split("@")[0],
                "givenName": upn.split("@")[0],
                "surname": "",
                "jobTitle": "Staff",
                "accountEnabled": True,
            }
            db.execute(
                "INSERT OR REPLACE INTO users (id, upn, data) VALUES (?, ?, ?)",
                (user["id"], upn, json.dumps(user)),
            )
    db.close()


# -------------------------------------------------------------- sandbox


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spawn_sandbox(state_dir: Path, latency_ms: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "SANDBOX_LATENCY_MS": f"{latency_ms},{latency_ms}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--state-dir", str(state_dir)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, port


async def start_sandbox_process(
    state_dir: Path, latency_ms: int
) -> tuple[subprocess.Popen[bytes], int]:
    process, port = _spawn_sandbox(state_dir, latency_ms)
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"the sandbox exited with {process.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            return process, port
        except OSError:
            await asyncio.sleep(0.05)
    process.kill()
    raise RuntimeError("the sandbox did not start")


async def sandbox_requests(port: int, ca_file: Path) -> list[dict[str, Any]]:
    context = ssl.create_default_context(cafile=str(ca_file))
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"https://127.0.0.1:{port}/_sandbox/requests", ssl=context) as response,
    ):
        body = await response.json()
    return list(body["requests"])


# ------------------------------------------------------- the Bot Connector


class LimitedConnector:
    """The Bot Connector as Teams limits it: 50/s per app, 7/s per conversation."""

    def __init__(self) -> None:
        self.url = ""
        self.accepted: list[tuple[datetime, str]] = []
        self.throttled = 0
        self._app: deque[float] = deque()
        self._threads: dict[str, deque[float]] = defaultdict(deque)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conv}/activities", self._send)
        app.router.add_post("/v3/conversations/{conv}/activities/{reply}", self._send)
        return app

    @staticmethod
    def _full(window: deque[float], now: float, limit: int) -> bool:
        while window and window[0] <= now - 1.0:
            window.popleft()
        return len(window) >= limit

    async def _send(self, request: web.Request) -> web.Response:
        await request.read()
        conversation = request.match_info["conv"]
        now = time.monotonic()
        thread = self._threads[conversation]
        if self._full(self._app, now, PER_APP) or self._full(thread, now, PER_CONVERSATION):
            self.throttled += 1
            return web.json_response(
                {"error": {"code": "Throttled"}}, status=429, headers={"Retry-After": "1"}
            )
        self._app.append(now)
        thread.append(now)
        self.accepted.append((datetime.now(UTC), conversation))
        return web.json_response({"id": f"msg-{len(self.accepted)}"})


async def start_connector() -> tuple[LimitedConnector, web.AppRunner]:
    connector = LimitedConnector()
    runner = web.AppRunner(connector.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server: Any = site._server
    connector.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    return connector, runner


def reference(upn: str, service_url: str) -> dict[str, Any]:
    ref = ConversationReference(
        activity_id="welcome",
        user=ChannelAccount(id=f"29:{upn}", aad_object_id=sandbox_user_id(upn)),
        bot=ChannelAccount(id="28:bot", name="auditbot"),
        conversation=ConversationAccount(
            id=f"a:{upn}", conversation_type="personal", tenant_id=TENANT
        ),
        channel_id="msteams",
        service_url=service_url,
    )
    serialized: dict[str, Any] = ref.serialize()
    return serialized


# ----------------------------------------------------------------- measure


async def _outbox_rows(app: App) -> list[dict[str, Any]]:
    async with app.db.reading() as conn:
        return [dict(r._mapping) for r in (await conn.execute(sa.select(outbox))).all()]


async def _wait_for_outbox(app: App, began: float) -> bool:
    while time.perf_counter() - began < TIMEOUT:
        async with app.db.reading() as conn:
            waiting = (
                await conn.execute(
                    sa.select(sa.func.count()).where(outbox.c.status == OutboxStatus.PENDING.value)
                )
            ).scalar_one()
        if not waiting:
            return True
        await asyncio.sleep(0.25)
    return False


async def measure(audits: int = 200, latency_ms: int = 100) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        state_dir = Path(tmp) / "sandbox"
        upns = everyone(audits + 1)  # one more: the warm-up audit
        seed_directory(state_dir, upns)
        sandbox, port = await start_sandbox_process(state_dir, latency_ms)
        connector, connector_runner = await start_connector()
        try:
            return await _run(tmp, state_dir, port, connector, upns, audits, latency_ms)
        finally:
            await connector_runner.cleanup()
            sandbox.terminate()
            try:
                sandbox.wait(10)
            except subprocess.TimeoutExpired:
                sandbox.kill()
                sandbox.wait()


async def _run(
    tmp: str,
    state_dir: Path,
    port: int,
    connector: LimitedConnector,
    upns: list[str],
    audits: int,
    latency_ms: int,
) -> list[Row]:
    settings = Settings.model_validate(
        {
            **sandbox_env(port, state_dir),
            "AUDITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/allocation.db",
            "AUDITBOT_ROLES_FILE": str(ROLES_FILE),
        }
    )
    app = build(settings, clock=SystemClock())
    await app.start()
    try:
        assert app.graph is not None
        await setup_tracker(app.graph)  # the tracker list, as `auditbot setup sharepoint` makes it
        now = app.service.clock.now()
        async with app.db.transaction() as conn:
            await know_people(conn, [(u, sandbox_user_id(u), True) for u in upns], now)
            for upn in upns:
                await keep_conversation(
                    conn, sandbox_user_id(upn), upn, reference(upn, connector.url), now
                )
        async with serving(app, "127.0.0.1", 0) as server:
            # Warm-up, not timed: one audit's rows pay the first Graph token and the
            # msgraph-sdk's first-use imports (several seconds, once per process).
            warm_up = await app.service.allocate(SYSTEM, allocation_rows(1, first=audits))
            server.runner.wake()
            await _wait_for_outbox(app, time.perf_counter())
            warm = len(connector.accepted)
            began_alloc = time.perf_counter()
            await app.service.allocate(SYSTEM, allocation_rows(audits))
            allocated = time.perf_counter()
            t0 = datetime.now(UTC)
            server.runner.wake()
            finished = await _wait_for_outbox(app, allocated)
            drained = time.perf_counter() - allocated
        skip = {o.audit.id for o in warm_up}
        rows = [r for r in await _outbox_rows(app) if r["audit_id"] not in skip]
        del connector.accepted[:warm]
        log = await sandbox_requests(port, tls.cert_path(state_dir))
    finally:
        await app.close()
    return _figures(
        rows, log, connector, t0, audits, latency_ms, allocated - began_alloc, drained, finished
    )


def _figures(
    rows: list[dict[str, Any]],
    log: list[dict[str, Any]],
    connector: LimitedConnector,
    t0: datetime,
    audits: int,
    latency_ms: int,
    allocate_s: float,
    drained_s: float,
    finished: bool,
) -> list[Row]:
    faults = Faults()
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_kind[row["channel"] if row["channel"] != "graph" else row["kind"]].append(row)
    unsent = Counter(k for k, rs in by_kind.items() for r in rs if r["status"] != OutboxStatus.SENT)

    def span(kind: str) -> tuple[int, float]:
        sent = [r["sent_at"] for r in by_kind.get(kind, []) if r["sent_at"] is not None]
        if not sent:
            return 0, 0.0
        last = max(_utc(s) for s in sent)
        return len(sent), (last - t0).total_seconds()

    outlook_429 = sum(1 for r in log if r["status"] == 429 and "/events" in r["path"])
    events, events_s = span("calendar")
    ceiling_events = faults.outlook_concurrency / (latency_ms / 1000)
    events_rate = events / events_s if events_s else 0.0

    cards = len(connector.accepted)
    last_card = max((t for t, _ in connector.accepted), default=t0)
    cards_s = (last_card - t0).total_seconds()
    per_thread = Counter(c for _, c in connector.accepted)
    fastest = max(cards / PER_APP, max(per_thread.values(), default=0) / PER_CONVERSATION)
    ceiling_cards = cards / fastest if fastest else float(PER_APP)
    cards_rate = cards / cards_s if cards_s else 0.0

    items, items_s = span("tracker")
    label = f"{audits} audits"
    if not finished or unsent:
        label += f" (NOT all sent in {TIMEOUT:.0f} s: {dict(unsent)})"
    out = [
        Row(
            f"allocation ({label}): calendar events/s",
            f"{events_rate:.1f}/s ({events} in {events_s:.1f} s, {outlook_429} x 429)",
            f"{ceiling_events:.0f}/s (Outlook {faults.outlook_concurrency} in flight / {latency_ms} ms)",
            f"{events_rate / ceiling_events:.2f}",
            f">= {BUDGET:.2f}",
            events_rate / ceiling_events >= BUDGET and finished,
        ),
        Row(
            f"allocation ({label}): Teams cards/s",
            f"{cards_rate:.1f}/s ({cards} in {cards_s:.1f} s, {connector.throttled} x 429)",
            f"{ceiling_cards:.0f}/s (Teams {PER_APP}/s per app, {PER_CONVERSATION}/s per chat)",
            f"{cards_rate / ceiling_cards:.2f}",
            f">= {BUDGET:.2f}",
            cards_rate / ceiling_cards >= BUDGET and finished,
        ),
        Row(
            f"allocation ({label}): tracker items/s",
            f"{items / items_s if items_s else 0:.1f}/s ({items} in {items_s:.1f} s)",
            "no limit enforced (SharePoint)",
        ),
        Row(
            f"allocation ({label}): allocate call, then outbox empty",
            f"{allocate_s:.1f} s, then {drained_s:.1f} s",
        ),
    ]
    return out


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audits", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=100)
    args = parser.parse_args()
    print(table(asyncio.run(measure(args.audits, args.latency_ms))))
