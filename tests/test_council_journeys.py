"""Each council's process from allocation to its last step, with the scheduler: Bristol
(no panel, the practitioner's feedback at 35 working days), the Stage 1/2/3 guidance
(deadlines by the third week of the month), Swindon (its refusals, the people told of
an Inadequate, the 6-week short audit across the clock change), Swindon Early Help and
YJS, and Shropshire (the practitioner's checklist first). Each deadline instant, the
people told and each refusal the framework makes."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, date, datetime

import docx
import pytest
import sqlalchemy as sa

from application.navigation import Navigator
from application.service import AuditService
from audits import commands as c
from audits.clock import FixedClock
from audits.errors import InvalidInput, WrongState
from audits.grades import Grade
from audits.model import Audit, Status
from audits.workdays import uk_time
from audits.workflow import SYSTEM
from cards.actions import Card
from reports.audit_document import render_audit_document
from scheduling.runner import Runner
from store.schema import outbox
from tests.support.allocations import allocation, rows
from tests.support.council import with_own_questions
from tests.support.factories import fill_audit, moderate_audit, sample_value
from tests.support.people import HEAD_OF_SERVICE, QA_MANAGER, QA_OFFICER, people

ONE = people(1)  # the people of allocation(), the audit under test
AUDITOR, SW, MOD, SM = ONE.auditor, ONE.social_worker, ONE.moderator, ONE.service_manager
TM = ONE.team_manager


def _at(service: AuditService, when: datetime) -> AuditService:
    return dataclasses.replace(service, clock=FixedClock(when))


def _move_to(service: AuditService, when: datetime) -> None:
    clock = service.clock
    assert isinstance(clock, FixedClock)
    clock.advance(when - clock.now())


def _uk(text: str) -> datetime:
    """'15 Dec 2026 17:00' in UK time (GMT in winter) as UTC."""
    return datetime.strptime(text, "%d %b %Y %H:%M").replace(tzinfo=UTC)


async def _allocate(
    service: AuditService, template: str, policy: str, child: str = "1000001", n: int = 1
) -> Audit:
    chosen = allocation(child, n=n, template=template, policy=policy)
    [o] = await service.allocate(SYSTEM, rows(chosen))
    return o.audit


def _due(audit: Audit, step: str) -> str:
    return uk_time(audit.deadlines[step].due_at)


async def _notices(service: AuditService) -> list[tuple[str, str, str]]:
    async with service.db.reading() as conn:
        found = await conn.execute(
            sa.select(outbox.c.kind, outbox.c.recipient, outbox.c.payload)
            .where(outbox.c.channel == "teams")
            .order_by(outbox.c.id)
        )
        return [(r.kind, r.recipient, (r.payload or {}).get("step", "")) for r in found.all()]


# ------------------------------------------------------------------- Bristol


async def test_bristol_from_day_one_to_the_social_workers_feedback(service):
    # Tuesday 1 December 2026: the 35 working days cross Christmas, Boxing Day (its
    # substitute, Monday 28) and New Year's Day.
    service = _at(service, _uk("01 Dec 2026 09:00"))
    template = service.catalog.template("bristol-child-case-audit")
    audit = await _allocate(service, template.id, "bristol")
    assert "iro_comments" not in audit.deadlines  # Bristol shares with the IRO afterwards
    assert _due(audit, "audit_completion") == "15 Dec 2026, 17:30"  # 10 working days
    runner = Runner(
        service.db, service.catalog, service.calendar, service.standing, service.clock, "w"
    )

    # Two working days before, the auditor is nudged in the morning.
    _move_to(service, _uk("11 Dec 2026 09:00"))
    await runner.tick()
    assert ("nudge", AUDITOR, "audit_completion") in await _notices(service)

    _move_to(service, _uk("15 Dec 2026 16:00"))
    await fill_audit(service, audit.id, AUDITOR, template)
    submitted = (await service.execute(AUDITOR, audit.id, c.Submit())).audit
    assert _due(submitted, "moderation") == "31 Dec 2026, 17:30"  # 10 working days

    _move_to(service, _uk("31 Dec 2026 16:00"))
    moderated = (await moderate_audit(service, audit.id, MOD, template, Grade.GOOD)).audit
    assert moderated.status is Status.MODERATED
    # No panel: QA shares the moderated audit within 5 working days.
    assert _due(moderated, "closure") == "8 Jan 2027, 17:30"
    assert moderated.deadlines["closure"].owner == QA_OFFICER
    with pytest.raises(WrongState, match="no QA panel"):
        await service.execute(QA_MANAGER, audit.id, c.RecordPanel("agreed", ""))

    _move_to(service, _uk("08 Jan 2027 16:00"))
    closed = (await service.execute(QA_OFFICER, audit.id, c.CloseAudit())).audit
    assert closed.status is Status.CLOSED
    feedback = closed.deadlines["practitioner_feedback"]
    assert feedback.owner == SW
    assert uk_time(feedback.due_at) == "22 Jan 2027, 17:30"
    # Day 1 to the social worker's feedback: 35 working days.
    assert feedback.due_at == service.calendar.after_working_days(_uk("01 Dec 2026 09:00"), 35)
    assert ("feedback_requested", SW, "") in await _notices(service)

    # Not given in time: nudged, then escalated to the QA officer.
    _move_to(service, _uk("23 Jan 2027 10:00"))
    await runner.tick()
    _move_to(service, _uk("25 Jan 2027 09:30"))
    await runner.tick()
    sent = await _notices(service)
    assert ("nudge", SW, "practitioner_feedback") in sent
    assert ("escalation", QA_OFFICER, "practitioner_feedback") in sent

    given = await service.execute(SW, audit.id, c.GivePractitionerFeedback("A fair audit."))
    assert given.audit.practitioner_feedback is not None
    assert not given.audit.deadlines["practitioner_feedback"].open
    with pytest.raises(Exception, match="Only the social worker"):
        await service.execute(AUDITOR, audit.id, c.GivePractitionerFeedback("Not mine"))


async def test_bristol_inadequate_tells_the_service_manager_at_once(service):
    service = _at(service, _uk("01 Dec 2026 09:00"))
    template = service.catalog.template("bristol-child-case-audit")
    audit = await _allocate(service, template.id, "bristol")
    graded = [s.id for s in template.graded_sections if s.id != template.overall_section]
    await fill_audit(
        service,
        audit.id,
        AUDITOR,
        template,
        grades={graded[0]: Grade.INADEQUATE},
        overall=Grade.INADEQUATE,
    )
    # "Actions ... reviewed by the Service Manager within 1 month" is a review, not a
    # latest date: an action due after a month is taken.
    await service.execute(
        AUDITOR, audit.id, c.AddAction("Update the plan with the family", SW, date(2027, 1, 30))
    )
    submitted = (await service.execute(AUDITOR, audit.id, c.Submit())).audit
    alerts = [n for n in await _notices(service) if n[0] == "case_of_concern"]
    assert {who for _, who, _ in alerts} == {SM, QA_OFFICER}
    # The case direction is counted from moderation, not from the alert.
    assert "coc_plan" not in submitted.deadlines
    _move_to(service, _uk("14 Dec 2026 10:00"))
    moderated = (await moderate_audit(service, audit.id, MOD, template, Grade.INADEQUATE)).audit
    # Mon 14 Dec: Tue 15 (1) ... Mon 21 (5).
    assert _due(moderated, "coc_plan") == "21 Dec 2026, 17:30"
    assert moderated.deadlines["coc_plan"].owner == SM
    # The re-audit in 8 weeks, at the same UK time; logged by the QA SW.
    assert _due(moderated, "reaudit") == "8 Feb 2027, 10:00"
    assert moderated.deadlines["reaudit"].owner == QA_OFFICER
    # "Actions ... reviewed by the Service Manager within 1 month and update added as a
    # case direction": a review step of its own, a month after moderation.
    assert _due(moderated, "actions_review") == "14 Jan 2027, 10:00"
    assert moderated.deadlines["actions_review"].owner == SM
    with pytest.raises(Exception, match="Only the service manager"):
        await service.execute(AUDITOR, audit.id, c.ReviewActions("All in hand"))
    reviewed = await service.execute(SM, audit.id, c.ReviewActions("Plan updated; on track"))
    assert not reviewed.audit.deadlines["actions_review"].open
    assert reviewed.audit.actions_reviews[0].text == "Plan updated; on track"
    # "2nd Auditor to re-audit ... (not with worker)": named, neither the audit's own
    # auditor nor the social worker; the QA SW logs it.
    for who, why in (
        (None, "Name the second auditor"),
        (AUDITOR, "not the audit's own auditor"),
        (SW, "without the worker"),
    ):
        with pytest.raises(InvalidInput, match=why):
            await service.execute(
                QA_OFFICER, audit.id, c.RecordReaudit("good", "Plan updated", auditor=who)
            )
    second = "auditor2@council.example"
    # The re-audit form's "Actions required | Responsibility | By when".
    await service.execute(
        QA_OFFICER,
        audit.id,
        c.AddAction("Review the safety plan with the family", TM, date(2027, 3, 1)),
    )
    # Its result goes to the QA SW, the team manager and the allocated worker.
    recorded = await service.execute(
        QA_OFFICER,
        audit.id,
        c.RecordReaudit("requires_improvement", "Plan updated; seen alone", auditor=second),
    )
    coc = recorded.audit.case_of_concern
    assert coc is not None and coc.reaudits[-1].auditor == second
    told = {who for kind, who, _ in await _notices(service) if kind == "reaudit_recorded"}
    assert told == {QA_OFFICER, TM, SW}


# --------------------------------------------------------------- Stage 1/2/3


async def test_stage1_allocated_on_the_25th_is_due_in_the_third_week_of_next_month(service):
    service = _at(service, _uk("25 Nov 2026 10:00"))
    template = service.catalog.template("good-practice-audit")
    audit = await _allocate(service, template.id, "stage123")
    assert _due(audit, "audit_completion") == "21 Dec 2026, 17:30"

    # Allocated early in the month: by the 21st, or the working day before it.
    early = await _allocate(
        _at(service, _uk("02 Nov 2026 09:00")), template.id, "stage123", child="1000002", n=2
    )
    assert _due(early, "audit_completion") == "20 Nov 2026, 17:30"  # the 21st is a Saturday

    # Stage 2: the moderation by the third week of the month it can still be done in.
    _move_to(service, _uk("18 Dec 2026 10:00"))
    await fill_audit(service, audit.id, AUDITOR, template)
    submitted = (await service.execute(AUDITOR, audit.id, c.Submit())).audit
    # Fri 18 Dec: the 21st of this month (Monday) has not passed.
    assert _due(submitted, "moderation") == "21 Dec 2026, 17:30"
    # No IRO/CP chair step and no family feedback before Stage 1 in the guidance.
    assert "iro_comments" not in audit.deadlines
    moderated = (await moderate_audit(service, audit.id, MOD, template, Grade.GOOD)).audit
    assert not moderated.deadlines["moderation"].open and moderated.status is Status.MODERATED
    # Stage 2 alerts the practice manager and the group manager (the auditor) and
    # copies the QA inbox.
    told = {who for kind, who, _ in await _notices(service) if kind == "moderation_complete"}
    assert told == {AUDITOR, TM}
    assert await _mailed(service, "moderation_complete") == {"qa.inbox@council.example"}
    # No QA panel: Stage 3 is the QA Team's.
    with pytest.raises(WrongState, match="no QA panel"):
        await service.execute(QA_MANAGER, audit.id, c.RecordPanel("agreed", ""))
    closed = (await service.execute(QA_OFFICER, audit.id, c.CloseAudit())).audit
    assert closed.status is Status.CLOSED


async def test_stage1_good_with_a_limiting_judgement_not_met_is_refused(service):
    template = service.catalog.template("good-practice-audit")
    audit = await _allocate(service, template.id, "stage123")
    seen_alone = next(
        (s.id, q.id)
        for s in template.sections
        for q in s.questions
        if q.limiting and "alone" in q.text.lower()
    )
    await fill_audit(
        service,
        audit.id,
        AUDITOR,
        template,
        overrides={seen_alone[0]: {seen_alone[1]: "no"}},
    )
    # Refused with the reason, even with a written reason (Swindon would accept one).
    with pytest.raises(InvalidInput, match="Good needs every limiting judgement met"):
        await service.execute(AUDITOR, audit.id, c.Submit(grade_reason="Good all the same"))
    assert (await service.get(audit.id)).status is Status.IN_PROGRESS
    # Seen alone "NA" (an under-five) meets it.
    await service.execute(
        AUDITOR, audit.id, c.AnswerSection(seen_alone[0], values={seen_alone[1]: "na"})
    )
    assert (await service.execute(AUDITOR, audit.id, c.Submit())).audit.status is Status.SUBMITTED


async def test_stage123_action_timescales_are_guidance_not_a_cap(service):
    template = service.catalog.template("good-practice-audit")
    audit = await _allocate(service, template.id, "stage123")
    graded = [s.id for s in template.graded_sections if s.id != template.overall_section]
    await fill_audit(
        service,
        audit.id,
        AUDITOR,
        template,
        grades={graded[0]: Grade.INADEQUATE},
        overall=Grade.INADEQUATE,
    )
    # "5 working days maximum where safeguarding concerns are identified" is not a
    # cap on every action of an Inadequate audit.
    done = await service.execute(
        AUDITOR, audit.id, c.AddAction("Visit the child alone this week", SW, date(2026, 11, 10))
    )
    assert done.audit.actions[0].due == date(2026, 11, 10)

    # Other actions: within 4 weeks.
    other = await _allocate(service, template.id, "stage123", child="1000002", n=2)
    await fill_audit(
        service,
        other.id,
        "auditor2@council.example",
        template,
        grades={graded[0]: Grade.REQUIRES_IMPROVEMENT},
        overall=Grade.REQUIRES_IMPROVEMENT,
    )
    action = "Review the plan with the family and the school"
    # "most other actions ... within a 4 week period": guidance, not a refusal.
    await service.execute(
        "auditor2@council.example",
        other.id,
        c.AddAction(action, "sw2@council.example", date(2026, 12, 1)),
    )


# ------------------------------------------------------------------- Swindon

QA_INBOX = "qa.inbox@council.example"
DIRECTOR = "dara.director@council.example"
HOS_QA = "petra.hosqa@council.example"


def _told(notices: list[tuple[str, str, str]], kind: str) -> set[str]:
    return {who for k, who, _ in notices if k == kind}


async def _mailed(service: AuditService, kind: str) -> set[str]:
    """Who is sent an e-mail of this kind (the QA inbox is sent nothing in Teams)."""
    async with service.db.reading() as conn:
        found = await conn.execute(
            sa.select(outbox.c.recipient).where(outbox.c.channel == "email", outbox.c.kind == kind)
        )
        return {r.recipient for r in found.all()}


async def test_swindon_good_needs_every_limiting_judgement_a_council_turns_on(service):
    """Appendix 6: Good means "All limiting judgements are met", reason or none: with the
    tool's own seven limiting judgements turned on (own_questions), one not met refuses
    a Good."""
    service = dataclasses.replace(
        _at(service, _uk("02 Feb 2027 09:00")), catalog=with_own_questions(service.catalog)
    )
    template = service.catalog.template("swindon-practice-evaluation")
    audit = await _allocate(service, template.id, "swindon")
    section, question = next(
        (s.id, q.id) for s, q in template.limiting_judgements if q.type.value == "yes_no"
    )
    await fill_audit(service, audit.id, AUDITOR, template, overrides={section: {question: "no"}})
    with pytest.raises(InvalidInput, match="Change the grades first"):
        await service.execute(AUDITOR, audit.id, c.Submit(grade_reason="Good all the same"))
    await service.execute(AUDITOR, audit.id, c.AnswerSection(section, values={question: "yes"}))
    submitted = (await service.execute(AUDITOR, audit.id, c.Submit())).audit
    assert submitted.status is Status.SUBMITTED


async def test_swindon_from_allocation_to_closure_with_its_refusals(service):
    # Tuesday 2 February 2027, GMT.
    service = _at(service, _uk("02 Feb 2027 09:00"))
    template = service.catalog.template("swindon-practice-evaluation")
    audit = await _allocate(service, template.id, "swindon")
    # "within 72 hours of knowing an audit is taking place"
    assert _due(audit, "iro_comments") == "5 Feb 2027, 09:00"
    assert audit.deadlines["iro_comments"].owner == ONE.iro
    # 15 working days when the allocation gives no due date (a council option).
    assert _due(audit, "audit_completion") == "23 Feb 2027, 17:30"
    sent = await _notices(service)
    assert _told(sent, "allocated") == {AUDITOR, SW, MOD}
    assert _told(sent, "iro_comments_requested") == {ONE.iro}

    # "(The audit will not be accepted without feedback)": no reason instead of it.
    with pytest.raises(InvalidInput, match="will not be accepted without the family's feedback"):
        await service.execute(
            AUDITOR, audit.id, c.RecordFamilyFeedback(not_sought_reason="The family moved away")
        )
    # The seven limiting judgements are auditbot's own, not on the council's form: off,
    # so the form asks none (test_swindon_good_needs_every_limiting_judgement_turned_on).
    assert template.limiting_judgements == ()

    # Judged Inadequate by the auditor on Friday 26 February.
    _move_to(service, _uk("26 Feb 2027 10:00"))
    graded = [s.id for s in template.graded_sections if s.id != template.overall_section]
    await fill_audit(
        service,
        audit.id,
        AUDITOR,
        template,
        grades={graded[0]: Grade.INADEQUATE},
        overall=Grade.INADEQUATE,
    )
    with pytest.raises(Exception, match="at least one agreed action"):
        await service.execute(AUDITOR, audit.id, c.Submit())
    await service.execute(
        AUDITOR, audit.id, c.AddAction("Visit the child alone within a week", SW, date(2027, 3, 5))
    )
    submitted = (await service.execute(AUDITOR, audit.id, c.Submit())).audit
    # The service manager's plan "within 24 hrs".
    assert _due(submitted, "coc_plan") == "27 Feb 2027, 10:00"
    assert submitted.deadlines["coc_plan"].owner == SM
    assert _due(submitted, "moderation") == "5 Mar 2027, 17:30"  # 5 working days
    alerted = _told(await _notices(service), "case_of_concern")
    assert alerted == {SM, QA_MANAGER, HEAD_OF_SERVICE, DIRECTOR, HOS_QA}
    # By e-mail too; the QA inbox, a shared mailbox, by e-mail only.
    assert await _mailed(service, "case_of_concern") == alerted | {QA_INBOX}

    # Moderated on Friday 26 March; the short audit "within 6 weeks of moderation"
    # falls at the same UK time after the clocks go forward (Sunday 28 March).
    _move_to(service, _uk("26 Mar 2027 10:00"))
    moderated = (await moderate_audit(service, audit.id, MOD, template, Grade.INADEQUATE)).audit
    assert _due(moderated, "reaudit") == "7 May 2027, 10:00"
    assert moderated.deadlines["reaudit"].due_at == datetime(2027, 5, 7, 9, 0, tzinfo=UTC)
    assert moderated.deadlines["reaudit"].owner == QA_MANAGER
    assert QA_MANAGER in _told(await _notices(service), "ready_for_panel")

    # The panel on Easter Monday (a bank holiday): closed within 2 working days.
    _move_to(service, _uk("29 Mar 2027 09:00"))
    panel = (await service.execute(QA_MANAGER, audit.id, c.RecordPanel("agreed", ""))).audit
    assert _due(panel, "closure") == "31 Mar 2027, 17:30"
    await service.execute(QA_MANAGER, audit.id, c.CloseAudit())
    closed_to = _told(await _notices(service), "closed")
    assert closed_to == {SW, AUDITOR, TM, SM, ONE.iro}
    assert await _mailed(service, "closed") == {QA_INBOX}


# ------------------------------------------------- Early Help, YJS, Shropshire


async def _inadequate(service: AuditService, audit: Audit, template_id: str) -> Audit:
    template = service.catalog.template(template_id)
    graded = [s.id for s in template.graded_sections if s.id != template.overall_section]
    await fill_audit(
        service,
        audit.id,
        AUDITOR,
        template,
        grades={graded[0]: Grade.INADEQUATE} if graded else None,
        overall=Grade.INADEQUATE,
    )
    return (await service.execute(AUDITOR, audit.id, c.Submit())).audit


async def test_early_help_runs_its_own_process(service):
    service = _at(service, _uk("07 Dec 2026 09:00"))
    template = service.catalog.template("swindon-early-help")
    audit = await _allocate(service, template.id, "early-help")
    assert set(audit.deadlines) == {"audit_completion"}  # no IRO/CP chair step
    # 20 working days (a council option) over Christmas and New Year.
    assert _due(audit, "audit_completion") == "7 Jan 2027, 17:30"
    # "The audit and moderation include family feedback": no reason instead of it.
    with pytest.raises(InvalidInput, match="will not be accepted without the family's feedback"):
        await service.execute(
            AUDITOR, audit.id, c.RecordFamilyFeedback(not_sought_reason="Not reachable")
        )
    submitted = await _inadequate(service, audit, template.id)
    # "send it immediately to the relevant coordinator": the coordinator only.
    assert _told(await _notices(service), "case_of_concern") == {TM}
    assert "coc_plan" not in submitted.deadlines  # the tool gives no timescale
    assert "moderation" not in submitted.deadlines  # nor for the moderation
    moderated = (await moderate_audit(service, audit.id, MOD, template, Grade.INADEQUATE)).audit
    assert moderated.status is Status.MODERATED and "closure" not in moderated.deadlines
    assert QA_OFFICER in _told(await _notices(service), "ready_to_close")
    with pytest.raises(WrongState, match="no QA panel"):
        await service.execute(QA_MANAGER, audit.id, c.RecordPanel("agreed", ""))
    await service.execute(QA_OFFICER, audit.id, c.CloseAudit())
    assert _told(await _notices(service), "closed") == {SW, AUDITOR, TM}


async def test_youth_justice_runs_its_own_process(service):
    service = _at(service, _uk("07 Dec 2026 09:00"))
    template = service.catalog.template("swindon-youth-justice")
    audit = await _allocate(service, template.id, "youth-justice")
    assert set(audit.deadlines) == {"audit_completion"}
    assert _due(audit, "audit_completion") == "7 Jan 2027, 17:30"
    submitted = await _inadequate(service, audit, template.id)
    assert _told(await _notices(service), "case_of_concern") == {SM}
    assert "moderation" not in submitted.deadlines
    moderated = (await moderate_audit(service, audit.id, MOD, template, Grade.INADEQUATE)).audit
    # The ASPIRE form "can be used to re-audit": no interval is given, so none is set.
    assert "reaudit" not in moderated.deadlines
    # With no deadline the QA manager opening the audit is still sent to the form.
    navigator = Navigator(service.catalog, service.standing)
    assert navigator.where(QA_MANAGER, moderated).card is Card.REAUDIT
    await service.execute(QA_MANAGER, audit.id, c.RecordReaudit("good", "Plan now followed"))
    reaudited = await service.get(audit.id)
    assert navigator.where(QA_MANAGER, reaudited).card is not Card.REAUDIT
    assert _told(await _notices(service), "reaudit_recorded") == {SM, TM}


async def test_shropshire_needs_the_practitioners_checklist_first(service):
    service = _at(service, _uk("07 Dec 2026 09:00"))
    template = service.catalog.template("child-journey-audit")
    assert template.checklist is not None
    audit = await _allocate(service, template.id, "shropshire")
    assert set(audit.deadlines) == {"audit_completion"}
    assert _told(await _notices(service), "checklist_requested") == {SW}
    await fill_audit(service, audit.id, AUDITOR, template)
    # "the practitioner ... completed the Child Journey Audit Checklist prior to the audit"
    with pytest.raises(Exception, match="Child Journey Audit Checklist"):
        await service.execute(AUDITOR, audit.id, c.Submit())
    today = service.calendar.local_date(service.clock.now())
    answers = {q.id: sample_value(q, today) for q in template.checklist.questions if not q.when}
    await service.execute(SW, audit.id, c.CompleteChecklist(values=answers))
    submitted = (await service.execute(AUDITOR, audit.id, c.Submit())).audit
    # The framework describes no moderation (a council option, off): the auditor's
    # grades stand and the findings go to the QP&A Manager at once; the moderator on
    # the allocation is told nothing and asked for nothing.
    assert submitted.status is Status.MODERATED and submitted.moderation is None
    assert "moderation" not in submitted.deadlines
    assert submitted.final_grade is Grade.GOOD
    sent = await _notices(service)
    assert MOD not in {who for _, who, _ in sent}
    assert QA_MANAGER in _told(sent, "ready_to_close")
    with pytest.raises(WrongState, match="not waiting for moderation"):
        await moderate_audit(service, audit.id, MOD, template, Grade.GOOD)
    closed = (await service.execute(QA_MANAGER, audit.id, c.CloseAudit())).audit
    assert _told(await _notices(service), "closed") == {SW, AUDITOR, TM, SM, ONE.iro}
    # The filed document says there was no moderation, not that one is still to come.
    document = docx.Document(io.BytesIO(render_audit_document(closed, template, "closed")))
    said = [p.text for p in document.paragraphs]
    assert "Not moderated: this process has no moderation." in said
    assert "Not yet moderated." not in said


@pytest.mark.parametrize(
    ("policy_id", "template_id"),
    [
        ("shropshire", "child-journey-audit"),
        ("early-help", "swindon-early-help"),
        ("youth-justice", "swindon-youth-justice"),
    ],
)
async def test_no_case_of_concern_plan_where_the_framework_asks_for_none(
    service, policy_id, template_id
):
    """Swindon's service manager's plan is a council option (auditbot's own), off for
    the frameworks that do not describe one: the alert asks for no plan, the service
    manager is not sent to a plan card, a plan is refused, and the case of concern
    closes without one."""
    policy = service.catalog.policy(policy_id)
    assert "coc_plan" not in policy.steps and not policy.steps_off["coc_plan"].enabled
    service = _at(service, _uk("07 Dec 2026 09:00"))
    audit = await _allocate(service, template_id, policy_id)
    if service.catalog.template(template_id).checklist is not None:
        template = service.catalog.template(template_id)
        today = service.calendar.local_date(service.clock.now())
        answers = {q.id: sample_value(q, today) for q in template.checklist.questions if not q.when}
        await service.execute(SW, audit.id, c.CompleteChecklist(values=answers))
    await _inadequate(service, audit, template_id)
    async with service.db.reading() as conn:
        alerts = (
            await conn.execute(
                sa.select(outbox.c.payload).where(
                    outbox.c.kind == "case_of_concern", outbox.c.channel == "teams"
                )
            )
        ).all()
    assert alerts and all(row.payload["plan"] is False for row in alerts)
    with pytest.raises(WrongState, match="has no case of concern plan"):
        await service.execute(SM, audit.id, c.ConfirmPlan("A plan", TM))
    template = service.catalog.template(template_id)
    if "moderation" in policy.steps:
        await moderate_audit(service, audit.id, MOD, template, Grade.INADEQUATE)
    moderated = await service.get(audit.id)
    assert moderated.status is Status.MODERATED and "coc_plan" not in moderated.deadlines
    # The service manager opening the audit is not sent to a plan card.
    assert Navigator(service.catalog, service.standing).where(SM, moderated).card is not Card.PLAN
    if "reaudit" in policy.steps:
        with pytest.raises(Exception, match="the re-audit"):
            await service.execute(QA_MANAGER, audit.id, c.CloseCaseOfConcern("Done"))
        await service.execute(QA_MANAGER, audit.id, c.RecordReaudit("good", "Actions done"))
    closed = (await service.execute(QA_MANAGER, audit.id, c.CloseCaseOfConcern("Done"))).audit
    assert closed.case_of_concern is not None and closed.case_of_concern.closed_at is not None


async def test_bristol_a_service_managers_own_audit_is_moderated_by_qa(service):
    mine = dataclasses.replace(
        allocation(template="bristol-child-case-audit", policy="bristol"),
        participants=ONE.model_copy(update={"auditor": SM}),
    )
    with pytest.raises(Exception, match="moderated by the Quality Assurance Service Manager"):
        await service.allocate(SYSTEM, rows(mine))
    by_qa = dataclasses.replace(
        mine, participants=mine.participants.model_copy(update={"moderator": QA_MANAGER})
    )
    [o] = await service.allocate(SYSTEM, rows(by_qa))
    assert o.audit.participants.moderator == QA_MANAGER


async def test_stage1_overdue_tells_the_auditor_and_nobody_else(service):
    # The guidance escalates no late Stage 1 audit: the auditor is reminded, nobody
    # else is told (before, the QA manager was, a rule of auditbot's own).
    service = _at(service, _uk("02 Nov 2026 09:00"))
    template = service.catalog.template("good-practice-audit")
    audit = await _allocate(service, template.id, "stage123")
    assert _due(audit, "audit_completion") == "20 Nov 2026, 17:30"
    runner = Runner(
        service.db, service.catalog, service.calendar, service.standing, service.clock, "w"
    )
    for day in ("17 Nov 2026 09:30", "20 Nov 2026 09:30", "23 Nov 2026 09:30", "24 Nov 2026 10:00"):
        _move_to(service, _uk(day))
        await runner.tick()
    sent = [n for n in await _notices(service) if n[2] == "audit_completion"]
    assert {(kind, who) for kind, who, _ in sent} == {("nudge", AUDITOR)}
    assert len(sent) == 3  # 3 working days before, on the day, and overdue


async def test_bristol_staff_feedback_has_six_questions_and_asks_for_the_plan(service):
    service = _at(service, _uk("01 Dec 2026 09:00"))
    template = service.catalog.template("bristol-child-case-audit")
    audit = await _allocate(service, template.id, "bristol")
    await fill_audit(service, audit.id, AUDITOR, template, overall=Grade.REQUIRES_IMPROVEMENT)
    await service.execute(
        AUDITOR, audit.id, c.AddAction("Update the plan with the family", SW, date(2027, 1, 8))
    )
    await service.execute(AUDITOR, audit.id, c.Submit())
    await moderate_audit(service, audit.id, MOD, template, Grade.REQUIRES_IMPROVEMENT)
    await service.execute(QA_OFFICER, audit.id, c.CloseAudit())
    answers = {"discussed": "Yes, on 3 December", "learning": "Seek the child's views first"}
    # "If you audit have been graded Requires Improvement or Inadequate, please add you
    # improvement plan."
    with pytest.raises(InvalidInput, match="please add your improvement plan"):
        await service.execute(SW, audit.id, c.GivePractitionerFeedback(answers=answers))
    with pytest.raises(InvalidInput, match="no question colour"):
        await service.execute(SW, audit.id, c.GivePractitionerFeedback(answers={"colour": "red"}))
    planned = {**answers, "improvement_plan": "Direct work with the child fortnightly"}
    given = await service.execute(SW, audit.id, c.GivePractitionerFeedback(answers=planned))
    feedback = given.audit.practitioner_feedback
    assert feedback is not None and feedback.values == planned
    assert not given.audit.deadlines["practitioner_feedback"].open
