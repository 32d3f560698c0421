"""Microsoft 365 end to end: the real MSAL and msgraph-sdk against the local sandbox over HTTPS.

Nothing of ours is mocked: audits go through the use cases, the outbox through
the dispatcher, and the sandbox is asked afterwards what it received.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import docx
import httpx
import pytest
import sqlalchemy as sa
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.sites.item.lists.item.items.items_request_builder import ItemsRequestBuilder

from application.ports import CalendarEvent, GraphThrottled
from auditbot.app import App, build
from auditbot.settings import Settings
from audits import commands as c
from audits.allocation_csv import AllocationRefused, parse_allocation_csv
from audits.clock import FixedClock
from audits.grades import Grade
from audits.workflow import SYSTEM
from graph.provisioning import setup_tracker
from sandbox import RunningSandbox
from store.outbox_queue import OutboxStatus
from store.schema import outbox
from tests.support.apps import started_app
from tests.support.clock import START
from tests.support.council import allocate_sample, allocation_csv
from tests.support.factories import advance
from tests.support.people import AUDITOR, HEAD_OF_SERVICE_CARE, IRO, MOD, QA_MANAGER, SM, SW

SENDER = "auditbot@council.example"


@pytest.fixture
async def app(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[App]:
    async with started_app(tmp_path, {**sandbox.env(), "AUDITBOT_MAIL_SENDER": SENDER}) as running:
        yield running


async def _send_all(app: App, rounds: int = 200) -> None:
    """Sends the outbox as the runner would, letting time pass for retries."""
    assert app.dispatcher is not None
    clock = app.service.clock
    assert isinstance(clock, FixedClock)
    for _ in range(rounds):
        await app.dispatcher.drain()
        async with app.db.reading() as conn:
            waiting = (
                await conn.execute(
                    sa.select(sa.func.count())
                    .select_from(outbox)
                    .where(
                        outbox.c.status == OutboxStatus.PENDING,
                        outbox.c.channel.in_(["graph", "email"]),
                    )
                )
            ).scalar_one()
        if not waiting:
            return
        clock.advance(timedelta(seconds=30))
    raise AssertionError("the outbox did not empty")


async def _events(app: App, upn: str) -> list:
    assert app.graph is not None
    found = await app.graph.client.users.by_user_id(upn).events.get()
    return list(found.value or []) if found else []


async def _tracker(app: App) -> list[dict]:
    assert app.graph is not None
    query = ItemsRequestBuilder.ItemsRequestBuilderGetQueryParameters(expand=["fields"])
    items = (
        await app.graph.client.sites.by_site_id("sandbox-site")
        .lists.by_list_id("audit-tracker")
        .items.get(RequestConfiguration(query_parameters=query))
    )
    return [i.fields.additional_data for i in items.value]


async def _sandbox_json(sandbox: RunningSandbox, path: str) -> object:
    async with httpx.AsyncClient(verify=str(sandbox.ca_file)) as http:
        response = await http.get(f"{sandbox.base_url}{path}")
        response.raise_for_status()
        return response.json()


async def test_allocation_refuses_unknown_and_disabled_accounts(app):
    text = allocation_csv(1, 2).replace("sid.worker@council.example", "nobody.here@council.example")
    text = text.replace("gus.group@council.example", "left.council@council.example")
    text += (
        allocation_csv(3)
        .splitlines()[1]
        .replace("pat.pa@council.example", "left.council@council.example")
        + "\n"
    )
    rows = parse_allocation_csv(text, app.catalog)
    with pytest.raises(AllocationRefused) as refused:
        await app.service.allocate(SYSTEM, rows)
    assert refused.value.problems == [
        (3, "nobody.here@council.example has no account in the directory"),
        (4, "left.council@council.example is a disabled account"),
    ]
    assert await app.service.list() == []


async def test_deadlines_become_calendar_events_that_move_and_go(app, sandbox):
    [audit] = await allocate_sample(app.service, 1)
    await _send_all(app)
    [iro_event] = await _events(app, IRO)
    assert iro_event.subject == "Audit 1234567 – IRO/CP chair comments due"
    assert "Sam" not in (iro_event.body.content or "")  # never a name
    assert iro_event.show_as.value == "free" and iro_event.categories == ["auditbot"]
    assert iro_event.is_reminder_on
    [audit_event] = await _events(app, AUDITOR)
    assert audit_event.subject == "Audit 1234567 – audit due"

    for day in ("2026-11-27", "2026-12-02", "2026-12-04"):
        await app.service.execute(
            QA_MANAGER,
            audit.id,
            c.ExtendDeadline("audit_completion", day, "Social worker on leave"),
        )
        await _send_all(app)
    [moved] = await _events(app, AUDITOR)
    assert moved.id == audit_event.id
    assert moved.end.date_time.startswith("2026-12-04T17:30")

    await app.service.execute(
        QA_MANAGER, audit.id, c.Reassign("iro", "ian.chair@council.example", "IRO on leave")
    )
    await _send_all(app)
    assert await _events(app, IRO) == []
    [moved_iro] = await _events(app, "ian.chair@council.example")
    assert moved_iro.subject == iro_event.subject

    await app.service.execute("ian.chair@council.example", audit.id, c.AddIroComments("On track"))
    await _send_all(app)
    assert await _events(app, "ian.chair@council.example") == []


async def test_an_event_deleted_in_outlook_comes_back_when_the_deadline_moves(app, sandbox):
    """The auditor deletes their deadline in Outlook; the deadline is extended: the move
    meets 404 ErrorItemNotFound, so the event is made again, once, at the new time."""
    [audit] = await allocate_sample(app.service, 1)
    await _send_all(app)
    [deleted] = await _events(app, AUDITOR)
    assert sandbox.delete_event_as_user(AUDITOR, deleted.id)
    assert await _events(app, AUDITOR) == []
    for day in ("2026-12-02", "2026-12-04"):
        await app.service.execute(
            QA_MANAGER,
            audit.id,
            c.ExtendDeadline("audit_completion", day, "Social worker on leave"),
        )
        await _send_all(app)
        [again] = await _events(app, AUDITOR)
        assert again.id != deleted.id
        assert again.end.date_time.startswith(f"{day}T17:30")
    async with app.db.reading() as conn:
        dead = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(outbox)
                .where(outbox.c.status == OutboxStatus.DEAD)
            )
        ).scalar_one()
    assert dead == 0
    # Deleted again, and the deadline moved back to a time it had before: a new event
    # again, not the deleted one the mailbox remembers for that time.
    assert sandbox.delete_event_as_user(AUDITOR, again.id)
    await app.service.execute(
        QA_MANAGER, audit.id, c.ExtendDeadline("audit_completion", "2026-12-02", "Back again")
    )
    await _send_all(app)
    [third] = await _events(app, AUDITOR)
    assert third.end.date_time.startswith("2026-12-02T17:30")


async def _close(app: App, audit, grade: Grade = Grade.GOOD):
    """Closed, with an action for the social worker; an Inadequate one only moderated
    (the case of concern keeps it open)."""
    await advance(
        app.service,
        audit,
        "moderated" if grade is Grade.INADEQUATE else "closed",
        grade=grade,
        action="Update the chronology with the last three months of visits",
    )


async def test_documents_filed_and_tracker_kept(app, sandbox):
    [audit, other] = await allocate_sample(app.service, 1, 2)
    await _close(app, audit)
    await _send_all(app)
    assert app.graph is not None
    drive = await app.graph.client.sites.by_site_id("sandbox-site").drive.get()
    for stage in ("submitted", "moderated", "closed"):
        path = f"2026/11/1234567/audit-{audit.id}-{stage}.docx"
        content = (
            await app.graph.client.drives.by_drive_id(drive.id)
            .items.by_drive_item_id(f"root:/{path}:")
            .content.get()
        )
        text = "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs)
        assert "Swindon Practice Evaluation Audit Tool" in text
    fields = {f["AuditId"]: f for f in await _tracker(app)}
    assert set(fields) == {audit.id, other.id}  # one item per audit, however many updates
    assert fields[audit.id]["Status"] == "Closed"
    assert fields[audit.id]["ModeratedGrade"] == "Good"
    assert fields[audit.id]["Document"].endswith(".docx") or fields[audit.id]["Document"]
    assert fields[other.id]["Status"] == "Allocated"


async def test_case_of_concern_is_emailed(app, sandbox):
    [audit] = await allocate_sample(app.service, 2)
    await _close(app, audit, Grade.INADEQUATE)
    await _send_all(app)
    assert app.graph is not None
    sent = (
        await app.graph.client.users.by_user_id(SENDER)
        .mail_folders.by_mail_folder_id("sentitems")
        .messages.get()
    )
    to = sorted(m.to_recipients[0].email_address.address for m in sent.value)
    # Swindon: the service manager, the head of service and the director for the area,
    # the HoS for Practice, Performance and QA and the QA inbox (tests' roles file), and
    # the QA manager (the policy's own option).
    director, hos_qa, inbox = (
        "dara.director@council.example",
        "petra.hosqa@council.example",
        "qa.inbox@council.example",
    )
    assert to == sorted([SM, QA_MANAGER, HEAD_OF_SERVICE_CARE, director, hos_qa, inbox])
    assert all(
        m.subject == f"Case of concern: audit {audit.id}, child's ID 2345678" for m in sent.value
    )


async def test_faults_still_give_exactly_one_of_everything(app, sandbox):
    audits = await allocate_sample(app.service, 1, 2, 3)
    sandbox.faults.rate_429 = 0.3
    sandbox.faults.rate_503 = 0.2
    sandbox.faults.retry_after = 0.01
    sandbox.faults.seed = 7
    await _close(app, audits[0])
    await _send_all(app)
    sandbox.faults.rate_429 = sandbox.faults.rate_503 = 0.0
    async with app.db.reading() as conn:
        attempts = (
            (await conn.execute(sa.select(outbox.c.attempts).where(outbox.c.channel == "graph")))
            .scalars()
            .all()
        )
    assert max(attempts) > 1  # faults were met and ridden out
    async with app.db.reading() as conn:
        dead = (
            await conn.execute(
                sa.select(outbox.c.kind, outbox.c.last_error).where(
                    outbox.c.status == OutboxStatus.DEAD
                )
            )
        ).all()
    assert dead == []
    for upn in (
        AUDITOR,
        IRO,
        "ian.chair@council.example",
    ):
        subjects = [e.subject for e in await _events(app, upn)]
        assert len(subjects) == len(set(subjects)), subjects
    assert app.graph is not None
    ids = [f["AuditId"] for f in await _tracker(app)]
    assert sorted(ids) == sorted(a.id for a in audits)


async def test_sharepoint_outage_waits_then_completes(app, sandbox):
    sandbox.faults.sharepoint_down = True
    [audit] = await allocate_sample(app.service, 1)
    await _close(app, audit)
    assert app.dispatcher is not None
    await app.dispatcher.drain()
    async with app.db.reading() as conn:
        stuck = (
            await conn.execute(
                sa.select(outbox.c.kind, outbox.c.last_error)
                .where(outbox.c.status == OutboxStatus.PENDING, outbox.c.channel == "graph")
                .order_by(outbox.c.id)
            )
        ).all()
    assert {k for k, _ in stuck} >= {"file", "tracker"}
    # The first filing waits for SharePoint; the later ones wait behind it, in order.
    assert ["503" in (e or "") for k, e in stuck if k == "file"] == [True, False, False]
    sandbox.faults.sharepoint_down = False
    await _send_all(app)
    async with app.db.reading() as conn:
        dead = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(outbox)
                .where(outbox.c.status == OutboxStatus.DEAD)
            )
        ).scalar_one()
    assert dead == 0


async def test_a_rejected_request_is_dead_lettered_with_its_reason(sandbox, tmp_path):
    settings = Settings.model_validate(
        {
            **sandbox.env(),
            "AUDITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
            "AUDITBOT_TRACKER_LIST": "no-such-list",
        }
    )
    app = build(settings, clock=FixedClock(START))
    await app.start()
    try:
        await allocate_sample(app.service, 1)
        await _send_all(app)
        async with app.db.reading() as conn:
            dead = (
                await conn.execute(
                    sa.select(outbox.c.kind, outbox.c.last_error).where(
                        outbox.c.status == OutboxStatus.DEAD
                    )
                )
            ).all()
        assert [k for k, _ in dead] == ["tracker"]
        assert "404" in dead[0][1]
    finally:
        await app.close()


async def test_large_document_goes_through_an_upload_session(app, sandbox):
    assert app.graph is not None
    content = bytes(range(256)) * (5 * 1024 * 4 + 7)  # a little over 5 MB
    filed = await app.graph.upload("2026/11/9999999/big.docx", content)
    drive = await app.graph.client.sites.by_site_id("sandbox-site").drive.get()
    back = (
        await app.graph.client.drives.by_drive_id(drive.id)
        .items.by_drive_item_id(filed.item_id)
        .content.get()
    )
    assert back == content
    log = await _sandbox_json(sandbox, "/_sandbox/requests")
    assert any("createUploadSession" in r["path"] for r in log["requests"])


async def test_directory_lookups_ride_out_throttling(app, sandbox):
    sandbox.faults.rate_429 = 0.3
    sandbox.faults.retry_after = 0.01
    sandbox.faults.seed = 3
    audits = await allocate_sample(app.service, 1, 2, 3, 4)
    assert len(audits) == 4
    log = await _sandbox_json(sandbox, "/_sandbox/requests")
    batches = [r for r in log["requests"] if r["path"].endswith("$batch")]
    assert len(batches) >= 2  # the throttled lookups were asked again


async def test_the_app_is_installed_for_people_who_never_opened_it(sandbox, tmp_path):
    settings = Settings.model_validate(
        {
            **sandbox.env(),
            "AUDITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'i.db'}",
            "AUDITBOT_TEAMS_APP_ID": "auditbot-app",
        }
    )
    app = build(settings, clock=FixedClock(START))
    await app.start()
    try:
        assert app.graph is not None
        await setup_tracker(app.graph)
        await allocate_sample(app.service, 1, 4)  # ava.auditor is the auditor of both
        await _send_all(app)
        assert app.graph is not None
        for upn in (
            AUDITOR,
            SW,
            IRO,
            MOD,
        ):
            installed = await app.graph.client.users.by_user_id(upn).teamwork.installed_apps.get()
            assert len(installed.value) == 1, upn
        async with app.db.reading() as conn:
            dead = (
                await conn.execute(
                    sa.select(sa.func.count())
                    .select_from(outbox)
                    .where(outbox.c.status == OutboxStatus.DEAD)
                )
            ).scalar_one()
        assert dead == 0  # the second install for the same person (409) is not an error
    finally:
        await app.close()


async def test_filed_documents_show_people_by_their_directory_names(app, sandbox):
    """The directory's display names, learnt at the allocation, are what the filed
    document shows for the allocation's people, not their addresses."""
    [audit] = await allocate_sample(app.service, 1)
    await _close(app, audit)
    await _send_all(app)
    assert app.graph is not None
    drive = await app.graph.client.sites.by_site_id("sandbox-site").drive.get()
    path = f"2026/11/1234567/audit-{audit.id}-submitted.docx"
    content = (
        await app.graph.client.drives.by_drive_id(drive.id)
        .items.by_drive_item_id(f"root:/{path}:")
        .content.get()
    )
    cells = [
        cell.text
        for table in docx.Document(io.BytesIO(content)).tables
        for row in table.rows
        for cell in row.cells
    ]
    assert "Ava Auditor" in cells and "Ira Iro" in cells
    assert audit.participants.auditor not in cells
    # The tracker too: people by name, the strand in the form's words, not its code.
    [item] = [f for f in await _tracker(app) if f["AuditId"] == audit.id]
    assert (item["Auditor"], item["Moderator"]) == ("Ava Auditor", "Mo Moderator")
    assert item["Strand"] == "Help and protection"


async def test_calendar_fan_out_keeps_each_mailboxs_own_four(app, sandbox):
    """200 events over 20 mailboxes at once: Outlook's 4 concurrent requests are per
    mailbox, so more than 4 are in flight together, and none is refused for concurrency."""
    people = [f"fan{n}@council.example" for n in range(20)]
    for upn in people:
        sandbox.add_user(upn, upn.split("@")[0])
    sandbox.faults.latency_ms = (40, 40)  # Exchange's service time: the requests overlap
    assert app.graph is not None
    start = START.replace(tzinfo=None)
    event = CalendarEvent("Audit due", "<p>Due</p>", start, start + timedelta(minutes=30), 15, "x")
    ids = await asyncio.gather(
        *(app.graph.create_event(people[n % 20], event, f"fan-{n}") for n in range(200))
    )
    assert len(set(ids)) == 200
    log = await _sandbox_json(sandbox, "/_sandbox/requests")
    assert [r for r in log["requests"] if r["status"] == 429] == []
    assert sandbox.outlook_peak_in_flight > 4
    assert app.graph.outlook.peak_in_flight > 4
    for upn in people:
        assert len(await _events(app, upn)) == 10


async def test_a_mailboxs_budget_is_kept_and_retry_after_waited(sandbox, tmp_path):
    """The client keeps each mailbox's request budget itself: with Exchange's budget made
    small, the client waits for the window rather than being refused."""
    sandbox.faults.update({"outlook_budget": 3, "outlook_budget_window_s": 0.5})
    async with started_app(tmp_path, sandbox.env()) as app:
        assert app.graph is not None
        gates = app.graph.outlook
        gates.budget, gates.window_s = 3, 0.5
        start = START.replace(tzinfo=None)
        event = CalendarEvent("Due", "<p>Due</p>", start, start + timedelta(minutes=30), 15, "x")
        for n in range(5):
            await app.graph.create_event(IRO, event, f"budget-{n}")
        log = await _sandbox_json(sandbox, "/_sandbox/requests")
        assert [r["status"] for r in log["requests"] if "/events" in r["path"]] == [201] * 5

        # Not knowing the budget, the client meets Exchange's 429 once, and then holds
        # the mailbox for its Retry-After instead of meeting it again.
        gates.budget = 10_000
        await asyncio.sleep(0.6)  # the sandbox's window is empty again
        for n in range(3):
            await app.graph.create_event(AUDITOR, event, f"held-{n}")
        with pytest.raises(GraphThrottled) as throttled:
            await app.graph.create_event(AUDITOR, event, "held-3")
        assert throttled.value.retry_after == 1.0
        await app.graph.create_event(AUDITOR, event, "held-4")
        log = await _sandbox_json(sandbox, "/_sandbox/requests")
        statuses = [r["status"] for r in log["requests"] if AUDITOR in r["path"]]
        assert statuses == [201, 201, 201, 429, 201]
