"""Moderation: the moderator agrees or regrades each section, then gives the overall
judgement; the audit goes on to the QA panel (or straight to QA to close)."""

from __future__ import annotations

from audits import commands as c
from audits.errors import Incomplete, InvalidInput, WrongState
from audits.grades import Grade, check_overall
from audits.model import Audit, Moderation, SectionAnswer, SectionModeration, Status
from audits.roles import Role
from audits.steps import StepId
from audits.templates import SectionKind, Template
from audits.workdays import as_utc
from audits.workflow._recorder import (
    Outcome,
    Recorder,
    first,
    grade,
    grade_rules,
    people,
    require,
    text,
)
from audits.workflow.actions import start_actions_review
from audits.workflow.answering import unmet_limiting_judgements
from audits.workflow.closing import ask_to_close
from audits.workflow.concern import open_case_of_concern, start_plan_after_moderation
from audits.workflow.notices import ModerationComplete, ReadyForPanel, ReauditRequested, Regrade


def _waiting_for_moderation(audit: Audit) -> None:
    if audit.status is not Status.SUBMITTED:
        raise WrongState(
            f"Audit {audit.id} is {audit.status.label.lower()}, not waiting for moderation"
        )


def moderate_section(rec: Recorder, cmd: c.ModerateSection) -> Outcome:
    require(rec, Role.MODERATOR, doing="moderate the audit")
    audit, template = rec.audit, rec.ctx.template
    _waiting_for_moderation(audit)
    section = template.section(cmd.section)
    if section.kind is not SectionKind.GRADED or section.id == template.overall_section:
        raise InvalidInput(
            f"'{section.label}' is not moderated section by section; "
            "give your overall judgement instead"
        )
    auditor_grade = (audit.answers.get(section.id) or SectionAnswer()).grade
    if cmd.agree:
        if auditor_grade is None:
            raise InvalidInput(f"{section.label} has no grade to agree with")
        decided, reason = auditor_grade, text(cmd.reason, "The comment", required=False)
    else:
        decided = grade(cmd.grade, section.label)
        reason = text(
            cmd.reason,
            f"{section.label}: the reason for changing the grade",
            required=decided is not auditor_grade,
        )
    decision = SectionModeration(
        agreed=decided is auditor_grade,
        auditor_grade=auditor_grade,
        grade=decided,
        reason=reason,
        by=rec.ctx.actor,
        at=rec.ctx.now,
    )
    moderation = audit.moderation or Moderation()
    audit.moderation = moderation
    old = moderation.sections.get(section.id)
    rec.change(f"moderation.{section.id}", old, decision)
    moderation.sections[section.id] = decision
    verb = "agreed" if decision.agreed else f"regraded to {decided.label}"
    return rec.done(f"{section.label}: {verb}")


def _moderated_section_grades(audit: Audit, template: Template) -> dict[str, Grade]:
    assert audit.moderation is not None
    return {
        s.label: audit.moderation.sections[s.id].grade
        for s in template.graded_sections
        if s.id in audit.moderation.sections
    }


def complete_moderation(rec: Recorder, cmd: c.CompleteModeration) -> Outcome:
    require(rec, Role.MODERATOR, doing="complete the moderation")
    audit, template = rec.audit, rec.ctx.template
    _waiting_for_moderation(audit)
    moderation = audit.moderation or Moderation()
    missing = [
        s.label
        for s in template.graded_sections
        if s.id != template.overall_section and s.id not in moderation.sections
    ]
    overall = grade(cmd.grade, template.moderation.title)
    evidence = text(cmd.evidence, f"{template.moderation.title}: evidence", required=False)
    impact = text(cmd.impact, f"{template.moderation.title}: impact", required=False)
    missing += [
        f"{template.moderation.title}: {part}"
        for part, value in (("evidence", evidence), ("impact", impact))
        if not value
    ]
    if missing:
        raise Incomplete(
            f"The moderation of audit {audit.id} is not finished. Still to do", missing
        )
    audit.moderation = moderation
    issues = check_overall(
        overall,
        _moderated_section_grades(audit, template),
        unmet_limiting_judgements(audit, template),
    )
    moderation.grade_reason = grade_rules(rec, issues, cmd.grade_reason)
    moderation.overall, moderation.evidence, moderation.impact = overall, evidence, impact
    moderation.auditor_overall = audit.auditor_grade
    moderation.completed_by, moderation.completed_at = rec.ctx.actor, rec.ctx.now
    rec.change("moderation.overall", audit.auditor_grade, overall)
    rec.finish(StepId.MODERATION)
    rec.status(Status.MODERATED)
    regraded = [
        Regrade(template.section(sid).label, d.auditor_grade, d.grade)
        for sid, d in moderation.sections.items()
        if not d.agreed
    ]
    if overall is not audit.auditor_grade:
        regraded.append(Regrade(template.moderation.title, audit.auditor_grade, overall))
    policy = rec.ctx.policy
    told = {audit.participants.auditor}
    rec.tell(
        ModerationComplete(
            to=audit.participants.auditor, **rec.ids, grade=overall, regraded=tuple(regraded)
        )
    )
    for role in policy.moderation_complete_also_to:
        for who in people(rec, role):
            if who not in told:
                told.add(who)
                rec.tell(
                    ModerationComplete(
                        to=who,
                        **rec.ids,
                        grade=overall,
                        regraded=tuple(regraded),
                        email=role is Role.QA_INBOX,
                        teams=role is not Role.QA_INBOX,  # a mailbox: e-mail only
                    )
                )
    if overall is Grade.INADEQUATE:
        open_case_of_concern(rec, Role.MODERATOR)
    go_on_as_moderated(rec, overall)
    return rec.done(f"Moderation of audit {audit.id} complete: {overall.label}")


def go_on_as_moderated(rec: Recorder, overall: Grade) -> None:
    """What follows a moderated audit: the panel, or QA's closure; the case of concern's
    plan and re-audit counted from moderation; the service manager's actions review.
    Also where a framework has no moderation, straight after submission."""
    audit, policy = rec.audit, rec.ctx.policy
    if policy.panel:
        for qa in rec.ctx.standing.qa_managers:
            rec.tell(ReadyForPanel(to=qa, **rec.ids, grade=overall))
    if audit.case_of_concern is not None:
        # Bristol: the case direction is due 5 working days after moderation.
        start_plan_after_moderation(rec)
    start_actions_review(rec)
    if not policy.panel:
        # No panel (Bristol): QA checks the moderated audit, then shares and closes it.
        ask_to_close(rec, overall)
    if audit.case_of_concern is not None and StepId.REAUDIT in policy.steps:
        actor = policy.steps[StepId.REAUDIT].actor
        owner = first(people(rec, actor))
        if owner:
            deadline = rec.start(StepId.REAUDIT, owner, actor)
            rec.tell(
                ReauditRequested(
                    to=owner, **rec.ids, due=as_utc(deadline.due_at) if deadline else None
                )
            )
