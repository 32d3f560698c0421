"""The store: one transaction per use case, append-only history, outbox and timer claims."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from audits import commands as c
from audits.errors import Conflict
from audits.workflow import SYSTEM, apply
from store import audit_rows, contacts, outbox_queue, timer_queue
from store.outbox_queue import OutboxStatus
from store.schema import conversations, history, outbox, timers
from store.timer_queue import TimerStatus
from tests.support.allocations import allocation, rows
from tests.support.clock import START
from tests.support.people import QA_MANAGER


async def _timers(service) -> dict[str, dict]:
    async with service.db.reading() as conn:
        found = (await conn.execute(sa.select(timers))).all()
    return {r.key: dict(r._mapping) for r in found}


async def test_timers_follow_deadlines(service, clock):
    [o] = await service.allocate(SYSTEM, rows(allocation()))
    audit_id = o.audit.id
    found = await _timers(service)
    iro = {k for k in found if ":iro_comments:" in k}
    assert iro == {
        f"{audit_id}:iro_comments:{kind}"
        for kind in ("nudge:1", "nudge:2", "nudge:3", "overdue:1", "escalation:1", "escalation:2")
    }
    overdue = found[f"{audit_id}:iro_comments:overdue:1"]
    assert overdue["due_at"] == clock.now() + timedelta(hours=72)

    await service.execute("iro1@council.example", audit_id, c.AddIroComments("Seen the plan"))
    await service.execute(
        QA_MANAGER, audit_id, c.ExtendDeadline("audit_completion", "2026-12-04", "Worker on leave")
    )
    found = await _timers(service)
    assert {found[k]["status"] for k in iro} == {TimerStatus.CANCELLED}
    completion = found[f"{audit_id}:audit_completion:overdue:1"]
    assert completion["status"] == TimerStatus.PENDING
    # Due at 17:30 on the new day; the owner hears at the next working morning.
    assert completion["due_at"].isoformat() == "2026-12-07T09:00:00+00:00"
    assert found[f"{audit_id}:audit_completion:nudge:2"]["due_at"].isoformat() == (
        "2026-12-04T09:00:00+00:00"
    )


async def test_due_timers_are_claimed_once_and_overdue_fire_after_downtime(service, clock):
    await service.allocate(SYSTEM, rows(allocation("1000001"), allocation("1000002", n=2)))
    async with service.db.transaction() as conn:
        assert await timer_queue.claim_due_timers(conn, clock.now(), "w1") == []
    later = clock.now() + timedelta(days=40)  # the bot was down: every deadline has passed
    async with service.db.transaction() as conn:
        claimed = await timer_queue.claim_due_timers(conn, later, "w1")
    assert len(claimed) == 20  # 10 reminders for each of the two audits
    async with service.db.transaction() as conn:
        assert await timer_queue.claim_due_timers(conn, later, "w2") == []
        for t in claimed:
            assert await timer_queue.finish_timer(conn, t.id, "w1", later)
    # A claim whose worker died is taken again once its lease lapses.
    async with service.db.transaction() as conn:
        assert await timer_queue.claim_due_timers(conn, later + timedelta(hours=1), "w2") == []


async def test_concurrent_claims_never_share_a_timer(service, clock):
    await service.allocate(SYSTEM, rows(*(allocation(f"10000{i:02d}", n=i) for i in range(20))))
    later = clock.now() + timedelta(days=40)

    async def claim(worker: str) -> list[int]:
        got: list[int] = []
        while True:
            async with service.db.transaction() as conn:
                batch = await timer_queue.claim_due_timers(conn, later, worker, limit=3)
            if not batch:
                return got
            got += [t.id for t in batch]

    a, b, d = await asyncio.gather(claim("a"), claim("b"), claim("d"))
    assert len(a) + len(b) + len(d) == 200
    assert len(set(a) | set(b) | set(d)) == 200


async def test_outbox_claim_retry_and_dead_letter(service, clock):
    await service.allocate(SYSTEM, rows(allocation()))
    now = clock.now()
    async with service.db.transaction() as conn:
        claimed = await outbox_queue.claim_outbox(conn, now, "sender")
        assert len(claimed) == 4 and all(r.attempts == 1 for r in claimed)
        assert await outbox_queue.claim_outbox(conn, now, "sender") == []  # leased
        await outbox_queue.mark_sent_many(conn, [claimed[0].id], now)
        await outbox_queue.mark_failed(
            conn, claimed[1].id, "429 Too Many Requests", now + timedelta(seconds=30)
        )
        await outbox_queue.mark_failed(conn, claimed[2].id, "403 Forbidden", None)
    async with service.db.transaction() as conn:
        again = await outbox_queue.claim_outbox(conn, now + timedelta(seconds=31), "sender")
    assert [r.id for r in again] == [claimed[1].id]
    assert again[0].attempts == 2
    async with service.db.reading() as conn:
        status = dict((await conn.execute(sa.select(outbox.c.id, outbox.c.status))).all())
    assert status[claimed[0].id] == OutboxStatus.SENT and status[claimed[2].id] == OutboxStatus.DEAD


async def test_stale_write_is_refused(service, catalog, calendar, standing, clock):
    [o] = await service.allocate(SYSTEM, rows(allocation()))
    from audits.workflow import Context

    ctx = Context(
        "auditor1@council.example",
        clock.now(),
        catalog.template(o.audit.template),
        catalog.policy(o.audit.policy),
        calendar,
        standing,
    )
    outcome = apply(o.audit, c.AnswerSection("checks", values={"ehcp": "no"}), ctx)
    await service.execute(
        "auditor1@council.example", o.audit.id, c.AnswerSection("checks", values={"ehcp": "yes"})
    )
    async with service.db.transaction() as conn:
        with pytest.raises(Conflict):
            await audit_rows.save_audit(conn, outcome.audit, 1, clock.now())
    assert (await service.get(o.audit.id)).answers["checks"].values["ehcp"] == "yes"


async def test_failure_inside_the_transaction_leaves_nothing(service, clock):
    [o] = await service.allocate(SYSTEM, rows(allocation()))
    async with service.db.reading() as conn:
        before = (await conn.execute(sa.select(sa.func.count()).select_from(history))).scalar_one()
    with pytest.raises(RuntimeError):
        async with service.db.transaction() as conn:
            audit = await audit_rows.load_audit(conn, o.audit.id)
            audit.answers.clear()
            await audit_rows.save_audit(conn, audit, 1, clock.now())
            raise RuntimeError("crash before commit")
    async with service.db.reading() as conn:
        after = (await conn.execute(sa.select(sa.func.count()).select_from(history))).scalar_one()
        assert await audit_rows.version_of(conn, o.audit.id) == 1
    assert after == before
    assert (await service.get(o.audit.id)).answers["about"].values["child_id"] == "1000001"


async def test_concurrent_answers_are_all_kept(service):
    [o] = await service.allocate(SYSTEM, rows(allocation()))
    sections = ["risk", "involvement", "decision-making", "assessment", "coordination", "identity"]
    await asyncio.gather(
        *(
            service.execute(
                "auditor1@council.example",
                o.audit.id,
                c.AnswerSection(s, grade="good", evidence=f"evidence for {s}"),
            )
            for s in sections
        )
    )
    audit = await service.get(o.audit.id)
    assert {s: audit.answers[s].evidence for s in sections} == {
        s: f"evidence for {s}" for s in sections
    }


async def test_history_records_who_when_what_old_and_new(service, clock):
    [o] = await service.allocate(SYSTEM, rows(allocation()))
    clock.advance(timedelta(minutes=5))
    await service.execute(
        "auditor1@council.example", o.audit.id, c.AnswerSection("risk", grade="good")
    )
    await service.execute(
        "auditor1@council.example",
        o.audit.id,
        c.AnswerSection("risk", grade="requires improvement"),
    )
    trail = [h for h in await service.history(o.audit.id) if h.what == "answers.risk.grade"]
    assert [(h.actor, h.old, h.new, h.at) for h in trail] == [
        ("auditor1@council.example", None, "good", clock.now()),
        ("auditor1@council.example", "good", "requires_improvement", clock.now()),
    ]


async def test_migrations_build_exactly_the_tables_the_code_uses(db):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from store.schema import metadata

    def differences(sync_conn):
        context = MigrationContext.configure(sync_conn, opts={"compare_type": False})
        return [
            d
            for d in compare_metadata(context, metadata)
            if not (
                isinstance(d, tuple)
                and d[0] in ("add_table", "remove_table")
                and getattr(d[1], "name", "") == "alembic_version"
            )
        ]

    async with db.engine.connect() as conn:
        assert await conn.run_sync(differences) == []


def test_the_written_out_head_revision_is_alembics_own():
    """store.db.HEAD_REVISION lets an up-to-date start skip alembic: it must be the head."""
    from alembic.script import ScriptDirectory

    from store.db import HEAD_REVISION, alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


async def test_the_schema_revision_is_read_as_alembic_records_it(tmp_path):
    """No schema yet is None; after the upgrade, the head (read with plain SQL)."""
    from store.db import HEAD_REVISION, Database

    fresh = Database(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert await fresh.current_revision() is None
        await fresh.ensure_schema()
        assert await fresh.current_revision() == HEAD_REVISION
    finally:
        await fresh.dispose()


async def test_queued_follow_on_work_is_queued_once(db):
    """An effect that runs twice (its lease ran out mid-upload) queues its tracker update once."""
    item = outbox_queue.OutboxItem(
        key="202611-001:filed:closed:v9:tracker",
        channel="graph",
        kind="tracker",
        recipient="",
        lane="tracker:202611-001",
        payload={"audit_id": "202611-001"},
        audit_id="202611-001",
    )
    for _ in range(2):
        async with db.transaction() as conn:
            await outbox_queue.enqueue_items(conn, [item], START)
    async with db.reading() as conn:
        found = (await conn.execute(sa.select(outbox.c.key))).scalars().all()
    assert found == [item.key]


async def test_channels_ready_names_only_channels_with_a_row_sendable_now(db):
    later = START + timedelta(hours=1)
    items = [
        outbox_queue.OutboxItem("a", "teams", "nudge", "x@council.example", "teams:x", {}),
        outbox_queue.OutboxItem("b", "graph", "calendar", "x@council.example", "graph:x", {}),
    ]
    async with db.transaction() as conn:
        await outbox_queue.enqueue_items(conn, items[:1], START)
        await outbox_queue.enqueue_items(conn, items[1:], later)  # not sendable before `later`
    async with db.reading() as conn:
        assert await outbox_queue.channels_ready(conn, START, ["teams", "graph"]) == {"teams"}
        assert await outbox_queue.channels_ready(conn, later, ["teams", "graph"]) == {
            "teams",
            "graph",
        }
        assert await outbox_queue.channels_ready(conn, later, ["graph"]) == {"graph"}


async def test_chats_of_strangers_are_kept_but_not_without_bound(db, monkeypatch):
    """Anyone may open the bot (and, unauthenticated, anyone may claim any identity):
    the chats of people nobody knows are kept, the newest MAX_STRANGERS of them, so a
    flood of made-up object ids cannot grow the table; known people's chats stay."""
    monkeypatch.setattr(contacts, "MAX_STRANGERS", 20)
    async with db.transaction() as conn:
        await contacts.save_conversation(conn, "known-1", "ava@council.example", {"c": 0}, START)
    for n in range(25):
        async with db.transaction() as conn:
            await contacts.save_conversation(
                conn, f"stranger-{n:02}", None, {"c": n}, START + timedelta(seconds=n)
            )
    async with db.reading() as conn:
        kept = (await conn.execute(sa.select(conversations.c.object_id))).scalars().all()
    assert sorted(kept) == ["known-1", *(f"stranger-{n:02}" for n in range(5, 25))]


async def _listing_statements(db, person: str) -> list[str]:
    """The SQL `list_audits` sends for one person's audits, caught as it is sent."""
    sent: list[str] = []

    def caught(_conn, _cursor, statement, *_args) -> None:
        sent.append(statement)

    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", caught)
    try:
        async with db.reading() as conn:
            listed = await audit_rows.list_audits(conn, START, person=person)
    finally:
        sa.event.remove(db.engine.sync_engine, "before_cursor_execute", caught)
    assert listed
    return sent


async def test_listing_a_persons_audits_reads_no_state_and_does_not_grow_with_history(service):
    """The list reads the listed columns only (never the `state` JSON) and the same
    statements however many other audits the database holds."""
    await service.allocate(SYSTEM, rows(allocation("1000001")))
    auditor = (await service.get("202611-001")).participants.auditor
    small = await _listing_statements(service.db, auditor)
    await service.allocate(SYSTEM, rows(*(allocation(f"{4000000 + i}", n=2) for i in range(40))))
    large = await _listing_statements(service.db, auditor)
    assert len(large) == len(small)
    assert not any("state" in s.split("FROM")[0] for s in large), large


async def _statements(db, work) -> tuple[list[str], object]:
    """The SQL `work()` sends, caught as it is sent, and what it returned."""
    sent: list[str] = []

    def caught(_conn, _cursor, statement, *_args) -> None:
        sent.append(statement)

    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", caught)
    try:
        result = await work()
    finally:
        sa.event.remove(db.engine.sync_engine, "before_cursor_execute", caught)
    return sent, result


async def test_my_audits_reads_whole_only_the_rows_it_shows(service, standing):
    """Someone on more audits than a card holds: "my audits" reads whole (the state JSON)
    only the MAX_ROWS it shows, most urgent first, counts the rest, and sends the same
    statements however many other people's audits the database holds."""
    from application.queries import Queries
    from cards.home import MAX_ROWS

    queries = Queries(service.db, service.catalog, service.clock, standing)
    many = MAX_ROWS + 15
    await service.allocate(SYSTEM, rows(*(allocation(f"{3000000 + i}") for i in range(many))))
    auditor = (await service.get("202611-001")).participants.auditor

    def state_reads(sent: list[str]) -> int:
        return sum("state" in s.split("FROM")[0] for s in sent)

    small, page = await _statements(service.db, lambda: queries.my_audits(auditor))
    assert page.total == many and len(page.rows) == MAX_ROWS
    assert state_reads(small) == MAX_ROWS, small
    due = [r.next_due for r in page.rows]
    assert due == sorted(due)  # the most urgent first
    await service.allocate(SYSTEM, rows(*(allocation(f"{5000000 + i}", n=2) for i in range(40))))
    large, again = await _statements(service.db, lambda: queries.my_audits(auditor))
    assert len(large) == len(small) and again == page

    # `status <child's ID>` and `resume` read one audit whole, not all of the person's.
    sent, audit = await _statements(service.db, lambda: queries.child_audit(auditor, "3000007"))
    assert audit is not None and audit.child_id == "3000007" and state_reads(sent) == 1
    sent, urgent = await _statements(service.db, lambda: queries.most_urgent(auditor))
    assert urgent is not None and state_reads(sent) == 1
    assert await queries.child_audit(auditor, "5000001") is None  # not theirs


async def test_the_tracker_pages_in_sql_as_the_card_would_page_every_row(service, standing):
    """Each page the store gives, for each filter, is the card's own paging of every row;
    a page reads no `state` and the same statements however many audits there are."""
    from application.queries import Queries
    from audits.model import Status
    from cards.tracker import TrackerFilters, TrackerRow, tracker_card

    await service.allocate(SYSTEM, rows(*(allocation(f"{3100000 + i}") for i in range(12))))
    service.clock.advance(timedelta(days=7))
    await service.allocate(SYSTEM, rows(*(allocation(f"{3200000 + i}") for i in range(11))))
    later = Queries(
        service.db, service.catalog, type(service.clock)(START + timedelta(days=9)), standing
    )
    async with service.db.reading() as conn:
        every = [
            TrackerRow(
                r.id,
                r.child_id,
                r.team,
                r.status,
                r.next_owner,
                r.next_step,
                r.next_due,
                r.overdue,
                r.case_of_concern,
            )
            for r in await audit_rows.list_audits(conn, later.clock.now())
        ]
    assert any(r.overdue for r in every) and not all(r.overdue for r in every)
    for filters in (
        TrackerFilters(),
        TrackerFilters(overdue=True),
        TrackerFilters(team="safeguarding team 1"),
        TrackerFilters(team="Nobody's team"),
        TrackerFilters(status=Status.ALLOCATED),
        TrackerFilters(case_of_concern=True),
    ):
        for page in (1, 2, 3, 9):
            found = await later.tracker(filters, page)
            paged = tracker_card(found.rows, filters, found.page, total=found.total)
            assert paged == tracker_card(every, filters, page), (filters, page)

    small, _ = await _statements(service.db, lambda: later.tracker(TrackerFilters(), 2))
    await service.allocate(SYSTEM, rows(*(allocation(f"{5100000 + i}", n=2) for i in range(40))))
    large, found = await _statements(service.db, lambda: later.tracker(TrackerFilters(), 2))
    assert len(large) == len(small) and len(found.rows) == 10 and found.total == 63
    assert not any("state" in s.split("FROM")[0] for s in large), large
