"""Fault drills: the bot killed mid-conversation, Microsoft Graph throttling and failing,
SharePoint down for an hour, activities delivered twice or racing, two instances on one
database. Each drill checks a promise of docs/architecture.md (Mechanisms):
nothing acknowledged is lost, nothing due is missing, nothing is done twice (or, where
that cannot be promised, the bound is stated and measured).

`make test` runs them small; `make drills` (AUDITBOT_DRILL_FULL=1) runs them full size.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

from application.people import keep_conversation, know_people
from application.service import AuditService
from auditbot.app import App, assemble, build
from auditbot.serve import serving
from auditbot.settings import Settings
from audits import commands as c
from audits.allocation_csv import parse_allocation_csv
from audits.catalog import load_catalog
from audits.clock import FixedClock
from audits.model import Audit, Status
from audits.reminders import Reminder, ReminderKind
from audits.workflow import SYSTEM
from bot.sender import TeamsSender
from bot.server import BotCredentials, make_adapter
from cards import notice_card
from cards.actions import Verb
from graph.provisioning import setup_tracker
from sandbox import RunningSandbox, start_sandbox
from scheduling.dispatcher import Dispatcher
from scheduling.runner import Runner, reminder_notices
from store import outbox_queue
from store.db import Database
from store.outbox_queue import OutboxRow, OutboxStatus
from store.schema import history, outbox
from tests.support.clock import START
from tests.support.council import ROLES_FILE, allocation_csv, many_csv
from tests.support.database import POSTGRES_URL, postgres_schema
from tests.support.factories import advance, fill_audit
from tests.support.fake_connector import FakeConnector, served_connector
from tests.support.people import (
    AUDITOR,
    HEAD_OF_SERVICE_CARE,
    IRO,
    QA_MANAGER,
    QA_OFFICER,
    TM,
)
from tests.support.teams import activity, conversation, object_id

pytestmark = pytest.mark.drill

FULL = os.environ.get("AUDITBOT_DRILL_FULL", "").strip() not in ("", "0", "false", "no")


def size(short: int, full: int) -> int:
    return full if FULL else short


TENANT = "5b9d4c2e-7a1f-4e0b-9c3d-2f6a8e1b7d40"
CARD = "application/vnd.microsoft.card.adaptive"
MESSAGE = "application/vnd.microsoft.activity.message"
ACTIVITY_PREFIX = "drill-"  # every activity id the drills' "Teams" sends starts with this


def _everyone(catalog_csv: str) -> list[str]:
    people = {QA_MANAGER, QA_OFFICER, HEAD_OF_SERVICE_CARE}
    for line in catalog_csv.splitlines()[1:]:
        people |= {cell for cell in line.split(",") if "@" in cell}
    return sorted(people)


def teams_activity(who: str, activity_id: str, service_url: str, **fields: Any) -> dict[str, Any]:
    return activity(who, activity_id, service_url, TENANT, **fields)


def invoke(who: str, activity_id: str, url: str, data: dict[str, Any], card: str) -> dict:
    """Action.Execute: the receipt comes back in the HTTP response."""
    return teams_activity(
        who,
        activity_id,
        url,
        type="invoke",
        name="adaptiveCard/action",
        replyToId=card,
        value={"action": {"type": "Action.Execute", "verb": data["verb"], "data": data}},
    )


def submit(who: str, activity_id: str, url: str, data: dict[str, Any], card: str) -> dict:
    """Action.Submit: a message carrying the data; the bot replaces the card."""
    return teams_activity(who, activity_id, url, type="message", value=data, replyToId=card)


def typed(who: str, activity_id: str, url: str, text: str) -> dict:
    return teams_activity(who, activity_id, url, type="message", text=text)


def _teams_reference(upn: str, service_url: str) -> dict[str, Any]:
    return ConversationReference(
        activity_id=None,
        user=ChannelAccount(id=f"29:{upn}", aad_object_id=object_id(upn)),
        bot=ChannelAccount(id="28:bot", name="auditbot"),
        conversation=ConversationAccount(
            id=conversation(upn), conversation_type="personal", tenant_id=TENANT
        ),
        channel_id="msteams",
        locale="en-GB",
        service_url=service_url,
    ).serialize()


def expected_cards(rows: list[OutboxRow]) -> dict[str, Counter[str]]:
    """Per conversation, the cards the sent `teams` outbox rows stand for (as JSON text)."""
    found: dict[str, Counter[str]] = {}
    for row in rows:
        card = json.dumps(notice_card(row.kind, row.payload), sort_keys=True)
        found.setdefault(conversation(row.recipient), Counter())[card] += 1
    return found


def received_cards(connector: FakeConnector, conv: str) -> Counter[str]:
    return Counter(
        json.dumps(card, sort_keys=True)
        for card in connector.cards_not_replying_to(conv, ACTIVITY_PREFIX)
    )


async def _teams_rows(db: Database) -> list[OutboxRow]:
    async with db.reading() as conn:
        return [r for r in await outbox_queue.outbox_rows(conn) if r.channel == "teams"]


# =====================================================================================
# 1. kill -9 while four people answer
# =====================================================================================


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class BotProcess:
    """`auditbot serve` as a real process, killed and started again by the drill."""

    env: dict[str, str]
    cwd: Path
    port: int
    proc: asyncio.subprocess.Process | None = None
    up: asyncio.Event = field(default_factory=asyncio.Event)
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.starts += 1
        command = ["-m", "auditbot.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with (self.cwd / f"serve-{self.starts}.log").open("wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, *command, env=self.env, cwd=self.cwd, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                assert self.proc.returncode is None, self.log_tail()
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            self.up.set()
                            return
                await asyncio.sleep(0.05)
        raise AssertionError("auditbot serve did not come up:\n" + self.log_tail())

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as when a container is torn down."""
        self.up.clear()
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    def log_tail(self) -> str:
        path = self.cwd / f"serve-{self.starts}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@dataclass
class Step:
    """One thing a person does, sent until the bot acknowledges it."""

    activity: dict[str, Any]
    kind: str  # "invoke" | "submit" | "typed"
    check: Callable[[Audit], bool] | None = None  # what the store must show afterwards
    audit_id: str | None = None
    acknowledged: bool = False
    tries: int = 0
    already: bool = False  # acknowledged as "already saved": an earlier try was stored


class Person:
    def __init__(self, upn: str, bot: BotProcess, steps: Callable[[int], Step]) -> None:
        self.upn, self.bot, self.make = upn, bot, steps
        self.done: list[Step] = []

    async def run(self, stop: asyncio.Event, rng: random.Random) -> None:
        n = 0
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
            while not stop.is_set():
                step = self.make(n)
                n += 1
                await self._deliver(http, step)
                self.done.append(step)
                await asyncio.sleep(rng.uniform(0.0, 0.05))

    async def _deliver(self, http: aiohttp.ClientSession, step: Step) -> None:
        while True:
            await self.bot.up.wait()
            step.tries += 1
            try:
                async with http.post(f"{self.bot.url}/api/messages", json=step.activity) as r:
                    text = await r.text()
                    status = r.status
            except (aiohttp.ClientError, TimeoutError):
                await asyncio.sleep(0.05)  # Teams redelivers the same activity
                continue
            assert status in (200, 201), (status, text)
            if step.kind == "invoke":
                body = json.loads(text)
                if body["type"] == MESSAGE:
                    assert "already" in str(body["value"]).lower(), body
                    step.already = True
                else:
                    assert body["type"] == CARD, body  # the receipt
            step.acknowledged = True
            return


async def _prepare_kill_drill(settings: Settings, actions: int) -> dict[str, str]:
    """Four audits; the moderator's is submitted and the manager owns actions on another."""
    app = build(settings)
    await app.start()
    try:
        text = allocation_csv(1, 2, 3, 4)
        async with app.db.transaction() as conn:
            now = app.service.clock.now()
            await know_people(conn, [(p, object_id(p), True) for p in _everyone(text)], now)
        outcomes = await app.service.allocate(SYSTEM, parse_allocation_csv(text, app.catalog))
        a1, a2, a3, _ = (o.audit for o in outcomes)
        template = app.catalog.template(a3.template)
        await fill_audit(app.service, a3.id, a3.participants.auditor, template)
        await app.service.execute(a3.participants.auditor, a3.id, c.Submit())
        due = app.service.calendar.local_date(app.service.clock.now()) + timedelta(days=30)
        for k in range(actions):
            await app.service.execute(
                a2.participants.auditor,
                a2.id,
                c.AddAction(
                    f"Update the chronology, part {k + 1}, this month",
                    a2.participants.team_manager,
                    due,
                ),
            )
        return {
            "answer": a1.id,
            "comments": a1.id,
            "comments2": a2.id,
            "moderate": a3.id,
            "actions": a2.id,
        }
    finally:
        await app.close()


async def test_kill_9_while_four_people_answer(tmp_path: Path) -> None:
    """`auditbot serve` is SIGKILLed at random moments while an auditor, an IRO, a
    moderator and a manager answer through the real endpoint; it is started again each
    time and they carry on, redelivering (same activity id) what got no answer.

    Promised and asserted: every answer the bot acknowledged (a receipt card, "already
    saved", or a 2xx for an Action.Submit) is in the store, once; every card the outbox
    owes the four people reaches the fake connector, none missing.

    "Exactly once" at the edge, honestly: a kill that lands after the connector has
    taken a card but before its outbox row is marked sent leaves the row claimed; when
    the claim lapses the card is sent again. So delivery is at-least-once there, and the
    drill asserts the bound instead of hiding it: duplicates only for rows that were
    claimed by a killed process, no more copies than the row's extra attempts, at most
    one per kill per conversation (a lane sends one row at a time). The number seen is
    printed.
    """
    kills = size(2, 20)
    rng = random.Random(int(os.environ.get("AUDITBOT_DRILL_SEED", "0")) or None)
    seed = rng.randrange(1 << 30)
    rng = random.Random(seed)
    async with served_connector() as connector:
        db_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
        settings_env = {
            "AUDITBOT_DATABASE_URL": db_url,
            "AUDITBOT_ROLES_FILE": str(ROLES_FILE),
            "AUDITBOT_ALLOWED_TENANTS": TENANT,
        }
        settings = Settings.model_validate(settings_env)
        ids = await _prepare_kill_drill(settings, actions=size(4, 12))
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AUDITBOT_", "Microsoft", "SANDBOX_"))
        }
        env |= settings_env | {"AUDITBOT_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
        bot = BotProcess(env, tmp_path, _free_port())
        url = connector.url
        template = load_catalog().template("swindon-practice-evaluation")
        sections = [s.id for s in template.graded_sections if s.id != template.overall_section]
        to_moderate = list(sections)

        def auditor(n: int) -> Step:
            who = AUDITOR
            if n % 5 == 4:
                return Step(typed(who, f"{ACTIVITY_PREFIX}ava-{n}", url, "my audits"), "typed")
            section = sections[n % len(sections)]
            evidence = f"evidence {n} for {section}"
            data = {
                "verb": Verb.ANSWER_SECTION.value,
                "audit_id": ids["answer"],
                "section": section,
                "grade": "good" if n % 2 else "requires_improvement",
                "evidence": evidence,
                "impact": "The plan is moving on",
            }
            return Step(
                invoke(who, f"{ACTIVITY_PREFIX}ava-{n}", url, data, f"ava-card-{n}"),
                "invoke",
                None,  # the last answer per section is checked at the end
                ids["answer"],
            )

        def iro(n: int) -> Step:
            who = IRO
            if n % 4 == 3:
                return Step(typed(who, f"{ACTIVITY_PREFIX}ira-{n}", url, "help"), "typed")
            audit_id = ids["comments"] if n % 2 else ids["comments2"]
            text = f"IRO comment number {n}"
            data = {"verb": Verb.IRO_COMMENTS.value, "audit_id": audit_id, "comments": text}
            return Step(
                invoke(who, f"{ACTIVITY_PREFIX}ira-{n}", url, data, f"ira-card-{n}"),
                "invoke",
                lambda a, t=text: [x.text for x in a.iro_comments].count(t) == 1,
                audit_id,
            )

        def moderator(n: int) -> Step:
            who = "mona.mod@council.example"
            if n >= len(to_moderate) or n % 3 == 2:
                return Step(typed(who, f"{ACTIVITY_PREFIX}mona-{n}", url, "resume"), "typed")
            section = to_moderate[n]
            data = {
                "verb": Verb.MODERATE_SECTION.value,
                "audit_id": ids["moderate"],
                "section": section,
                "decision": "agree",
            }
            return Step(
                submit(who, f"{ACTIVITY_PREFIX}mona-{n}", url, data, f"mona-card-{n}"),
                "submit",
                lambda a, s=section: a.moderation is not None and s in a.moderation.sections,
                ids["moderate"],
            )

        actions = size(4, 12)

        def manager(n: int) -> Step:
            who = TM
            if n >= actions:
                return Step(typed(who, f"{ACTIVITY_PREFIX}tia-{n}", url, "my audits"), "typed")
            data = {
                "verb": Verb.COMPLETE_ACTION.value,
                "audit_id": ids["actions"],
                "action": str(n + 1),
                "evidence": f"done {n + 1}",
            }
            return Step(
                invoke(who, f"{ACTIVITY_PREFIX}tia-{n}", url, data, f"tia-card-{n}"),
                "invoke",
                lambda a, k=n + 1: (
                    a.actions[k - 1].evidence == f"done {k}"
                    and a.actions[k - 1].status.value == "completed"
                ),
                ids["actions"],
            )

        people = [
            Person(AUDITOR, bot, auditor),
            Person(IRO, bot, iro),
            Person("mona.mod@council.example", bot, moderator),
            Person(TM, bot, manager),
        ]
        stop = asyncio.Event()
        await bot.start()
        tasks = [asyncio.create_task(p.run(stop, random.Random(rng.random()))) for p in people]
        try:
            for _ in range(kills):
                await asyncio.sleep(rng.uniform(0.1, 1.0))
                await bot.kill()
                await bot.start()
            await asyncio.sleep(0.5)
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), 60)
            await _until_quiet(settings, people)
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            if bot.proc and bot.proc.returncode is None:
                await bot.kill()

        # The claims a killed process held lapse; whoever runs next sends those rows.
        await _send_lapsed(settings, connector)

        app = build(settings)
        try:
            await _check_answers(app, people, ids)
            rows = await _teams_rows(app.db)
        finally:
            await app.close()
    conversations = {conversation(p.upn) for p in people}
    mine = [r for r in rows if conversation(r.recipient) in conversations]
    # Sent, or dropped: held past a kill, what it asked for was done by then.
    done = (OutboxStatus.SENT, OutboxStatus.DROPPED)
    assert mine and all(r.status in done for r in mine), [
        (r.kind, r.status, r.last_error) for r in mine if r.status not in done
    ]
    expected = expected_cards([r for r in mine if r.status == OutboxStatus.SENT])
    duplicated: list[str] = []
    for conv in conversations:
        got = received_cards(connector, conv)
        want = expected.get(conv, Counter())
        missing = want - got
        assert not missing, f"{conv}: {sum(missing.values())} card(s) never arrived"
        extra = got - want
        # A lane sends one row at a time, so each kill can leave at most one card of a
        # conversation sent but not marked: at most one extra copy per kill.
        assert sum(extra.values()) <= kills, f"{conv}: more duplicates than kills"
        # Extra copies only of rows a killed process had claimed: one per extra attempt
        # (a row caught in flight by two kills in a row is sent three times).
        resent: Counter[str] = Counter()
        for r in mine:
            if conversation(r.recipient) == conv and r.attempts > 1:
                card_json = json.dumps(notice_card(r.kind, r.payload), sort_keys=True)
                resent[card_json] += r.attempts - 1
        for card, copies in extra.items():
            assert copies <= resent[card], "a duplicate of a card that was not in flight"
        duplicated += list(extra.elements())
        assert sum(extra.values()) <= kills, "more than one duplicate per kill in one chat"
    acknowledged = sum(len(p.done) for p in people)
    retried = sum(1 for p in people for s in p.done if s.tries > 1)
    print(
        f"\nkill drill (seed {seed}): {kills} kills, {acknowledged} activities acknowledged, "
        f"{retried} redelivered after a kill, {sum(s.already for p in people for s in p.done)} "
        f"found already saved, 0 lost; {len(mine)} cards owed "
        f"({sum(r.status == OutboxStatus.DROPPED for r in mine)} dropped as no longer true), "
        f"{len(duplicated)} duplicate(s) from a kill between the connector and the outbox commit"
    )


async def _until_quiet(settings: Settings, people: list[Person], seconds: float = 30) -> None:
    """Until the running bot has sent every card it can (rows not claimed by a dead one)."""
    convs = {p.upn for p in people}
    deadline = time.monotonic() + seconds
    app = build(settings)
    try:
        while time.monotonic() < deadline:
            rows = await _teams_rows(app.db)
            now = datetime.now(UTC)
            waiting = [
                r
                for r in rows
                if r.recipient in convs
                and r.status == OutboxStatus.PENDING
                and _aware(r.available_at) <= now + timedelta(seconds=1)
            ]
            if not waiting:
                return
            await asyncio.sleep(0.1)
    finally:
        await app.close()
    raise AssertionError("the bot did not send what it owed")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _send_lapsed(settings: Settings, connector: FakeConnector) -> None:
    """Another instance, ten minutes on: the claims of killed processes have lapsed."""
    later = FixedClock(datetime.now(UTC) + timedelta(minutes=10))
    app = build(settings, clock=later)
    try:
        adapter = make_adapter(BotCredentials())
        sender = TeamsSender(adapter, app.db, None)
        await Dispatcher(app.db, later, {"teams": sender}, worker="drill-after").drain()
    finally:
        await app.close()


async def _check_answers(app: App, people: list[Person], ids: dict[str, str]) -> None:
    for person in people:
        for step in person.done:
            assert step.acknowledged
            if step.check is not None and step.audit_id is not None:
                audit = await app.service.get(step.audit_id)
                assert step.check(audit), (person.upn, step.activity["value"])
    # The auditor's answers: each section holds the last one acknowledged for it.
    audit = await app.service.get(ids["answer"])
    last: dict[str, str] = {}
    for step in people[0].done:
        if step.kind == "invoke":
            data = step.activity["value"]["action"]["data"]
            last[data["section"]] = data["evidence"]
    for section, evidence in last.items():
        assert audit.answers[section].evidence == evidence, section
    # Each applied once: one history entry per acknowledged change.
    async with app.db.reading() as conn:
        trail = (
            await conn.execute(
                sa.select(history.c.what, history.c.new).where(
                    history.c.audit_id.in_([ids["answer"], ids["comments2"]])
                )
            )
        ).all()
    evidences = Counter(
        new for what, new in trail if what.endswith(".evidence") and isinstance(new, str)
    )
    assert all(n == 1 for n in evidences.values()), evidences


# =====================================================================================
# 2 and 3. Microsoft Graph: a fault storm; SharePoint down for an hour
# =====================================================================================


@contextlib.asynccontextmanager
async def m365_app(tmp_path: Path) -> AsyncIterator[tuple[App, RunningSandbox]]:
    sandbox = await start_sandbox(tmp_path / "sandbox", port=0)
    settings = Settings.model_validate(
        {
            **sandbox.env(),
            "AUDITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'graph.db'}",
            "AUDITBOT_ROLES_FILE": str(ROLES_FILE),
            "AUDITBOT_MAIL_SENDER": "auditbot@council.example",
        }
    )
    app = build(settings, clock=FixedClock(START))
    await app.start()
    try:
        assert app.graph is not None
        await setup_tracker(app.graph)  # as the admin does, before the first allocation
        yield app, sandbox
    finally:
        await app.close()
        await sandbox.stop()


async def _allocate_many(app: App, n: int) -> list[Audit]:
    rows = parse_allocation_csv(many_csv(n), app.catalog)
    return [o.audit for o in await app.service.allocate(SYSTEM, rows)]


async def _drive(app: App, audit: Audit, upto: Status) -> None:
    """Takes an audit through the workflow as its people would, as far as `upto`, the
    IRO/CP chair commenting first."""
    await advance(app.service, audit, upto.value, iro_comments="On track")


async def _pending_graph(app: App) -> list[OutboxRow]:
    async with app.db.reading() as conn:
        return [
            r
            for r in await outbox_queue.outbox_rows(conn)
            if r.channel in ("graph", "email") and r.status == OutboxStatus.PENDING
        ]


async def _send_until_done(app: App, until: datetime | None = None, rounds: int = 5000) -> int:
    """The runner's loop with a controllable clock: send what is due, then move the clock
    to when the next row may be tried (as a runner sleeping until then would).
    With `until`, stops when the clock would pass it. Returns the rounds run."""
    assert app.dispatcher is not None
    clock = app.service.clock
    assert isinstance(clock, FixedClock)
    for n in range(rounds):
        await app.dispatcher.drain()
        waiting = await _pending_graph(app)
        if not waiting:
            return n
        # Rows behind a lane's head may be due already; the head is what waits.
        later = [t for r in waiting if (t := _aware(r.available_at)) > clock.now()]
        assert later, "rows are due but the dispatcher takes none"
        nxt = min(later)
        if until is not None and nxt > until:
            clock.advance(until - clock.now())
            return n
        clock.advance(nxt - clock.now())
    raise AssertionError("the outbox did not empty")


def _sandbox_db(sandbox: RunningSandbox) -> sqlite3.Connection:
    db = sqlite3.connect(f"file:{sandbox.state_dir / 'sandbox.db'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    return db


async def _requests(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        url = f"{sandbox.base_url}/_sandbox/requests"
        async with http.get(url, ssl=_ssl(sandbox)) as response:
            return list((await response.json())["requests"])


def _ssl(sandbox: RunningSandbox) -> Any:
    import ssl

    return ssl.create_default_context(cafile=str(sandbox.ca_file))


async def _dead(app: App) -> list[tuple[str, str]]:
    async with app.db.reading() as conn:
        return [
            (r.kind, r.last_error)
            for r in (
                await conn.execute(
                    sa.select(outbox.c.kind, outbox.c.last_error).where(
                        outbox.c.status == OutboxStatus.DEAD
                    )
                )
            ).all()
        ]


def _uploads(requests: list[dict[str, Any]]) -> list[str]:
    """The paths of the documents SharePoint accepted, in the order it accepted them."""
    return [
        r["path"].split("root:/", 1)[1].split(":", 1)[0]
        for r in requests
        if r["method"] == "PUT" and "root:/" in r["path"] and r["status"] in (200, 201)
    ]


async def test_graph_fault_storm_gives_one_of_everything(tmp_path: Path) -> None:
    """30% of Graph requests refused (429 and 503, with Retry-After) and random latency,
    while several audits are allocated and taken through their steps: every calendar
    event, filed document and tracker item is in Microsoft 365 exactly once, and each
    document was accepted once (no second upload of the same stage)."""
    from audits.wording import event_subject

    n = size(2, 12)
    async with m365_app(tmp_path) as (app, sandbox):
        audits = await _allocate_many(app, n)  # directory lookups: before the storm
        sandbox.faults.update(
            {"rate_429": 0.2, "rate_503": 0.1, "retry_after": 0.5, "latency_ms": [0, 15]}
        )
        sandbox.faults.seed = random.randrange(1 << 30)
        stages = [Status.CLOSED, Status.SUBMITTED, Status.ALLOCATED, Status.MODERATED]
        for i, audit in enumerate(audits):
            await _drive(app, audit, stages[i % len(stages)])
            if i % 2:
                await _send_until_done(app)  # some sent as they go, some piled up
        await _send_until_done(app)
        sandbox.faults.update({"rate_429": 0.0, "rate_503": 0.0, "latency_ms": [0, 0]})
        async with app.db.reading() as conn:
            attempts = (
                (
                    await conn.execute(
                        sa.select(outbox.c.attempts).where(outbox.c.channel == "graph")
                    )
                )
                .scalars()
                .all()
            )
        assert max(attempts) > 1  # the storm was met
        assert await _dead(app) == []
        final = {a.id: await app.service.get(a.id) for a in audits}
        requests = await _requests(sandbox)

    db = _sandbox_db(sandbox)
    try:
        users = {r["id"]: r["upn"].lower() for r in db.execute("SELECT id, upn FROM users")}
        events = Counter(
            (users[r["user_id"]], json.loads(r["data"])["subject"])
            for r in db.execute("SELECT user_id, data FROM events")
        )
        files = {
            r["name"]: r["version"]
            for r in db.execute("SELECT name, version FROM drive_items WHERE is_folder = 0")
        }
        items = [json.loads(r["fields"]) for r in db.execute("SELECT fields FROM list_items")]
    finally:
        db.close()
    # Calendar: one event per open deadline, on its owner's calendar; nothing else.
    wanted = Counter(
        (d.owner.lower(), event_subject(a.child_id, d.step))
        for a in final.values()
        for d in a.deadlines.values()
        if d.open
    )
    assert events == wanted
    # Files: every stage reached, filed once, accepted once.
    stage_names = {Status.SUBMITTED: ["submitted"], Status.MODERATED: ["submitted", "moderated"]}
    stage_names[Status.CLOSED] = ["submitted", "moderated", "closed"]
    expected_files = {
        f"audit-{a.id}-{stage}.docx"
        for a in final.values()
        for stage in stage_names.get(a.status, [])
    }
    assert set(files) == expected_files
    assert set(files.values()) <= {1}
    accepted = Counter(path.rsplit("/", 1)[1] for path in _uploads(requests))
    assert accepted == Counter(dict.fromkeys(expected_files, 1))
    # Tracker: one item per audit, showing where it is now.
    assert sorted(i["AuditId"] for i in items) == sorted(final)
    for item in items:
        assert item["Status"] == final[item["AuditId"]].status.label
    created = [
        r
        for r in requests
        if r["method"] == "POST" and r["path"].endswith("/items") and r["status"] == 201
    ]
    assert len(created) == len(final)
    refused = sum(1 for r in requests if r["status"] in (429, 503))
    print(
        f"\nGraph fault storm: {len(final)} audits, {len(requests)} requests ({refused} refused), "
        f"{sum(events.values())} events, {len(files)} documents, {len(items)} tracker items; "
        "0 lost, 0 duplicates"
    )


async def test_sharepoint_down_for_an_hour_then_back(tmp_path: Path) -> None:
    """SharePoint refuses everything (503 with the sandbox's Retry-After) for an hour of
    the dispatcher's clock while audits are submitted, moderated and closed; then it is
    back. Every filing completes, none is dead-lettered, and each audit's documents were
    accepted in the order of its stages (submitted, moderated, closed)."""
    n = size(1, 6)
    async with m365_app(tmp_path) as (app, sandbox):
        audits = await _allocate_many(app, n)
        await _send_until_done(app)
        sandbox.faults.sharepoint_down = True
        down_at = app.service.clock.now()
        for audit in audits:
            await _drive(app, audit, Status.CLOSED)
        rounds = await _send_until_done(app, until=down_at + timedelta(hours=1))
        assert app.service.clock.now() - down_at == timedelta(hours=1)
        assert await _dead(app) == [], "filings given up during the outage"
        waiting = [r.kind for r in await _pending_graph(app)]
        assert waiting.count("file") == 3 * n
        sandbox.faults.sharepoint_down = False
        back_at = app.service.clock.now()
        await _send_until_done(app)
        assert await _dead(app) == []
        # Used again within a minute of coming back (a probe every 30 s), not after the
        # longest backoff any row had reached.
        recovered = app.service.clock.now() - back_at
        assert recovered <= timedelta(seconds=60), recovered
        requests = await _requests(sandbox)
        tracker = {}
        db = _sandbox_db(sandbox)
        try:
            for r in db.execute("SELECT fields FROM list_items"):
                fields = json.loads(r["fields"])
                tracker[fields["AuditId"]] = fields
        finally:
            db.close()
    uploads = _uploads(requests)
    for audit in audits:
        mine = [p.rsplit("/", 1)[1] for p in uploads if f"audit-{audit.id}-" in p]
        assert mine == [f"audit-{audit.id}-{s}.docx" for s in ("submitted", "moderated", "closed")]
        assert tracker[audit.id]["Status"] == "Closed"
        assert tracker[audit.id]["Document"]
    refused = sum(1 for r in requests if r["status"] == 503)
    print(
        f"\nSharePoint outage: {rounds} dispatcher rounds in the hour, {refused} requests "
        f"refused, everything filed {recovered.total_seconds():.0f} s after it was back"
    )


# =====================================================================================
# 4. The same activity twice; card submits racing
# =====================================================================================

BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


@contextlib.asynccontextmanager
async def database(kind: str, path: Path) -> AsyncIterator[Database]:
    if kind == "postgres":
        async with postgres_schema() as db:
            yield db
        return
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.ensure_schema()
    try:
        yield db
    finally:
        await db.dispose()


def _service(db: Database, clock: Any) -> AuditService:
    from audits.roles import load_standing_roles
    from audits.workdays import WorkingCalendar

    return AuditService(
        db=db,
        catalog=load_catalog(),
        calendar=WorkingCalendar(),
        standing=load_standing_roles(ROLES_FILE),
        clock=clock,
    )


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_same_activity_twice_and_racing_submits_apply_once(
    backend: str, tmp_path: Path
) -> None:
    """Teams redelivers an activity (same id), and a double-clicked card sends two
    identical invokes at once (asyncio.gather, same card id): each is applied once, the
    history shows one change, and every copy is answered (a receipt or "already saved")."""
    settings = Settings.model_validate(
        {"AUDITBOT_ROLES_FILE": str(ROLES_FILE), "AUDITBOT_ALLOWED_TENANTS": TENANT}
    )
    racers = size(2, 8)
    async with database(backend, tmp_path / "race.db") as db, served_connector() as connector:
        service = _service(db, FixedClock(START))
        app = assemble(settings, service)
        text = allocation_csv(1)
        async with db.transaction() as conn:
            await know_people(conn, [(p, object_id(p), True) for p in _everyone(text)], START)
        [outcome] = await service.allocate(SYSTEM, parse_allocation_csv(text, service.catalog))
        audit = outcome.audit
        auditor, iro = audit.participants.auditor, audit.participants.iro or ""
        async with serving(app, "127.0.0.1", 0) as server:
            url = f"http://127.0.0.1:{server.port}/api/messages"

            async def post(activity: dict[str, Any]) -> tuple[int, Any]:
                async with aiohttp.ClientSession() as http, http.post(url, json=activity) as r:
                    body = await r.text()
                    return r.status, json.loads(body) if body.startswith("{") else body

            template = service.catalog.template(audit.template)
            section = template.graded_sections[0].id
            answer = {
                "verb": Verb.ANSWER_SECTION.value,
                "audit_id": audit.id,
                "section": section,
                "grade": "good",
                "evidence": "Read the case notes",
                "impact": "Safer",
            }
            # One activity delivered twice, one after the other.
            first = invoke(auditor, "drill-a1", connector.url, answer, "card-a")
            replies = [await post(first), await post(first)]
            # The same card pressed twice at once: two activities, one card.
            again = {**answer, "section": template.graded_sections[1].id}
            replies += await asyncio.gather(
                *(
                    post(invoke(auditor, f"drill-a2-{i}", connector.url, again, "card-b"))
                    for i in range(racers)
                )
            )
            # Identical copies of one activity, at once.
            comments = {"verb": Verb.IRO_COMMENTS.value, "audit_id": audit.id, "comments": "x1"}
            same = invoke(iro, "drill-i1", connector.url, comments, "card-c")
            replies += await asyncio.gather(*(post(same) for _ in range(racers)))
            # An Action.Submit (message) delivered twice at once.
            third = {**answer, "section": template.graded_sections[2].id}
            sub = submit(auditor, "drill-a3", connector.url, third, "card-d")
            replies += await asyncio.gather(*(post(sub) for _ in range(racers)))

        trail = await service.history(audit.id)
        final = await service.get(audit.id)
    invokes = [body for status, body in replies if isinstance(body, dict) and "type" in body]
    assert all(status in (200, 201) for status, _ in replies), replies
    kinds = Counter(body["type"] for body in invokes)
    assert kinds[CARD] == 3, kinds  # one receipt per distinct action
    assert kinds[MESSAGE] == len(invokes) - 3
    evidence = [h for h in trail if str(h.what).endswith(".evidence")]
    assert sorted(h.what for h in evidence) == sorted(
        f"answers.{s.id}.evidence" for s in template.graded_sections[:3]
    ), evidence
    assert [cm.text for cm in final.iro_comments] == ["x1"]
    assert sum(1 for h in trail if h.what == "iro_comments") == 1
    print(
        f"\nsame activity twice and racing submits ({backend}): {len(replies)} presses, "
        f"{len(replies)} acknowledged, 4 changes stored once each, 0 lost, 0 duplicates"
    )


# =====================================================================================
# 5. Two instances on one database
# =====================================================================================

# Without AUDITBOT_TEST_POSTGRES_URL (a developer's machine) the drill still runs, on
# SQLite, where BEGIN IMMEDIATE serialises the two instances: the id says which it was.
SHARED = ["postgres"] if POSTGRES_URL else ["sqlite-serialised"]


@contextlib.asynccontextmanager
async def two_engines(kind: str, path: Path) -> AsyncIterator[tuple[Database, Database]]:
    """Two Database objects (two engines, two connection pools) on one database."""
    if kind == "postgres":
        assert POSTGRES_URL
        schema = postgres_schema()
        first = await schema.__aenter__()
        second = Database(
            POSTGRES_URL, connect_args={"server_settings": {"search_path": schema.name}}
        )
        try:
            yield first, second
        finally:
            await second.dispose()
            await schema.__aexit__(None, None, None)
        return
    first, second = Database(f"sqlite+aiosqlite:///{path}"), Database(f"sqlite+aiosqlite:///{path}")
    await first.ensure_schema()
    try:
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()


def _superseded(r: Reminder, planned: list[Reminder], now: datetime) -> bool:
    """The runner's documented rule: after a gap, one catch-up nudge per step, the latest."""
    if r.kind is ReminderKind.ESCALATION:
        return False
    return any(
        o.step == r.step
        and o.kind is not ReminderKind.ESCALATION
        and o.key != r.key
        and r.at < o.at <= now
        for o in planned
    )


@pytest.mark.parametrize("backend", SHARED)
async def test_two_instances_send_every_reminder_once(backend: str, tmp_path: Path) -> None:
    """Two runner + dispatcher pairs, each with its own engine, share one database while
    the clock moves through the month: every nudge and escalation that falls due is
    written once (outbox keys unique, none missing), and every card reaches the fake
    connector exactly once. (No process dies here, so exactly once is exact.)"""
    import yaml

    from audits.roles import load_standing_roles
    from audits.workdays import WorkingCalendar

    n, days = size(4, 30), size(5, 25)
    clock = FixedClock(START)
    catalog, calendar = load_catalog(), WorkingCalendar()
    standing = load_standing_roles(ROLES_FILE)
    async with (
        two_engines(backend, tmp_path / "shared.db") as (db1, db2),
        served_connector() as connector,
    ):
        service = _service(db1, clock)
        text = many_csv(n)
        people = set(_everyone(text))
        people |= {v for v in _strings(yaml.safe_load(ROLES_FILE.read_text())) if "@" in v}
        async with db1.transaction() as conn:
            await know_people(conn, [(p, object_id(p), True) for p in people], START)
            for p in people:
                await keep_conversation(
                    conn, object_id(p), p, _teams_reference(p, connector.url), START
                )
        audits = [
            o.audit for o in await service.allocate(SYSTEM, parse_allocation_csv(text, catalog))
        ]
        pairs = []
        for i, db in enumerate((db1, db2)):
            worker = f"instance-{i + 1}"
            runner = Runner(db, catalog, calendar, standing, clock, worker)
            sender = TeamsSender(make_adapter(BotCredentials()), db, None)
            # Small batches, so that neither instance takes all the work in one claim.
            dispatcher = Dispatcher(db, clock, {"teams": sender}, worker=worker, batch=3)
            pairs.append((runner, dispatcher))

        async def instance(runner: Runner, dispatcher: Dispatcher) -> None:
            await runner.tick()
            await dispatcher.drain()

        ticks = []
        end = START + timedelta(days=days)
        while True:
            ticks.append(clock.now())
            await asyncio.gather(*(instance(r, d) for r, d in pairs))
            if clock.now() >= end:
                break
            clock.advance(timedelta(hours=1))
        await asyncio.gather(*(d.drain() for _, d in pairs))
        rows = await _teams_rows(db1)

    # Every reminder due by the end, written once.
    wanted: set[str] = set()
    for audit in audits:
        planned = service.reminders(audit)
        for r in planned:
            if r.at > end:
                continue
            fired = next(t for t in ticks if t >= r.at)
            if _superseded(r, planned, fired):
                continue
            for notice in reminder_notices(audit, r, fired, standing):
                wanted.add(f"{r.key}@{r.at.isoformat()}:{notice.to}")
    keys = [r.key for r in rows if r.kind in ("nudge", "escalation")]
    assert len(keys) == len(set(keys))
    assert set(keys) == wanted
    kinds = Counter(r.kind for r in rows)
    assert kinds["nudge"] and kinds["escalation"], kinds
    # Every row sent, each once, to the connector.
    assert all(r.status == OutboxStatus.SENT for r in rows), Counter(r.status for r in rows)
    expected = expected_cards(rows)
    for conv in {conversation(p) for p in people}:
        assert received_cards(connector, conv) == expected.get(conv, Counter()), conv
    shares = Counter(r.claimed_by for r in rows)
    assert set(shares) == {"instance-1", "instance-2"}, shares  # both did some of the work
    print(f"\ntwo instances ({backend}): {len(audits)} audits, {len(rows)} cards, {shares}")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
