"""A card submit, stored and answered, at 20 concurrent users, against a bare echo bot.

    .venv/bin/python bench/submit.py [--users 20] [--requests 30] [--rounds 3]
                                     [--verb answer_section]

Both bots run in this process, each on its own free port, on botbuilder's
`CloudAdapter` with anonymous auth, and both reply through a local stand-in
for the Bot Connector (tests/fake_connector.py):

- the baseline: a bare `ActivityHandler` that echoes a message's text back
  (one `send_activity`, so one connector call);
- auditbot as the tests start it (`build` + `serving`, a temporary SQLite
  file, the demo roles): 20 auditors, one audit each, each pressing
  `Action.Execute` (`adaptiveCard/action`) with verb `answer_section` on a
  graded section, with evidence text that differs every time, so each press
  is a real write (the answer, its history row, the conversation) answered
  with a receipt card in the HTTP response and the next section's card sent
  through the connector. `--verb save_and_pause` times the save that sends
  nothing through the connector.

The stand-in connector reads and counts what it receives rather than keeping
it (the real one keeps it in another process), and the run checks that every
press sent its next card. Before the echo bot starts, the modules already
imported (auditbot's among them) are frozen out of the garbage collector's
passes, as a bare echo bot's process would not hold them; auditbot's
`serving` freezes its own start-up heap the same way.

Everything runs on one event loop on one core, so a latency here is mostly
the CPU time of the 20 requests in flight; the "CPU per request" row shows it.

Each user sends its requests one after another, all users at once; latency
is from sending the HTTP request to reading the whole response. The two bots
take turns: three rounds each (echo, auditbot, echo, auditbot...), each
round a warm-up of 3 requests per user, not counted, then 30 per user; p50
and p95 are over all of a bot's rounds together. Taking turns means a slow
or fast spell of this noisy machine falls on both bots alike (when the echo
bot ran once, first, the ratio over 18 runs spread from 1.16x to 2.24x).
auditbot's `serving` changes the collector's thresholds for the whole
process, so the echo bot's rounds run with Python's own. The same client,
the same concurrency and the same connector serve both bots.

Budgets (docs/performance.md): p95 within 2x of the echo bot's p95; under 200 MB
resident. The resident memory is read from /proc/self/statm after auditbot's
run, so it counts this whole process: auditbot, the echo bot, the fake
connector and the load generator.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import sqlalchemy as sa
from aiohttp import web
from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)

from application.people import know_people
from auditbot.app import build
from auditbot.demo import ROLES_FILE
from auditbot.serve import serving
from auditbot.settings import Settings
from audits.clock import SystemClock
from audits.workflow import SYSTEM
from bench.rows import Row, percentile, rss_mb, table
from store.outbox_queue import OutboxStatus
from store.schema import outbox
from tests.support.allocations import allocation, rows
from tests.support.fake_connector import FakeConnector
from tests.support.teams import activity as teams_activity
from tests.support.teams import object_id

TENANT = "4a6d3c2b-1e0f-4a9b-8c7d-6e5f4a3b2c1d"  # a GUID, as settings require
RATIO_BUDGET = 2.0
MEMORY_BUDGET_MB = 200.0
SECTION = "risk"
WARM_UP = 3  # requests per user and round, not counted
ROUNDS = 3  # of each bot, in turn
PYTHON_THRESHOLD = gc.get_threshold()  # the collector's, before auditbot's `serving` changes it


def auditor(n: int) -> str:
    return f"auditor{n}@council.example"


# ------------------------------------------------------------------ servers


@dataclass(frozen=True)
class _Anonymous:
    """botbuilder's configuration for a bot with no app id (local clients only)."""

    APP_ID: str = ""
    APP_PASSWORD: str = ""
    APP_TYPE: str = "MultiTenant"
    APP_TENANTID: str = ""


class EchoBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(turn_context.activity.text or "")


async def _site(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server: Any = site._server
    return runner, int(server.sockets[0].getsockname()[1])


async def start_echo() -> tuple[web.AppRunner, int]:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_Anonymous()))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.StreamResponse:
        response = await adapter.process(request, bot)
        return response or web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    return await _site(app)


async def start_connector() -> tuple[FakeConnector, web.AppRunner]:
    fake = FakeConnector(keep=False)
    runner, port = await _site(fake.app())
    fake.url = f"http://127.0.0.1:{port}/"
    return fake, runner


# ------------------------------------------------------------------- load


def activity(who: str, service_url: str, n: int, **fields: Any) -> dict[str, Any]:
    """Teams' activity from `who`, its id unique in the run (a round repeats `n`)."""
    unique = f"act-{who}-{n}-{uuid.uuid4().hex[:8]}"
    return teams_activity(who, unique, service_url, TENANT, **fields)


def evidence(who: str, n: int) -> str:
    return f"Case notes read by {who}, visit {n}: the plan of {n % 28 + 1} October was reviewed."


Body = Callable[[int, int], dict[str, Any]]  # (user, request number) -> activity


async def load(
    url: str, body: Body, users: int, per_user: int, first: int = 0
) -> tuple[list[float], float]:
    """Each user sends `per_user` requests in turn (numbered from `first`, after a warm-up
    numbered before them), all users at once: seconds each, and the process's CPU
    seconds per request over the timed requests."""
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=users * 2)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def user(u: int, start: int, count: int, record: bool) -> None:
            for n in range(start, start + count):
                payload = body(u, n)
                began = time.perf_counter()
                async with http.post(url, json=payload) as response:
                    await response.read()
                    status = response.status
                took = time.perf_counter() - began
                if status not in (200, 201):
                    raise RuntimeError(f"{url} answered {status}")
                if record:
                    latencies.append(took)

        await asyncio.gather(*(user(u, first, WARM_UP, False) for u in range(users)))
        cpu = time.process_time()
        await asyncio.gather(*(user(u, first + WARM_UP, per_user, True) for u in range(users)))
        cpu = time.process_time() - cpu
    return latencies, cpu / max(1, users * per_user)


async def _outbox_empty(db: Any, seconds: float = 20.0) -> None:
    """Waits for the allocation cards to leave, so they are not sent during the timing."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        async with db.reading() as conn:
            waiting = (
                await conn.execute(
                    sa.select(sa.func.count()).where(outbox.c.status == OutboxStatus.PENDING.value)
                )
            ).scalar_one()
        if not waiting:
            return
        await asyncio.sleep(0.1)


@contextmanager
def _as_a_bare_bot() -> Iterator[None]:
    """The echo bot's rounds run with Python's own collector thresholds, as a bare bot's
    process would; auditbot's `serving` changed them for the whole process."""
    serving_threshold = gc.get_threshold()
    gc.set_threshold(*PYTHON_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*serving_threshold)


# ------------------------------------------------------------------ measure


@dataclass
class Side:
    latencies: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # per request, one per round

    def add(self, measured: tuple[list[float], float]) -> None:
        self.latencies += measured[0]
        self.cpu.append(measured[1])


async def measure(
    users: int = 20, per_user: int = 30, verb: str = "answer_section", rounds: int = ROUNDS
) -> list[Row]:
    # auditbot's modules are imported already; a bare echo bot's process would not
    # hold them, and the collector's full passes would not walk them. Frozen, they
    # cost the echo bot nothing (auditbot's `serving` freezes its own start-up heap).
    gc.freeze()
    try:
        return await _measure(users, per_user, verb, rounds)
    finally:
        gc.unfreeze()


async def _measure(users: int, per_user: int, verb: str, rounds: int) -> list[Row]:
    fake, connector_runner = await start_connector()
    echo_runner, echo_port = await start_echo()
    echo, bot = Side(), Side()
    try:
        echo_url = f"http://127.0.0.1:{echo_port}/api/messages"

        def echo_body(u: int, n: int) -> dict[str, Any]:
            who = auditor(u + 1)
            return activity(who, fake.url, n, type="message", text=evidence(who, n))

        await load(echo_url, echo_body, users, 0)  # warm: auditbot not yet built
        before = rss_mb()
        async with _auditbot(fake, users, verb) as press:
            # Rounds in turn, so both bots meet the same moments of a noisy machine.
            for r in range(rounds):
                with _as_a_bare_bot():
                    echo.add(await load(echo_url, echo_body, users, per_user))
                bot.add(await press(r * (WARM_UP + per_user), per_user))
            memory = rss_mb()
    finally:
        await echo_runner.cleanup()
        await connector_runner.cleanup()

    echo_p50, echo_p95 = (
        percentile(echo.latencies, 50) * 1000,
        percentile(echo.latencies, 95) * 1000,
    )
    bot_p50, bot_p95 = percentile(bot.latencies, 50) * 1000, percentile(bot.latencies, 95) * 1000
    ratio = bot_p95 / echo_p95
    bot_cpu, echo_cpu = sum(bot.cpu) / rounds, sum(echo.cpu) / rounds
    label = f"card submit ({verb}), {users} users"
    return [
        Row(
            f"{label}: p50",
            f"{bot_p50:.1f} ms",
            f"{echo_p50:.1f} ms (echo)",
            f"{bot_p50 / echo_p50:.2f}x",
        ),
        Row(
            f"{label}: p95",
            f"{bot_p95:.1f} ms",
            f"{echo_p95:.1f} ms (echo)",
            f"{ratio:.2f}x",
            f"< {RATIO_BUDGET:.0f}x echo",
            ratio < RATIO_BUDGET,
        ),
        Row(
            f"{label}: CPU per request (whole process)",
            f"{bot_cpu * 1000:.1f} ms",
            f"{echo_cpu * 1000:.1f} ms (echo)",
            f"{bot_cpu / echo_cpu:.2f}x",
        ),
        Row(
            "resident memory under submit load (whole process)",
            f"{memory:.0f} MB",
            f"{before:.0f} MB (before auditbot started)",
            budget=f"< {MEMORY_BUDGET_MB:.0f} MB",
            ok=memory < MEMORY_BUDGET_MB,
        ),
    ]


Press = Callable[[int, int], Awaitable[tuple[list[float], float]]]  # (first, per user)


@asynccontextmanager
async def _auditbot(fake: FakeConnector, users: int, verb: str) -> AsyncIterator[Press]:
    """auditbot serving, with an audit allocated to each of `users` auditors; yields a
    round of presses, checked: each sent its next card and the last evidence is stored."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.model_validate(
            {
                "AUDITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/submit.db",
                "AUDITBOT_ROLES_FILE": str(ROLES_FILE),
                "AUDITBOT_ALLOWED_TENANTS": TENANT,
            }
        )
        app = build(settings, clock=SystemClock())
        await app.start()
        try:
            people = [auditor(u + 1) for u in range(users)]
            async with app.db.transaction() as conn:
                await know_people(
                    conn, [(p, object_id(p), True) for p in people], app.service.clock.now()
                )
            made = await app.service.allocate(
                SYSTEM, rows(*(allocation(f"{2000001 + u}", n=u + 1) for u in range(users)))
            )
            audit_of = {o.audit.participants.auditor: o.audit.id for o in made}
            async with serving(app, "127.0.0.1", 0) as server:
                url = f"http://127.0.0.1:{server.port}/api/messages"

                def body(u: int, n: int) -> dict[str, Any]:
                    who = people[u]
                    data = {
                        "verb": verb,
                        "audit_id": audit_of[who],
                        "section": SECTION,
                        "grade": "good",
                        "evidence": evidence(who, n),
                        "impact": f"Risks reduced ({n}).",
                        "q.risks_addressed": "yes",
                    }
                    return activity(
                        who,
                        fake.url,
                        n,
                        type="invoke",
                        name="adaptiveCard/action",
                        replyToId=f"card-{who}-{n}",
                        value={
                            "action": {"type": "Action.Execute", "verb": verb, "data": data},
                            "trigger": "manual",
                        },
                    )

                async def press(first: int, per_user: int) -> tuple[list[float], float]:
                    received = fake.cards_received
                    measured = await load(url, body, users, per_user, first)
                    presses, sent = users * (WARM_UP + per_user), fake.cards_received - received
                    if verb == "answer_section" and sent < presses:
                        raise RuntimeError(f"{sent} next cards reached the connector for {presses}")
                    await _check_saved(app, audit_of, first + WARM_UP + per_user - 1)
                    return measured

                # One message each first: the bot learns every conversation, and the
                # allocation cards waiting for it leave before the timing starts.
                await load(url, _say_help(people, fake.url), users, 0)
                await _outbox_empty(app.db)
                yield press
        finally:
            await app.close()


def _say_help(people: list[str], service_url: str) -> Body:
    def body(u: int, n: int) -> dict[str, Any]:
        return activity(people[u], service_url, n, type="message", text="help")

    return body


async def _check_saved(app: Any, audit_of: dict[str, str], last: int) -> None:
    """Every press was a real write: the last evidence sent is the one stored."""
    for who, audit_id in audit_of.items():
        stored = (await app.service.get(audit_id)).answers[SECTION].evidence
        expected = evidence(who, last)
        if stored != expected:
            raise RuntimeError(f"{audit_id}: stored {stored!r}, expected {expected!r}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument(
        "--requests", type=int, default=30, help="per user and round, after the warm-up"
    )
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="for each bot, in turn")
    parser.add_argument(
        "--verb", choices=["answer_section", "save_and_pause"], default="answer_section"
    )
    args = parser.parse_args()
    print(table(asyncio.run(measure(args.users, args.requests, args.verb, args.rounds))))
