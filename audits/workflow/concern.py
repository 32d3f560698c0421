"""A case of concern: an audit judged Inadequate. The managers are told at once, the
service manager confirms a plan, QA re-audits until it is no longer Inadequate, then
closes it."""

from __future__ import annotations

from audits import commands as c
from audits.errors import Incomplete, InvalidInput, WrongState
from audits.grades import Grade
from audits.model import CaseOfConcern, ReAudit
from audits.roles import Role, person
from audits.steps import StepId
from audits.workdays import as_utc
from audits.workflow._recorder import (
    Outcome,
    Recorder,
    grade,
    people,
    require,
    required_text,
    text,
)
from audits.workflow.notices import (
    CaseOfConcernClosed,
    CaseOfConcernRaised,
    PlanConfirmed,
    ReauditRecorded,
)


def open_case_of_concern(rec: Recorder, raised_by: Role) -> None:
    audit = rec.audit
    if audit.case_of_concern is not None:
        return
    audit.case_of_concern = CaseOfConcern(opened_at=rec.ctx.now, raised_by=raised_by)
    rec.change("case_of_concern", None, audit.case_of_concern)
    step = rec.ctx.policy.step(StepId.COC_PLAN)
    after_moderation = step is not None and step.starts == "moderation"
    plan = (
        None
        if after_moderation
        else rec.start(StepId.COC_PLAN, audit.participants.service_manager, Role.SERVICE_MANAGER)
    )
    told = set()
    for role in rec.ctx.policy.case_of_concern_alert:
        for who in people(rec, role):
            if who not in told:
                told.add(who)
                rec.tell(
                    CaseOfConcernRaised(
                        to=who,
                        **rec.ids,
                        role=role,
                        raised_by=raised_by,
                        plan_due=as_utc(plan.due_at) if plan else None,
                        plan=step is not None,
                        teams=role is not Role.QA_INBOX,  # a mailbox: e-mail only
                    )
                )


def start_plan_after_moderation(rec: Recorder) -> None:
    """Opens the plan (case direction) counted from moderation, when the policy says so."""
    step = rec.ctx.policy.step(StepId.COC_PLAN)
    if step is None or step.starts != "moderation" or StepId.COC_PLAN in rec.audit.deadlines:
        return
    rec.start(StepId.COC_PLAN, rec.audit.participants.service_manager, Role.SERVICE_MANAGER)


def _open_coc(rec: Recorder) -> CaseOfConcern:
    coc = rec.audit.case_of_concern
    if coc is None:
        raise WrongState(f"Audit {rec.audit.id} is not a case of concern")
    if coc.closed_at is not None:
        raise WrongState(f"The case of concern for audit {rec.audit.id} is closed")
    return coc


def confirm_plan(rec: Recorder, cmd: c.ConfirmPlan) -> Outcome:
    require(
        rec, Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE, doing="confirm the case of concern plan"
    )
    coc = _open_coc(rec)
    if StepId.COC_PLAN not in rec.ctx.policy.steps:
        raise WrongState(
            f"{rec.ctx.policy.name} has no case of concern plan: the Inadequate audit's "
            "agreed actions are tracked instead"
        )
    plan = text(cmd.plan, "The plan")
    owner = person(cmd.owner)
    old = coc.plan
    coc.plan, coc.plan_owner, coc.plan_by, coc.plan_at = plan, owner, rec.ctx.actor, rec.ctx.now
    rec.change("case_of_concern.plan", old, {"plan": plan, "owner": owner})
    rec.finish(StepId.COC_PLAN)
    for who in people(rec, Role.QA_MANAGER):
        rec.tell(PlanConfirmed(to=who, **rec.ids))
    return rec.done("Plan recorded as a management decision")


def record_reaudit(rec: Recorder, cmd: c.RecordReaudit) -> Outcome:
    step = rec.ctx.policy.steps.get(StepId.REAUDIT)
    require(
        rec, step.actor if step else Role.QA_MANAGER, Role.QA_MANAGER, doing="record the re-audit"
    )
    coc = _open_coc(rec)
    if rec.audit.moderated_grade is None:
        raise WrongState(f"Audit {rec.audit.id} has not been moderated yet")
    regrade = grade(cmd.grade, "Re-audit")
    form = rec.ctx.template.reaudit
    findings = required_text(cmd.findings, form.findings_label if form else "The re-audit findings")
    auditor = person(cmd.auditor) if cmd.auditor else None
    if rec.ctx.policy.reaudit_by_second_auditor:
        participants = rec.audit.participants
        if auditor is None:
            raise InvalidInput("Name the second auditor who re-audited the case")
        if auditor == participants.auditor:
            raise InvalidInput("The re-audit is by a second auditor, not the audit's own auditor")
        if auditor == participants.social_worker:
            raise InvalidInput("The re-audit is done without the worker: not the social worker")
    reaudit = ReAudit(
        grade=regrade, findings=findings, by=rec.ctx.actor, at=rec.ctx.now, auditor=auditor
    )
    coc.reaudits.append(reaudit)
    rec.change("case_of_concern.reaudit", None, reaudit)
    rec.finish(StepId.REAUDIT)
    if regrade is Grade.INADEQUATE and step is not None:
        # Still Inadequate: another short audit after the same interval.
        rec.start(StepId.REAUDIT, rec.ctx.actor, step.actor)
    told: set[str] = set()
    for role in rec.ctx.policy.reaudit_result_to:
        for who in people(rec, role):
            if who not in told:
                told.add(who)
                rec.tell(ReauditRecorded(to=who, **rec.ids, grade=regrade))
    return rec.done(f"Re-audit recorded: {regrade.label}")


def close_case_of_concern(rec: Recorder, cmd: c.CloseCaseOfConcern) -> Outcome:
    require(rec, Role.QA_OFFICER, Role.QA_MANAGER, doing="close the case of concern")
    coc = _open_coc(rec)
    still = []
    steps = rec.ctx.policy.steps
    # Only what the process asks for: no plan, or no re-audit, where it has none.
    if coc.plan is None and StepId.COC_PLAN in steps:
        still.append("the service manager's plan")
    if not coc.reaudits and StepId.REAUDIT in steps:
        still.append("the re-audit")
    elif coc.reaudits and coc.reaudits[-1].grade is Grade.INADEQUATE:
        still.append("a re-audit that is no longer Inadequate")
    if still:
        raise Incomplete("The case of concern cannot be closed yet. Still to do", still)
    note = text(cmd.note, "The closing note")
    coc.closed_by, coc.closed_at, coc.closing_note = rec.ctx.actor, rec.ctx.now, note
    rec.change("case_of_concern.closed", None, rec.ctx.now)
    rec.finish(StepId.REAUDIT)
    rec.tell(CaseOfConcernClosed(to=rec.audit.participants.service_manager, **rec.ids))
    return rec.done(f"Case of concern for audit {rec.audit.id} closed")
