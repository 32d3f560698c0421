"""Audits at a stage, made by running the real commands through the real AuditService
on a real database, as the audit's people would: never by writing state by hand.

`make_audit(service, stage="submitted")` allocates one and takes it on; `advance` takes
an audit already allocated on to a later stage; `fill_audit` and `moderate_audit` are the
two long steps on their own, for tests that vary them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from application.service import AuditService
from audits import commands as c
from audits.grades import Grade
from audits.model import Audit, Status
from audits.templates import AnswerType, Question, Section, Template
from audits.workflow import Allocation, Outcome
from tests.support.allocations import allocation, rows
from tests.support.people import QA_MANAGER

Stage = Literal["allocated", "filled", "submitted", "moderated", "panel_agreed", "closed"]
STAGES: tuple[Stage, ...] = (
    "allocated",
    "filled",
    "submitted",
    "moderated",
    "panel_agreed",
    "closed",
)
# Where an audit in each state stands among STAGES (an audit in progress is re-filled).
_REACHED: dict[Status, Stage] = {
    Status.ALLOCATED: "allocated",
    Status.IN_PROGRESS: "allocated",
    Status.SUBMITTED: "submitted",
    Status.MODERATED: "moderated",
    Status.PANEL_AGREED: "panel_agreed",
    Status.CLOSED: "closed",
}
EVIDENCE = "Case notes, assessment and plan for the last 6 months"
IMPACT = "The child is safer and their plan is moving on"


def sample_value(q: Question, today: date) -> Any:
    """A plausible answer of the question's type."""
    match q.type:
        case AnswerType.YES_NO | AnswerType.YES_NO_NA:
            return "yes"
        case AnswerType.CHOICE:
            return q.options[0].id
        case AnswerType.MULTI_CHOICE:
            return [q.options[0].id]
        case AnswerType.DATE:
            return today.isoformat()
        case AnswerType.NUMBER:
            return q.min if q.min is not None else 0
        case AnswerType.GRADE:
            return Grade.GOOD.value
        case AnswerType.PERSON:
            return "someone@council.example"
    return f"Demo answer to: {q.text.splitlines()[0][:40]}"


def sample_answers(section: Section, today: date, given: dict[str, Any]) -> dict[str, Any]:
    """A sample for every question the auditor answers (`given` wins), leaving out those
    whose condition the others do not meet (e.g. "If Yes, when?")."""
    values = {
        q.id: given.get(q.id, sample_value(q, today)) for q in section.questions if not q.prefill
    }
    return {
        qid: value
        for qid, value in values.items()
        if all(values.get(dep) == want for dep, want in (section.question(qid).when or {}).items())
    }


async def fill_audit(
    service: AuditService,
    audit_id: str,
    auditor: str,
    template: Template,
    grades: dict[str, Grade] | None = None,
    overall: Grade = Grade.GOOD,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> Outcome:
    """Answers every section as the auditor (Good unless graded otherwise), then records
    the family's feedback."""
    today = service.calendar.local_date(service.clock.now())
    for section in template.sections:
        graded = section.kind.value == "graded"
        grade = (
            overall if section.id == template.overall_section else (grades or {}).get(section.id)
        )
        await service.execute(
            auditor,
            audit_id,
            c.AnswerSection(
                section=section.id,
                grade=(grade or Grade.GOOD).value if graded else None,
                evidence=EVIDENCE if graded else None,
                impact=IMPACT if graded else None,
                values=sample_answers(section, today, (overrides or {}).get(section.id, {})),
            ),
        )
    return await service.execute(
        auditor,
        audit_id,
        c.RecordFamilyFeedback(
            sought_from=("parent",),
            summary="Mother said the social worker listens and visits often.",
        ),
    )


async def moderate_audit(
    service: AuditService,
    audit_id: str,
    moderator: str,
    template: Template,
    overall: Grade,
    regrade: dict[str, Grade] | None = None,
) -> Outcome:
    """Moderates every graded section (agreeing unless regraded), then completes."""
    for section in template.graded_sections:
        if section.id == template.overall_section:
            continue
        new = (regrade or {}).get(section.id)
        await service.execute(
            moderator,
            audit_id,
            c.ModerateSection(section.id, agree=True)
            if new is None
            else c.ModerateSection(
                section.id,
                agree=False,
                grade=new.value,
                reason="The evidence recorded does not support this grade.",
            ),
        )
    return await service.execute(
        moderator,
        audit_id,
        c.CompleteModeration(
            grade=overall.value,
            evidence="Read the audit and the case file.",
            impact="Agreed with the auditor after a reflective discussion.",
        ),
    )


async def advance(
    service: AuditService,
    audit: Audit,
    to: Stage,
    *,
    grade: Grade = Grade.GOOD,
    action: str | None = None,
    iro_comments: str | None = None,
) -> Audit:
    """Takes an audit on from where it stands to `to`: the IRO/CP chair comments (when
    `iro_comments` is given), the auditor fills it in with `grade` overall (adding
    `action` for the social worker, due in four weeks), submits; the moderator agrees
    with `grade`; the QA manager records the panel's agreement and closes it."""
    template = service.catalog.template(audit.template)
    p = audit.participants
    if iro_comments is not None:
        audit = (await service.execute(p.iro, audit.id, c.AddIroComments(iro_comments))).audit
    done = STAGES.index(_REACHED[audit.status])
    steps = STAGES[done + 1 : STAGES.index(to) + 1]
    for stage in steps:
        match stage:
            case "filled":
                outcome = await fill_audit(service, audit.id, p.auditor, template, overall=grade)
                if action is not None:
                    due = service.calendar.local_date(service.clock.now()) + timedelta(days=28)
                    outcome = await service.execute(
                        p.auditor, audit.id, c.AddAction(action, p.social_worker, due)
                    )
            case "submitted":
                outcome = await service.execute(p.auditor, audit.id, c.Submit())
            case "moderated":
                outcome = await moderate_audit(service, audit.id, p.moderator, template, grade)
            case "panel_agreed":
                outcome = await service.execute(QA_MANAGER, audit.id, c.RecordPanel("agreed", ""))
            case "closed":
                outcome = await service.execute(QA_MANAGER, audit.id, c.CloseAudit())
        audit = outcome.audit
    return audit


async def make_audit(
    service: AuditService,
    stage: Stage = "allocated",
    *,
    of: Allocation | None = None,
    grade: Grade = Grade.GOOD,
    action: str | None = None,
    iro_comments: str | None = None,
) -> Audit:
    """One audit allocated by the QA manager (`of`, or child 1000001 with people(1)) and
    taken on to `stage` (see `advance`)."""
    [outcome] = await service.allocate(QA_MANAGER, rows(of or allocation()))
    return await advance(
        service, outcome.audit, stage, grade=grade, action=action, iro_comments=iro_comments
    )
