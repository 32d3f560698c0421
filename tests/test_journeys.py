"""The Swindon process end to end through the use cases, on a real database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from application.service import AuditService
from audits import commands as c
from audits.errors import Incomplete, InvalidInput, WrongState
from audits.grades import Grade
from audits.model import ActionStatus, Status
from store import outbox_queue
from store.outbox_queue import OutboxRow
from tests.support.allocations import allocation, rows
from tests.support.factories import fill_audit, make_audit, moderate_audit
from tests.support.people import HEAD_OF_SERVICE, QA_MANAGER

pytestmark = pytest.mark.asyncio


async def _allocate(service: AuditService, child: str = "1000001", **kw):
    [outcome] = await service.allocate(QA_MANAGER, rows(allocation(child, **kw)))
    return outcome.audit


async def _outbox(service: AuditService, audit_id: str) -> list[OutboxRow]:
    async with service.db.reading() as conn:
        return await outbox_queue.outbox_rows(conn, audit_id)


async def _moderate_all(service, audit, template, overall: Grade, regrade=None):
    return await moderate_audit(
        service, audit.id, audit.participants.moderator, template, overall, regrade
    )


async def test_good_audit_from_allocation_to_closure(service, catalog, clock):
    template = catalog.template("swindon-practice-evaluation")
    audit = await _allocate(service)
    # Deadlines follow the policy: IRO/CP chair 72 hours from notice, audit 15 working days.
    assert audit.deadlines["iro_comments"].due_at == datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
    assert audit.deadlines["audit_completion"].due_at == datetime(2026, 11, 23, 17, 30, tzinfo=UTC)
    sent = await _outbox(service, audit.id)
    assert {(r.recipient, r.kind) for r in sent} == {
        ("auditor1@council.example", "allocated"),
        ("sw1@council.example", "allocated"),
        ("moderator1@council.example", "allocated"),
        ("iro1@council.example", "iro_comments_requested"),
    }

    clock.advance(timedelta(hours=20))
    await service.execute("iro1@council.example", audit.id, c.AddIroComments("Plan is on track."))
    await fill_audit(service, audit.id, audit.participants.auditor, template)
    submitted = await service.execute(audit.participants.auditor, audit.id, c.Submit())
    assert submitted.audit.status is Status.SUBMITTED
    assert submitted.audit.iro_comments[0].late is False
    # Moderation is due 5 working days after submission (Tue 3 Nov -> Tue 10 Nov).
    assert submitted.audit.deadlines["moderation"].due_at == datetime(
        2026, 11, 10, 17, 30, tzinfo=UTC
    )

    moderated = await _moderate_all(service, audit, template, Grade.GOOD)
    assert moderated.audit.status is Status.MODERATED
    assert moderated.audit.case_of_concern is None
    await service.execute(QA_MANAGER, audit.id, c.RecordPanel("agreed", "Consistent"))
    clock.advance(timedelta(days=1))
    closed = await service.execute(QA_MANAGER, audit.id, c.CloseAudit())
    assert closed.audit.status is Status.CLOSED
    assert all(not d.open for d in closed.audit.deadlines.values())
    told = {r.recipient for r in await _outbox(service, audit.id) if r.kind == "closed"}
    assert told == {
        "sw1@council.example",
        "auditor1@council.example",
        "tm1@council.example",
        "sm1@council.example",
        "iro1@council.example",
        # Swindon's tool: "shared ... with SW/PA, Team Manager, QARO, SM and QA Inbox"
        "qa.inbox@council.example",
    }


async def test_inadequate_audit_starts_a_case_of_concern(service, catalog, clock):
    template = catalog.template("swindon-practice-evaluation")
    audit = await _allocate(service)
    await fill_audit(
        service,
        audit.id,
        audit.participants.auditor,
        template,
        grades={"risk": Grade.INADEQUATE},
        overall=Grade.INADEQUATE,
    )
    # Inadequate needs an agreed action before it can be submitted.
    with pytest.raises(Incomplete, match="at least one agreed action"):
        await service.execute(audit.participants.auditor, audit.id, c.Submit())
    await service.execute(
        audit.participants.auditor,
        audit.id,
        c.AddAction(
            "Hold a strategy discussion about the risks this week",
            "tm1@council.example",
            date(2026, 11, 9),
        ),
    )
    submitted = await service.execute(audit.participants.auditor, audit.id, c.Submit())
    coc = submitted.audit.case_of_concern
    assert coc is not None and coc.raised_by.value == "auditor"
    plan_due = submitted.audit.deadlines["coc_plan"]
    assert plan_due.due_at == clock.now() + timedelta(hours=24) and plan_due.urgent
    alerts = [r for r in await _outbox(service, audit.id) if r.kind == "case_of_concern"]
    assert {(r.recipient, r.channel) for r in alerts} == {
        (who, channel)
        # Swindon's tool, section 13: the HoS and Director and the HoS for Practice,
        # Performance and QA are told of an overall Inadequate; the QA inbox too.
        for who in (
            "sm1@council.example",
            QA_MANAGER,
            HEAD_OF_SERVICE,
            "dara.director@council.example",
            "petra.hosqa@council.example",
        )
        for channel in ("teams", "email")
    } | {("qa.inbox@council.example", "email")}  # a shared mailbox: e-mail only
    assert all(r.urgent for r in alerts)
    # The moderator is told which sections are Inadequate.
    [ready] = [r for r in await _outbox(service, audit.id) if r.kind == "ready_for_moderation"]
    assert ready.payload["inadequate_sections"] == [
        "1. Risk is identified, responded to and reduced in a timely way",
        "12. Final judgement",
    ]

    clock.advance(timedelta(hours=5))
    planned = await service.execute(
        "sm1@council.example",
        audit.id,
        c.ConfirmPlan(
            "Strategy discussion on Friday; weekly visits until review", "tm1@council.example"
        ),
    )
    assert planned.audit.deadlines["coc_plan"].done_at == clock.now()

    moderated = await _moderate_all(service, audit, template, Grade.INADEQUATE)
    reaudit = moderated.audit.deadlines["reaudit"]
    assert reaudit.due_at == clock.now() + timedelta(weeks=6)
    assert reaudit.owner == QA_MANAGER
    with pytest.raises(Incomplete, match="re-audit"):
        await service.execute(QA_MANAGER, audit.id, c.CloseCaseOfConcern("done"))

    clock.advance(timedelta(weeks=6))
    still = await service.execute(
        QA_MANAGER, audit.id, c.RecordReaudit("inadequate", "No change yet")
    )
    assert still.audit.deadlines["reaudit"].open  # a further short audit is due
    clock.advance(timedelta(weeks=6))
    await service.execute(
        QA_MANAGER,
        audit.id,
        c.RecordReaudit("requires improvement", "Visits now weekly, plan updated"),
    )
    closed = await service.execute(QA_MANAGER, audit.id, c.CloseCaseOfConcern("Actions embedded"))
    assert closed.audit.case_of_concern.closed_at == clock.now()
    assert len(closed.audit.case_of_concern.reaudits) == 2


async def test_moderator_raising_inadequate_starts_case_of_concern(service, catalog):
    template = catalog.template("swindon-practice-evaluation")
    audit = await _allocate(service)
    await fill_audit(
        service, audit.id, audit.participants.auditor, template, overall=Grade.REQUIRES_IMPROVEMENT
    )
    await service.execute(
        audit.participants.auditor,
        audit.id,
        c.AddAction(
            "Update the child's plan with the family by the review",
            "sw1@council.example",
            date(2026, 11, 20),
        ),
    )
    await service.execute(audit.participants.auditor, audit.id, c.Submit())
    done = await _moderate_all(
        service, audit, template, Grade.INADEQUATE, regrade={"risk": Grade.INADEQUATE}
    )
    assert done.audit.case_of_concern.raised_by.value == "moderator"
    assert done.audit.moderated_grade is Grade.INADEQUATE
    assert done.audit.auditor_grade is Grade.REQUIRES_IMPROVEMENT
    # The auditor is told of every change.
    [told] = [r for r in await _outbox(service, audit.id) if r.kind == "moderation_complete"]
    assert {(x["from"], x["to"]) for x in told.payload["regraded"]} == {
        ("good", "inadequate"),
        ("requires_improvement", "inadequate"),
    }


async def test_regrade_needs_a_reason(service):
    audit = await make_audit(service, "submitted")
    with pytest.raises(InvalidInput, match="reason for changing the grade"):
        await service.execute(
            audit.participants.moderator,
            audit.id,
            c.ModerateSection("plans", agree=False, grade="requires_improvement"),
        )
    ok = await service.execute(
        audit.participants.moderator,
        audit.id,
        c.ModerateSection(
            "plans", agree=False, grade="requires_improvement", reason="Plan is out of date"
        ),
    )
    assert ok.audit.moderation.sections["plans"].agreed is False
    with pytest.raises(Incomplete, match="not finished"):
        await service.execute(
            audit.participants.moderator,
            audit.id,
            c.CompleteModeration(grade="good", evidence="x", impact="y"),
        )


async def test_panel_returns_audit_and_auditor_clock_restarts(service, clock):
    audit = await make_audit(service, "moderated")
    with pytest.raises(InvalidInput, match="What the panel needs"):
        await service.execute(QA_MANAGER, audit.id, c.RecordPanel("returned", ""))
    clock.advance(timedelta(days=3))  # Thursday 5 November
    returned = await service.execute(
        QA_MANAGER, audit.id, c.RecordPanel("returned", "More evidence for the permanency grade")
    )
    assert returned.audit.status is Status.RETURNED
    restarted = returned.audit.deadlines["audit_completion"]
    assert restarted.open and restarted.due_at == datetime(2026, 11, 12, 17, 30, tzinfo=UTC)

    await service.execute(
        audit.participants.auditor,
        audit.id,
        c.AnswerSection("permanency", evidence="Permanence planning meeting minutes, October"),
    )
    back = await service.execute(audit.participants.auditor, audit.id, c.Submit())
    assert back.audit.status is Status.MODERATED  # straight back to the panel
    assert back.audit.submissions == 2
    await service.execute(QA_MANAGER, audit.id, c.RecordPanel("agreed", ""))
    closed = await service.execute(QA_MANAGER, audit.id, c.CloseAudit())
    assert closed.audit.status is Status.CLOSED


async def test_actions_completed_and_signed_off(service, catalog, clock):
    template = catalog.template("swindon-practice-evaluation")
    audit = await _allocate(service)
    await fill_audit(service, audit.id, audit.participants.auditor, template)
    added = await service.execute(
        audit.participants.auditor,
        audit.id,
        c.AddAction(
            "Update the chronology with the last three months of visits",
            "sw1@council.example",
            "2026-11-30",
        ),
    )
    assert added.audit.deadlines["action-1"].due_at == datetime(2026, 11, 30, 17, 30, tzinfo=UTC)
    await service.execute(audit.participants.auditor, audit.id, c.Submit())
    with pytest.raises(WrongState, match="not marked complete"):
        await service.execute("tm1@council.example", audit.id, c.SignOffAction(1))
    with pytest.raises(InvalidInput, match="evidence"):
        await service.execute("sw1@council.example", audit.id, c.CompleteAction(1, "  "))
    await service.execute(
        "sw1@council.example", audit.id, c.CompleteAction(1, "Chronology updated on 10 November")
    )
    returned = await service.execute(
        "tm1@council.example", audit.id, c.ReturnAction(1, "Chronology still stops in August")
    )
    assert returned.audit.action(1).status is ActionStatus.OPEN
    await service.execute(
        "sw1@council.example", audit.id, c.CompleteAction(1, "Now complete to date")
    )
    signed = await service.execute("tm1@council.example", audit.id, c.SignOffAction(1))
    action = signed.audit.action(1)
    assert (
        action.status is ActionStatus.SIGNED_OFF and action.signed_off_by == "tm1@council.example"
    )


async def test_reassign_and_extend_move_deadlines(service, catalog, clock):
    audit = await _allocate(service)
    moved = await service.execute(
        QA_MANAGER, audit.id, c.Reassign("iro", "iro9@council.example", "IRO on leave")
    )
    assert moved.audit.participants.iro == "iro9@council.example"
    assert moved.audit.deadlines["iro_comments"].owner == "iro9@council.example"
    assert moved.audit.answers["about"].values["qaro"] == "iro9@council.example"
    with pytest.raises(InvalidInput, match="different people"):
        await service.execute(
            QA_MANAGER, audit.id, c.Reassign("moderator", "auditor1@council.example", "cover")
        )
    with pytest.raises(InvalidInput, match="reason"):
        await service.execute(
            QA_MANAGER, audit.id, c.ExtendDeadline("audit_completion", "2026-11-30", "")
        )
    extended = await service.execute(
        QA_MANAGER,
        audit.id,
        c.ExtendDeadline("audit_completion", "2026-11-30", "Social worker off sick"),
    )
    deadline = extended.audit.deadlines["audit_completion"]
    assert deadline.due_at == datetime(2026, 11, 30, 17, 30, tzinfo=UTC)
    assert deadline.extensions[0].reason == "Social worker off sick"
    history = await service.history(audit.id)
    assert any(h.what == "deadline.audit_completion" for h in history)


async def test_late_iro_comments_are_marked_late(service, clock):
    audit = await _allocate(service)
    clock.advance(timedelta(hours=73))
    done = await service.execute("iro1@council.example", audit.id, c.AddIroComments("Sorry, late"))
    assert done.audit.iro_comments[0].late is True


async def test_grade_changed_after_panel_return_goes_back_to_the_moderator(service):
    audit = await make_audit(service, "moderated")
    await service.execute(QA_MANAGER, audit.id, c.RecordPanel("returned", "Risk evidence is thin"))
    await service.execute(
        audit.participants.auditor, audit.id, c.AnswerSection("final-judgement", grade="inadequate")
    )
    await service.execute(
        audit.participants.auditor,
        audit.id,
        c.AddAction(
            "Hold a strategy discussion about the risks this week",
            "tm1@council.example",
            date(2026, 11, 9),
        ),
    )
    back = await service.execute(audit.participants.auditor, audit.id, c.Submit())
    assert back.audit.status is Status.SUBMITTED
    assert back.audit.moderation is None
    assert back.audit.deadlines["moderation"].open
    assert back.audit.case_of_concern is not None  # Inadequate on resubmission still alerts
