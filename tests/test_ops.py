"""Operations: settings checked at start, `auditbot doctor` against the sandbox, `/readyz`,
`auditbot outbox` list and retry, and JSON logs without answer text."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web

from auditbot import logs
from auditbot.app import WORKER_NAME_MAX, build, worker_name
from auditbot.cli import main
from auditbot.cli_doctor import check_bot_credentials
from auditbot.health import ReadinessLimits, add_readiness_route
from auditbot.logs import configure_logging
from auditbot.settings import Settings
from audits import commands as c
from audits.catalog import load_catalog
from audits.clock import FixedClock
from audits.grades import Grade
from audits.roles import StandingRoles
from audits.workdays import WorkingCalendar
from sandbox import CLIENT_ID, CLIENT_SECRET, TENANT, RunningSandbox
from scheduling.dispatcher import Dispatcher
from scheduling.runner import Runner, run
from store import outbox_queue
from store.db import Database
from store.schema import outbox, people
from tests.support.apps import settings as test_settings
from tests.support.clock import START
from tests.support.council import ROLES_FILE, allocate_sample
from tests.support.people import AUDITOR, IRO, QA_OFFICER

SECRET_ANSWER = "Mum told me about the bruise on Tuesday ZQX-7731"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A working directory without .env, and none of the machine's own settings."""
    for key in list(os.environ):
        if key.startswith(("AUDITBOT_", "Microsoft")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUDITBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}")
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ----------------------------------------------------------------- settings at start


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AUDITBOT_DATABASE_URL", "postgres://someone@db/auditbot"),
        ("AUDITBOT_DATABASE_URL", "not a url at all"),
        ("MicrosoftAppType", "SingleTennant"),
        ("AUDITBOT_ALLOWED_TENANTS", "72f988bf-86f1-41af-91ab-2d7cd011db47,council.example"),
        ("AUDITBOT_LOG_LEVEL", "LOUD"),
        ("AUDITBOT_LOG_FORMAT", "xml"),
        ("MicrosoftAppId", "my-bot"),
        ("AUDITBOT_GRAPH_URL", "https://graph.microsoft.com/v1.0"),  # without the rest
        ("AUDITBOT_PRIVACY_URL", "http://www.council.example/privacy"),
        ("AUDITBOT_OPERATOR", "Quinn from QA"),  # recorded in the history: an address
    ],
)
def test_a_wrong_setting_stops_start_up_naming_it(env, capsys, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    code, out, err = _run(capsys, "audits")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and name in err, err


def test_single_tenant_bot_needs_its_tenant(env, capsys, monkeypatch):
    monkeypatch.setenv("MicrosoftAppId", "3f2b8c1e-9d4a-4b6e-8f0a-1c2d3e4f5a6b")
    monkeypatch.setenv("MicrosoftAppPassword", "s3cret")
    code, _, err = _run(capsys, "audits")
    assert code == 1 and "MicrosoftAppTenantId" in err
    monkeypatch.setenv("MicrosoftAppTenantId", "72f988bf-86f1-41af-91ab-2d7cd011db47")
    assert _run(capsys, "audits")[0] == 0


def test_settings_come_from_a_dot_env_file(env, capsys):
    (env / ".env").write_text("MicrosoftAppType=Bogus\n")
    code, _, err = _run(capsys, "audits")
    assert code == 1 and "MicrosoftAppType" in err


# --------------------------------------------------------------------------- doctor


@pytest.fixture
def m365_env(env: Path, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key, value in sandbox.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AUDITBOT_ROLES_FILE", str(ROLES_FILE))
    monkeypatch.setenv("AUDITBOT_MAIL_SENDER", "auditbot@council.example")
    return env


async def _doctor(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, str]]:
    # The sandbox serves on this loop; the CLI runs its own loop in a thread, as it would alone.
    code = await asyncio.to_thread(main, ["doctor", *argv])
    out, _ = capsys.readouterr()
    lines = {}
    for line in out.splitlines():
        mark, rest = line.split(maxsplit=1)
        assert mark in ("ok", "warn", "FAIL", "skip"), line
        name, _, detail = rest.partition("  ")
        lines[name.strip()] = f"{mark} {detail.strip()}"
    return code, lines


async def test_doctor_passes_against_the_sandbox(m365_env, capsys):
    assert await asyncio.to_thread(main, ["setup", "sharepoint"]) == 0
    capsys.readouterr()
    code, lines = await _doctor(capsys)
    assert code == 0, lines
    for check in (
        "settings",
        "templates",
        "standing roles",
        "database",
        "graph token",
        "sharepoint site",
        "tracker list",
        "directory",
        "calendar",
        "mail sender",
    ):
        assert lines[check].startswith("ok "), (check, lines[check])
    assert QA_OFFICER in lines["calendar"]  # the roles file's QA officer
    assert lines["bot credentials"].startswith("skip ")  # no MicrosoftAppId: anonymous


async def test_doctor_names_a_wrong_client_secret(m365_env, capsys, monkeypatch):
    monkeypatch.setenv("AUDITBOT_CLIENT_SECRET", "the-secret-id-not-its-value")
    code, lines = await _doctor(capsys)
    assert code == 1
    assert lines["graph token"].startswith("FAIL ")
    assert "AUDITBOT_CLIENT_SECRET" in lines["graph token"]
    assert "sharepoint site" not in lines  # nothing further can be tried without a token


async def test_doctor_names_a_wrong_site_and_mailbox(m365_env, capsys, monkeypatch):
    monkeypatch.setenv("AUDITBOT_SHAREPOINT_SITE", "contoso.sharepoint.com,wrong")
    code, lines = await _doctor(capsys, "--mailbox", "nobody@council.example")
    assert code == 1
    assert lines["graph token"].startswith("ok ")
    assert lines["sharepoint site"].startswith("FAIL ")
    assert "AUDITBOT_SHAREPOINT_SITE" in lines["sharepoint site"]
    assert lines["calendar"].startswith("FAIL ") and "nobody@council.example" in lines["calendar"]


async def test_doctor_names_an_unreachable_database_and_a_bad_tenant_list(
    m365_env, capsys, monkeypatch
):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    monkeypatch.setenv("AUDITBOT_DATABASE_URL", f"postgresql+asyncpg://qa@127.0.0.1:{closed}/x")
    monkeypatch.setenv("AUDITBOT_ALLOWED_TENANTS", "council.example")
    code, lines = await _doctor(capsys)
    assert code == 1
    assert lines["database"].startswith("FAIL ") and "AUDITBOT_DATABASE_URL" in lines["database"]
    assert lines["settings"].startswith("FAIL ") and "AUDITBOT_ALLOWED_TENANTS" in lines["settings"]


async def test_doctor_refuses_a_malformed_setting_without_trying_further(env, capsys, monkeypatch):
    monkeypatch.setenv("MicrosoftAppType", "Personal")
    code, lines = await _doctor(capsys)
    assert code == 1
    assert list(lines) == ["settings"] and "MicrosoftAppType" in lines["settings"]


async def test_bot_credentials_are_tried_at_the_token_endpoint(sandbox):
    ca = str(sandbox.ca_file)
    good = await check_bot_credentials(CLIENT_ID, CLIENT_SECRET, TENANT, sandbox.base_url, ca)
    assert good.ok is True
    bad = await check_bot_credentials(CLIENT_ID, "wrong", TENANT, sandbox.base_url, ca)
    assert bad.ok is False and "MicrosoftAppPassword" in bad.detail
    tenant = await check_bot_credentials(
        CLIENT_ID, CLIENT_SECRET, "elsewhere", sandbox.base_url, ca
    )
    assert tenant.ok is False and "MicrosoftAppTenantId" in tenant.detail


# --------------------------------------------------------------------------- /readyz


class Beat:
    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.at = clock.now()

    def __call__(self) -> Any:
        return self.at


async def _serve_readyz(db: Database, beat: Beat, clock: FixedClock) -> tuple[web.AppRunner, str]:
    app = web.Application()
    add_readiness_route(app, db, beat, clock, ReadinessLimits(timeout=3.0))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/readyz"


async def _get(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


async def test_readyz_follows_the_sqlite_database_going_and_coming_back(tmp_path):
    folder = tmp_path / "data"
    db = Database(f"sqlite+aiosqlite:///{folder / 'auditbot.db'}")
    await db.ensure_schema()
    clock = FixedClock(START)
    runner, url = await _serve_readyz(db, Beat(clock), clock)
    try:
        status, body = await _get(url)
        assert (status, body["status"], body["failing"]) == (200, "ready", [])
        assert body["checks"]["outbox"]["pending"] == 0

        folder.rename(tmp_path / "moved")
        status, body = await _get(url)
        assert status == 503
        assert [f.split(":")[0] for f in body["failing"]] == ["database"]

        (tmp_path / "moved").rename(folder)
        status, body = await _get(url)
        assert status == 200 and body["failing"] == []
    finally:
        await runner.cleanup()
        await db.dispose()


async def test_readyz_is_unready_when_postgresql_does_not_answer():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    db = Database(f"postgresql+asyncpg://qa:pw@127.0.0.1:{closed}/auditbot")
    clock = FixedClock(START)
    runner, url = await _serve_readyz(db, Beat(clock), clock)
    try:
        status, body = await _get(url)
        assert status == 503 and body["failing"][0].startswith("database: ")
    finally:
        await runner.cleanup()
        await db.dispose()


async def test_readyz_watches_the_runner_and_the_outbox(db):
    clock = FixedClock(START)
    beat = Beat(clock)
    runner, url = await _serve_readyz(db, beat, clock)
    try:
        beat.at = None
        status, body = await _get(url)
        assert status == 503 and body["failing"] == ["runner: the outbox runner has not started"]
        beat.at = START - timedelta(minutes=5)
        status, body = await _get(url)
        assert status == 503 and body["failing"][0].startswith("runner: ")
        beat.at = START

        async with db.transaction() as conn:
            await outbox_queue.enqueue_items(conn, [_item("late")], START - timedelta(hours=2))
        status, body = await _get(url)
        assert status == 503 and body["failing"][0].startswith("outbox: ")
        assert body["checks"]["outbox"]["pending"] == 1
        assert body["checks"]["outbox"]["oldest_pending_age_seconds"] == 7200

        # Waiting for a Retry-After is not the runner falling behind.
        async with db.transaction() as conn:
            await conn.execute(outbox.update().values(available_at=START + timedelta(minutes=1)))
        status, body = await _get(url)
        assert status == 200, body
    finally:
        await runner.cleanup()


async def test_cards_queued_behind_a_parked_card_do_not_make_the_runner_behind(db):
    """A person who never opened the bot: their first card is parked for hours (no
    conversation), and the cards queued behind it in their lane wait for it, not for
    the runner. Those rows, 25 minutes old, must not make /readyz 503."""
    clock = FixedClock(START)
    runner, url = await _serve_readyz(db, Beat(clock), clock)
    try:
        queued = START - timedelta(minutes=25)
        async with db.transaction() as conn:
            await outbox_queue.enqueue_items(
                conn, [_item(f"card-{i}", "newcomer@council.example") for i in range(3)], queued
            )
            first = (await conn.execute(sa.select(sa.func.min(outbox.c.id)))).scalar_one()
            # parked: the sender found no conversation and put it off by hours
            await conn.execute(
                outbox.update()
                .where(outbox.c.id == first)
                .values(available_at=START + timedelta(hours=6), attempts=1)
            )
        status, body = await _get(url)
        assert status == 200, body
        assert body["checks"]["outbox"]["pending"] == 3
        assert body["checks"]["outbox"]["longest_wait_to_send_seconds"] == 0

        # A row that is first of its own lane and has waited as long still counts.
        async with db.transaction() as conn:
            await outbox_queue.enqueue_items(conn, [_item("stuck")], queued)
        status, body = await _get(url)
        assert status == 503 and "the runner is behind" in body["failing"][0]
    finally:
        await runner.cleanup()


async def _claim_one_with(db: Database, worker: str, clock: FixedClock) -> tuple[list[str], Runner]:
    """Runs the real runner loop with claims named `worker` until one row is sent or
    rounds have failed three times in a row; returns what was sent, and the runner."""
    sent: list[str] = []

    async def sender(row: Any) -> None:  # the network edge
        sent.append(row.key)

    catalog = load_catalog()
    runner = Runner(db, catalog, WorkingCalendar(), StandingRoles(), clock, worker)
    dispatcher = Dispatcher(db, clock, {"graph": sender}, worker=worker)
    stop = asyncio.Event()
    loop = asyncio.create_task(run(runner, dispatcher, stop))
    try:
        for _ in range(200):
            if sent or runner.failing:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await loop
    return sent, runner


async def test_a_long_host_name_still_makes_a_worker_name_that_fits(db, monkeypatch):
    """`claimed_by` is 64 characters on PostgreSQL; a 63-character host name (Kubernetes
    pods, Azure Container Apps replicas) plus the pid must still fit, and the runner
    must still claim and send with it."""
    monkeypatch.setattr(socket, "gethostname", lambda: "h" * 63)
    worker = worker_name()
    assert len(worker) <= WORKER_NAME_MAX and worker.endswith(f"-{os.getpid()}")
    async with db.transaction() as conn:
        await outbox_queue.enqueue_items(conn, [_item("due")], START)
    sent, runner = await _claim_one_with(db, worker, FixedClock(START))
    assert sent == ["due"] and runner.failing is None


async def test_readyz_says_not_ready_while_the_runner_keeps_failing(db):
    """A runner whose every round fails (here: a worker name PostgreSQL refuses as too
    long for `claimed_by`) makes /readyz 503, naming the failure; on SQLite, which does
    not check lengths, the same name works and the instance stays ready."""
    clock = FixedClock(START)
    async with db.transaction() as conn:
        await outbox_queue.enqueue_items(conn, [_item("due")], START)
    sent, runner = await _claim_one_with(db, "w" * 100, clock)
    if db.url.get_backend_name() == "postgresql":
        assert not sent and runner.failing and "too long" in runner.failing
    else:
        assert sent == ["due"] and runner.failing is None
    web_app = web.Application()
    add_readiness_route(
        web_app, db, lambda: runner.heartbeat, clock, failing=lambda: runner.failing
    )
    served = web.AppRunner(web_app)
    await served.setup()
    site = web.TCPSite(served, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        status, body = await _get(f"http://127.0.0.1:{port}/readyz")
    finally:
        await served.cleanup()
    if db.url.get_backend_name() == "postgresql":
        assert status == 503, body
        assert body["failing"][0].startswith("runner: the outbox runner is failing: ")
    else:
        assert status == 200, body


async def test_readyz_is_wired_into_a_served_app_by_the_caller(db):
    """The function only adds a route: the bot's own routes stay as they were."""

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    clock = FixedClock(START)
    add_readiness_route(app, db, Beat(clock), clock)
    assert {r.resource.canonical for r in app.router.routes()} >= {"/healthz", "/readyz"}


# ---------------------------------------------------------------------------- outbox


def _item(key: str, recipient: str = AUDITOR) -> outbox_queue.OutboxItem:
    return outbox_queue.OutboxItem(
        key=key,
        channel="graph",
        kind="calendar_event",
        recipient=recipient,
        lane=f"graph:{recipient}",
        payload={"subject": "Audit 202611-001", "child_name": "Not Logged"},
        audit_id="202611-001",
    )


def test_outbox_lists_and_retries_a_dead_row(env, capsys):
    url = os.environ["AUDITBOT_DATABASE_URL"]

    async def seed() -> int:
        db = Database(url)
        await db.ensure_schema()
        async with db.transaction() as conn:
            await outbox_queue.enqueue_items(
                conn,
                [_item("a:1"), _item("b:1", IRO)],
                START - timedelta(hours=3),
            )
            dead_id = (await outbox_queue.outbox_rows(conn))[1].id
            await outbox_queue.mark_failed(
                conn, dead_id, "403 ErrorAccessDenied: Access is denied to the mailbox", None
            )
            await conn.execute(outbox.update().where(outbox.c.id == dead_id).values(attempts=10))
        await db.dispose()
        return int(dead_id)

    dead_id = asyncio.run(seed())

    code, out, _ = _run(capsys, "outbox", "--dead")
    assert code == 0
    (header, row) = out.splitlines()
    assert header.split()[:4] == ["ID", "WHAT", "RECIPIENT", "TRIES"]
    assert row.split()[:4] == [
        str(dead_id),
        "graph:calendar_event",
        IRO,
        "10",
    ]
    assert "ErrorAccessDenied" in row and "Not Logged" not in out

    code, out, _ = _run(capsys, "outbox", "--json")
    pending = json.loads(out)
    assert [r["recipient"] for r in pending] == [AUDITOR]
    assert pending[0]["age_seconds"] > 0

    assert _run(capsys, "outbox", "retry", str(dead_id))[0] == 0
    code, out, _ = _run(capsys, "outbox", "--dead")
    assert (code, out) == (0, "No dead-lettered rows.\n")
    code, out, _ = _run(capsys, "outbox", "--json")
    again = {r["id"]: r for r in json.loads(out)}[dead_id]
    assert again["attempts"] == 0  # a fresh retry budget

    code, _, err = _run(capsys, "outbox", "retry", str(dead_id))
    assert code == 1 and "pending, not dead-lettered" in err
    code, _, err = _run(capsys, "outbox", "retry", "9999")
    assert code == 1 and "no outbox row 9999" in err


# ------------------------------------------------------------------------------ logs


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    yield
    for handler in [h for h in root.handlers if h.get_name() == "auditbot"]:
        root.removeHandler(handler)
    root.setLevel(level)
    for name in logs.QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)


async def test_json_log_lines_parse_and_carry_no_answer_text(tmp_path, restore_logging):
    settings = test_settings(
        tmp_path, {"AUDITBOT_LOG_LEVEL": "debug", "AUDITBOT_LOG_FORMAT": "json"}
    )
    stream = io.StringIO()
    configure_logging(settings, stream=stream)
    app = build(settings, clock=FixedClock(START))
    await app.start()
    try:
        (audit,) = await allocate_sample(app.service, 1)
        template = app.catalog.template(audit.template)
        section = next(s for s in template.sections if s.kind.value == "graded")
        await app.service.execute(
            audit.participants.auditor,
            audit.id,
            c.AnswerSection(
                section=section.id,
                grade=Grade.GOOD.value,
                evidence=SECRET_ANSWER,
                impact=SECRET_ANSWER,
                values={},
            ),
        )
        log = logging.getLogger("auditbot.test")
        log.info(
            "answer stored",
            extra={"audit_id": audit.id, "section": section.id, "evidence": SECRET_ANSWER},
        )
        try:  # a database error quotes the statement's parameters
            async with app.db.transaction() as conn:
                person = {"upn": "dup@council.example", "enabled": True, "resolved_at": START}
                await conn.execute(people.insert(), [person, person])
        except sa.exc.IntegrityError:
            log.exception("could not queue", extra={"audit_id": audit.id})
    finally:
        await app.close()

    output = stream.getvalue()
    records = [json.loads(line) for line in output.splitlines()]
    assert len(records) >= 2 and SECRET_ANSWER not in output
    assert "Not Logged" not in output
    for r in records:
        assert {"time", "level", "logger", "message"} <= set(r)
    stored = next(r for r in records if r["message"] == "answer stored")
    assert stored["audit_id"] == audit.id and stored["section"] == section.id
    assert stored["evidence"] == logs.WITHHELD
    failed = next(r for r in records if r["message"] == "could not queue")
    assert failed["level"] == "ERROR" and failed["error"] == "IntegrityError"
    assert "UNIQUE" in failed["traceback"] or "unique" in failed["traceback"]


def test_text_logs_when_asked(tmp_path, restore_logging):
    settings = Settings.model_validate(
        {"AUDITBOT_LOG_LEVEL": "INFO", "AUDITBOT_LOG_FORMAT": "text"}
    )
    stream = io.StringIO()
    configure_logging(settings, default_format="json", stream=stream)
    logging.getLogger("auditbot.test").info("plain words")
    (line,) = stream.getvalue().splitlines()
    assert line.endswith("INFO auditbot.test: plain words")
    # Unset, the caller's default decides: `serve` asks for JSON.
    settings = Settings.model_validate({"AUDITBOT_LOG_LEVEL": "INFO"})
    configure_logging(settings, default_format="json", stream=stream)
    logging.getLogger("auditbot.test").info("now json")
    assert json.loads(stream.getvalue().splitlines()[-1])["message"] == "now json"
