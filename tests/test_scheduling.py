"""Deadlines that keep themselves: nudges, overdue notices and escalations, fired by the
runner from durable timers, with a controllable clock and a real database."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from application.effects import EffectsConfig
from application.service import AuditService
from audits import commands as c
from audits.clock import FixedClock
from audits.grades import Grade
from audits.model import Audit
from audits.reminders import Reminder
from audits.workdays import uk_time
from audits.workflow import SYSTEM
from scheduling.runner import Runner
from store import timer_queue
from store.schema import outbox, timers
from store.timer_queue import TimerStatus
from tests.support.allocations import allocation, rows
from tests.support.factories import fill_audit
from tests.support.people import HEAD_OF_SERVICE, QA_MANAGER, QA_OFFICER

IRO, AUDITOR, SM = "iro1@council.example", "auditor1@council.example", "sm1@council.example"


def _at(service: AuditService, when: datetime) -> AuditService:
    """The same service with its clock at `when`."""
    return dataclasses.replace(service, clock=FixedClock(when))


def _runner(service: AuditService, worker: str = "w1") -> Runner:
    return Runner(
        service.db, service.catalog, service.calendar, service.standing, service.clock, worker
    )


def _plan(service: AuditService, audit: Audit, step: str) -> list[tuple[str, str]]:
    """(what, when in UK time) for one step, with escalations naming the role."""

    def what(r: Reminder) -> str:
        return f"{r.kind.value} {r.to_role.value}" if r.to_role else r.kind.value

    return [(what(r), uk_time(r.at)) for r in service.reminders(audit) if r.step == step]


async def _allocate(service: AuditService, **kw) -> Audit:
    [o] = await service.allocate(SYSTEM, rows(allocation(**kw)))
    return o.audit


async def _notices(service: AuditService, audits: bool = False) -> list[tuple[str, ...]]:
    """(kind, recipient, step[, audit]) of every nudge and escalation in the outbox."""
    async with service.db.reading() as conn:
        found = await conn.execute(
            sa.select(outbox)
            .where(outbox.c.kind.in_(["nudge", "escalation"]))
            .order_by(outbox.c.id)
        )
        return [
            (
                "overdue" if r.payload.get("overdue") else r.kind,
                r.recipient,
                r.payload["step"],
                *([r.audit_id] if audits else []),
            )
            for r in found.all()
        ]


async def _advance_and_run(service: AuditService, runner: Runner, **delta: float) -> int:
    service.clock.advance(timedelta(**delta))  # type: ignore[attr-defined]
    return await runner.tick()


# ------------------------------------------------------------ plans (Swindon)


async def test_iro_comments_plan_on_an_ordinary_week(service):
    audit = await _allocate(service)  # Monday 2 November 2026, 09:00
    assert _plan(service, audit, "iro_comments") == [
        ("nudge", "3 Nov 2026, 09:00"),  # 24 hours
        ("nudge", "4 Nov 2026, 09:00"),  # 48 hours
        ("nudge", "4 Nov 2026, 17:00"),  # 4 hours before is 05:00: the working day before
        ("escalation qa_officer", "5 Nov 2026, 09:00"),  # at the deadline, 72 hours
        ("overdue", "5 Nov 2026, 09:00"),
        ("escalation qa_manager", "6 Nov 2026, 09:00"),  # a working day later
    ]
    assert _plan(service, audit, "audit_completion") == [
        ("nudge", "19 Nov 2026, 09:00"),  # 2 working days before
        ("nudge", "23 Nov 2026, 09:00"),  # the morning of the due day
        # Due at 17:30 on the 15th working day; escalated the next working morning.
        ("escalation qa_manager", "24 Nov 2026, 09:00"),
        ("overdue", "24 Nov 2026, 09:00"),
    ]


async def test_plans_step_round_christmas_bank_holidays(service, clock):
    clock.advance(datetime(2026, 12, 24, 10, 0, tzinfo=UTC) - clock.now())  # Thursday
    audit = await _allocate(service)
    assert _plan(service, audit, "iro_comments") == [
        # 24 and 48 hours fall on Christmas Day and Boxing Day, 4 hours before on a
        # Sunday: one nudge, late on Christmas Eve.
        ("nudge", "24 Dec 2026, 17:00"),
        # Due Sunday 27 December; Monday 28 is the Boxing Day substitute bank holiday.
        ("escalation qa_officer", "29 Dec 2026, 09:00"),
        ("overdue", "29 Dec 2026, 09:00"),
        ("escalation qa_manager", "29 Dec 2026, 10:00"),
    ]
    # 15 working days, without 25, 28 December and 1 January: due Tuesday 19 January.
    assert uk_time(audit.deadlines["audit_completion"].due_at) == "19 Jan 2027, 17:30"
    assert _plan(service, audit, "audit_completion")[:2] == [
        ("nudge", "15 Jan 2027, 09:00"),
        ("nudge", "19 Jan 2027, 09:00"),
    ]


async def test_plans_keep_uk_time_across_the_end_of_summer_time(service):
    # Friday 23 October 2026, 10:00 BST; the clocks go back on Sunday 25 October.
    service = _at(service, datetime(2026, 10, 23, 9, 0, tzinfo=UTC))
    audit = await _allocate(service)
    assert uk_time(audit.deadlines["iro_comments"].due_at) == "26 Oct 2026, 09:00"  # GMT
    plan = _plan(service, audit, "iro_comments")
    assert plan[0] == ("nudge", "23 Oct 2026, 17:00")  # BST
    assert plan[1:] == [
        ("escalation qa_officer", "26 Oct 2026, 09:00"),
        ("overdue", "26 Oct 2026, 09:00"),
        ("escalation qa_manager", "27 Oct 2026, 09:00"),
    ]
    nudge = service.reminders(audit)[0]
    assert nudge.at == datetime(2026, 10, 23, 16, 0, tzinfo=UTC)  # 17:00 BST is 16:00 UTC


async def test_plans_into_summer_time(service):
    # Friday 27 March 2026, 09:00 GMT; the clocks go forward on Sunday 29 March.
    late = _at(service, datetime(2026, 3, 27, 9, 0, tzinfo=UTC))
    audit = await _allocate(late)
    # 72 clock hours: Monday 08:00 UTC is 09:00 BST.
    assert uk_time(audit.deadlines["iro_comments"].due_at) == "30 Mar 2026, 10:00"
    assert ("escalation qa_officer", "30 Mar 2026, 10:00") in _plan(late, audit, "iro_comments")


async def test_case_of_concern_plan_is_urgent_and_not_held_for_working_hours(service, catalog):
    audit = await _allocate(service)
    await _inadequate(service, catalog, audit)
    # Submitted at 09:00 on Monday 2 November; the plan is due in 24 hours.
    coc = _plan(service, await service.get(audit.id), "coc_plan")
    assert coc == [
        ("nudge", "2 Nov 2026, 17:00"),  # 8 hours
        ("nudge", "3 Nov 2026, 05:00"),  # 20 hours: at once, not held to the morning
        ("escalation head_of_service", "3 Nov 2026, 09:00"),
        ("overdue", "3 Nov 2026, 09:00"),
    ]


async def test_agreed_action_nudged_3_working_days_before_and_escalated(service, catalog):
    audit = await _allocate(service)
    await _inadequate(service, catalog, audit, action_due=date(2026, 11, 13))
    plan = _plan(service, await service.get(audit.id), "action-1")
    assert plan == [
        ("nudge", "10 Nov 2026, 09:00"),
        ("escalation service_manager", "16 Nov 2026, 09:00"),
        ("overdue", "16 Nov 2026, 09:00"),
    ]


async def _inadequate(service, catalog, audit, action_due=date(2026, 11, 9)) -> None:
    template = catalog.template(audit.template)
    await fill_audit(
        service,
        audit.id,
        AUDITOR,
        template,
        grades={"risk": Grade.INADEQUATE},
        overall=Grade.INADEQUATE,
    )
    await service.execute(
        AUDITOR,
        audit.id,
        c.AddAction("Hold a strategy discussion this week", "tm1@council.example", action_due),
    )
    await service.execute(AUDITOR, audit.id, c.Submit())


# ------------------------------------------------------------------- runner


async def test_the_iro_window_nudges_then_escalates_each_once(service):
    audit = await _allocate(service)
    runner = _runner(service)
    assert await runner.tick() == 0
    await _advance_and_run(service, runner, hours=24)
    assert await _notices(service) == [("nudge", IRO, "iro_comments")]
    await _advance_and_run(service, runner, hours=24)
    await _advance_and_run(service, runner, hours=8)  # Wednesday 17:00
    assert len(await _notices(service)) == 3
    await _advance_and_run(service, runner, hours=16)  # Thursday 09:00: the deadline
    assert (await _notices(service))[3:] == [
        ("escalation", QA_OFFICER, "iro_comments"),
        ("overdue", IRO, "iro_comments"),
    ]
    await _advance_and_run(service, runner, hours=24)
    assert (await _notices(service))[5:] == [("escalation", QA_MANAGER, "iro_comments")]
    # Nothing more, however often it looks.
    for _ in range(3):
        await _advance_and_run(service, runner, hours=1)
    assert len([n for n in await _notices(service) if n[2] == "iro_comments"]) == 6
    # The escalation says what is late, since when, and whose it is.
    async with service.db.reading() as conn:
        [row] = (
            await conn.execute(
                sa.select(outbox).where(
                    outbox.c.kind == "escalation", outbox.c.recipient == QA_MANAGER
                )
            )
        ).all()
    assert row.payload["owner"] == IRO and row.payload["child_id"] == audit.child_id
    assert row.payload["due"] == audit.deadlines["iro_comments"].due_at.isoformat()
    history = await service.history(audit.id)
    assert [h.what for h in history].count("escalation.iro_comments") == 2


async def test_after_downtime_one_catch_up_not_every_missed_nudge(service):
    await _allocate(service)
    runner = _runner(service)
    # Down from Monday morning until Friday noon: three nudges and the deadline missed.
    await _advance_and_run(service, runner, hours=4 * 24 + 3)
    iro = [n for n in await _notices(service) if n[2] == "iro_comments"]
    assert sorted(iro) == sorted(
        [
            ("overdue", IRO, "iro_comments"),  # the three nudges collapse into this
            ("escalation", QA_OFFICER, "iro_comments"),
            ("escalation", QA_MANAGER, "iro_comments"),
        ]
    )


async def test_down_before_the_deadline_sends_only_the_latest_nudge(service):
    await _allocate(service)
    runner = _runner(service)
    await _advance_and_run(service, runner, hours=50)  # Wednesday 11:00: nudges 1 and 2 due
    assert await _notices(service) == [("nudge", IRO, "iro_comments")]
    async with service.db.reading() as conn:
        statuses = dict(
            (await conn.execute(sa.select(timers.c.key, timers.c.status))).all()  # type: ignore[arg-type]
        )
    assert sorted(s for k, s in statuses.items() if ":iro_comments:nudge:" in k) == [
        TimerStatus.FIRED,
        TimerStatus.FIRED,
        TimerStatus.PENDING,
    ]


async def test_a_step_done_in_time_is_never_nudged_again(service):
    audit = await _allocate(service)
    runner = _runner(service)
    await _advance_and_run(service, runner, hours=30)
    await service.execute(IRO, audit.id, c.AddIroComments("The plan is clear"))
    await _advance_and_run(service, runner, days=10)
    assert [n for n in await _notices(service) if n[2] == "iro_comments"] == [
        ("nudge", IRO, "iro_comments")
    ]


async def test_a_crash_between_claim_and_send_sends_once_after_restart(service):
    await _allocate(service)
    service.clock.advance(timedelta(hours=25))  # type: ignore[attr-defined]
    # A runner claims the nudge, then dies before firing it.
    async with service.db.transaction() as conn:
        [claimed] = await timer_queue.claim_due_timers(conn, service.clock.now(), "died")
    assert claimed.key.endswith(":iro_comments:nudge:1")
    survivor = _runner(service, "survivor")
    assert await survivor.tick() == 0  # the claim still holds
    assert await _notices(service) == []
    await _advance_and_run(service, survivor, minutes=6)  # the 5-minute lease lapses
    assert await _notices(service) == [("nudge", IRO, "iro_comments")]
    await _advance_and_run(service, survivor, minutes=6)
    assert await _notices(service) == [("nudge", IRO, "iro_comments")]


async def test_two_runners_on_one_database_send_each_reminder_once(service):
    for n in range(8):
        await service.allocate(SYSTEM, rows(allocation(f"20000{n:02d}", n=n)))
    service.clock.advance(timedelta(days=30))  # type: ignore[attr-defined]
    a, b = _runner(service, "a"), _runner(service, "b")
    a.batch = b.batch = 3
    await asyncio.gather(a.tick(), b.tick(), a.tick(), b.tick())
    sent = await _notices(service, audits=True)
    assert len(sent) == len(set(sent)) == 8 * 5
    # Per audit: the IRO's overdue notice, the QA officer, the QA manager; the auditor's
    # overdue notice, the QA manager.
    for audit_id in {s[3] for s in sent}:
        mine = sorted(s[:3] for s in sent if s[3] == audit_id)
        iro = next(s[1] for s in mine if s[2] == "iro_comments" and s[0] == "overdue")
        auditor = next(s[1] for s in mine if s[2] == "audit_completion" and s[0] == "overdue")
        assert mine == sorted(
            [
                ("overdue", iro, "iro_comments"),
                ("escalation", QA_OFFICER, "iro_comments"),
                ("escalation", QA_MANAGER, "iro_comments"),
                ("overdue", auditor, "audit_completion"),
                ("escalation", QA_MANAGER, "audit_completion"),
            ]
        )


async def test_an_extension_moves_the_nudges_and_the_calendar_event(service):
    service = dataclasses.replace(service, effects=EffectsConfig(m365=True))  # calendar too
    audit = await _allocate(service)
    before = {r.key: r.at for r in service.reminders(audit)}
    moved = await service.execute(
        QA_MANAGER,
        audit.id,
        c.ExtendDeadline("audit_completion", "2026-12-11", "Social worker on leave"),
    )
    after = {r.key: r.at for r in service.reminders(moved.audit)}
    key = f"{audit.id}:audit_completion:nudge:1"
    assert uk_time(before[key]) == "19 Nov 2026, 09:00"
    assert uk_time(after[key]) == "9 Dec 2026, 09:00"
    async with service.db.reading() as conn:
        due = (
            await conn.execute(sa.select(timers.c.due_at).where(timers.c.key == key))
        ).scalar_one()
        events = (
            await conn.execute(
                sa.select(outbox.c.key).where(
                    outbox.c.kind == "calendar", outbox.c.audit_id == audit.id
                )
            )
        ).scalars()
        events = set(events)
    assert due == after[key]
    # The owner's calendar event is updated by the same commit (its sender reads the
    # deadline as it is when it sends).
    assert f"{audit.id}:v2:calendar:audit_completion" in events  # v2: the extension
    # The old time passes quietly; the new one nudges.
    runner = _runner(service)
    await _advance_and_run(service, runner, days=18)  # 20 November
    assert not [n for n in await _notices(service) if n[2] == "audit_completion"]
    await _advance_and_run(service, runner, days=19)  # 9 December
    assert [n for n in await _notices(service) if n[2] == "audit_completion"] == [
        ("nudge", AUDITOR, "audit_completion")
    ]


async def test_reassigning_sends_the_nudges_to_the_new_person(service):
    audit = await _allocate(service)
    await service.execute(
        QA_OFFICER, audit.id, c.Reassign("iro", "ivy.newiro@council.example", "Caseload")
    )
    runner = _runner(service)
    await _advance_and_run(service, runner, hours=25)
    assert await _notices(service) == [("nudge", "ivy.newiro@council.example", "iro_comments")]


async def test_a_case_of_concern_escalates_to_the_head_of_service_at_night(service, catalog):
    audit = await _allocate(service)
    await _inadequate(service, catalog, audit)
    runner = _runner(service)
    await _advance_and_run(service, runner, hours=20)  # 05:00 Tuesday: urgent goes at once
    coc = [n for n in await _notices(service) if n[2] == "coc_plan"]
    assert coc == [("nudge", SM, "coc_plan")]  # the 8-hour one collapsed into it
    await _advance_and_run(service, runner, hours=4)
    coc = [n for n in await _notices(service) if n[2] == "coc_plan"]
    assert set(coc[1:]) == {
        ("escalation", HEAD_OF_SERVICE, "coc_plan"),
        ("overdue", SM, "coc_plan"),
    }
    async with service.db.reading() as conn:
        urgent = (
            await conn.execute(sa.select(outbox.c.urgent).where(outbox.c.kind == "escalation"))
        ).scalars()
        assert all(urgent)


async def test_after_inadequate_the_reaudit_is_the_qa_managers_with_its_own_nudge(service, catalog):
    audit = await _allocate(service)
    await _inadequate(service, catalog, audit)
    from tests.support.factories import moderate_audit

    await service.execute(SM, audit.id, c.ConfirmPlan("Strategy meeting Friday", SM))
    template = catalog.template(audit.template)
    done = await moderate_audit(
        service, audit.id, "moderator1@council.example", template, Grade.INADEQUATE
    )
    reaudit = done.audit.deadlines["reaudit"]
    assert reaudit.owner == QA_MANAGER
    assert _plan(service, done.audit, "reaudit")[0] == ("nudge", "7 Dec 2026, 09:00")
    runner = _runner(service)
    await _advance_and_run(service, runner, days=35)
    assert ("nudge", QA_MANAGER, "reaudit") in await _notices(service)


async def test_an_idle_tick_with_many_timers_claims_nothing(service):
    for n in range(30):
        await service.allocate(SYSTEM, rows(allocation(f"30000{n:02d}", n=n)))
    runner = _runner(service)
    assert await runner.tick() == 0
    assert runner.heartbeat is not None
    async with service.db.reading() as conn:
        nxt = await timer_queue.next_timer_due(conn)
    assert nxt is not None and uk_time(nxt) == "3 Nov 2026, 09:00"
