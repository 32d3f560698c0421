"""Answering: the auditor's answers and the family's feedback, the practitioner's
pre-audit checklist, the IRO/CP chair's comments, and submitting for moderation."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from audits import commands as c
from audits.errors import Incomplete, InvalidInput, NotAllowed, WrongState
from audits.grades import Grade, check_overall
from audits.model import (
    AUDITOR_EDITABLE,
    ActionStage,
    Audit,
    FamilyFeedback,
    IroComment,
    SectionAnswer,
    Status,
    Written,
)
from audits.policies import Policy
from audits.roles import Role
from audits.steps import StepId
from audits.templates import Question, Section, SectionKind, Template
from audits.workdays import as_utc
from audits.workflow._recorder import (
    Outcome,
    Recorder,
    grade,
    grade_rules,
    require,
    required_text,
    text,
)
from audits.workflow.concern import open_case_of_concern
from audits.workflow.notices import (
    ChecklistDone,
    IroCommentsAdded,
    ReadyForModeration,
    ReadyForPanel,
)

FEEDBACK_SOURCES = ("child", "young_person", "parent", "carer", "other")


def auditor_may_edit(rec: Recorder, doing: str) -> None:
    require(rec, Role.AUDITOR, doing=doing)
    if rec.audit.status not in AUDITOR_EDITABLE:
        raise WrongState(
            f"Audit {rec.audit.id} is {rec.audit.status.label.lower()}; "
            "the auditor's answers can no longer be changed"
        )
    if rec.audit.status is Status.ALLOCATED:
        rec.status(Status.IN_PROGRESS)


def answer_section(rec: Recorder, cmd: c.AnswerSection) -> Outcome:
    section = rec.ctx.template.section(cmd.section)
    auditor_may_edit(rec, "answer the audit")
    graded = section.kind is SectionKind.GRADED
    if not graded and (cmd.grade or cmd.evidence or cmd.impact):
        raise InvalidInput(f"'{section.title}' takes no grade, evidence or impact")
    parsed: dict[str, Any] = {}
    for key, value in cmd.values.items():
        question = section.question(key)
        if question.prefill:
            raise InvalidInput(
                f"'{question.text}' comes from the allocation and cannot be changed here"
            )
        parsed[key] = question.parse(value)
    new_grade = grade(cmd.grade, section.label) if cmd.grade else None
    evidence = text(cmd.evidence, f"{section.label}: evidence", required=False)
    impact = text(cmd.impact, f"{section.label}: impact", required=False)

    answer = rec.audit.answers.setdefault(section.id, SectionAnswer())
    base = f"answers.{section.id}"
    if new_grade is not None:
        rec.change(f"{base}.grade", answer.grade, new_grade)
        answer.grade = new_grade
    if cmd.evidence is not None:
        rec.change(f"{base}.evidence", answer.evidence, evidence)
        answer.evidence = evidence
    if cmd.impact is not None:
        rec.change(f"{base}.impact", answer.impact, impact)
        answer.impact = impact
    for key, value in parsed.items():
        rec.change(f"{base}.{key}", answer.values.get(key), value)
        if value is None:
            answer.values.pop(key, None)
        else:
            answer.values[key] = value
    answer.updated_by, answer.updated_at = rec.ctx.actor, rec.ctx.now
    return rec.done(f"Saved: {section.label}")


def record_family_feedback(rec: Recorder, cmd: c.RecordFamilyFeedback) -> Outcome:
    auditor_may_edit(rec, "record family feedback")
    unknown = [s for s in cmd.sought_from if s not in FEEDBACK_SOURCES]
    if unknown:
        raise InvalidInput(
            f"Feedback sought from: unknown {', '.join(unknown)}; use {', '.join(FEEDBACK_SOURCES)}"
        )
    summary = text(cmd.summary, "The feedback summary", required=False)
    reason = text(cmd.not_sought_reason, "The reason feedback could not be sought", required=False)
    if (summary is None) == (reason is None):
        raise InvalidInput(
            "Give either a summary of the family's feedback, or the reason it could not be sought"
        )
    if summary is not None and not cmd.sought_from:
        raise InvalidInput("Say whose feedback this is (child, young person, parent, carer, other)")
    if reason is not None and not rec.ctx.policy.family_feedback_reason_accepted:
        raise InvalidInput("This audit will not be accepted without the family's feedback")
    feedback = FamilyFeedback(
        sought_from=list(dict.fromkeys(cmd.sought_from)),
        summary=summary,
        not_sought_reason=reason,
        recorded_by=rec.ctx.actor,
        recorded_at=rec.ctx.now,
    )
    rec.change("family_feedback", rec.audit.family_feedback, feedback)
    rec.audit.family_feedback = feedback
    return rec.done("Family feedback saved")


def add_iro_comments(rec: Recorder, cmd: c.AddIroComments) -> Outcome:
    require(rec, Role.IRO, doing="add IRO/CP chair comments")
    if rec.audit.status is Status.CLOSED:
        raise WrongState(f"Audit {rec.audit.id} is closed")
    comments = required_text(cmd.text, "The comments")
    deadline = rec.audit.deadlines.get(StepId.IRO_COMMENTS)
    late = deadline is not None and as_utc(rec.ctx.now) > as_utc(deadline.due_at)
    comment = IroComment(text=comments, by=rec.ctx.actor, at=rec.ctx.now, late=late)
    rec.audit.iro_comments.append(comment)
    rec.change("iro_comments", None, comment)
    rec.finish(StepId.IRO_COMMENTS)
    rec.tell(IroCommentsAdded(to=rec.audit.participants.auditor, **rec.ids))
    return rec.done("Your comments are saved and the auditor has been told")


def complete_checklist(rec: Recorder, cmd: c.CompleteChecklist) -> Outcome:
    checklist = rec.ctx.template.checklist
    if checklist is None:
        raise InvalidInput(f"'{rec.ctx.template.name}' has no pre-audit checklist")
    role = Role(checklist.completed_by)
    if rec.ctx.actor != rec.audit.participants.of(role):
        raise NotAllowed(f"Only the {role.label} completes the checklist (audit {rec.audit.id})")
    if rec.audit.status not in AUDITOR_EDITABLE:
        raise WrongState(f"Audit {rec.audit.id} has been submitted: the checklist is closed")
    by_id = {q.id: q for q in checklist.questions}
    values: dict[str, Any] = {}
    for key, value in cmd.values.items():
        if key not in by_id:
            raise InvalidInput(f"The checklist has no question '{key}'")
        parsed = by_id[key].parse(value)
        if parsed is not None:
            values[key] = parsed
    unanswered = [
        q.text
        for q in checklist.questions
        if q.id not in values and all(values.get(k) == v for k, v in (q.when or {}).items())
    ]
    if unanswered:
        raise Incomplete(f"{checklist.title} is not finished", unanswered)
    old = rec.audit.checklist
    rec.audit.checklist = Written(values=values, by=rec.ctx.actor, at=rec.ctx.now)
    rec.change("checklist", old.values if old else None, values)
    rec.tell(ChecklistDone(to=rec.audit.participants.auditor, **rec.ids, title=checklist.title))
    return rec.done(f"{checklist.title} saved")


class Gap(StrEnum):
    """Where on the form a missing item is given."""

    SECTION = "section"
    CHECKLIST = "checklist"
    FAMILY_FEEDBACK = "family_feedback"
    ACTIONS = "actions"


@dataclass(frozen=True)
class Missing:
    """One thing that stops the auditor submitting: `where` it is given (a section's
    id for a section), `label` of that place and `what` is missing there."""

    where: Gap
    label: str
    what: str
    section: str | None = None

    @property
    def text(self) -> str:
        return f"{self.label}: {self.what}"


def missing_items(audit: Audit, template: Template, policy: Policy) -> list[Missing]:
    """Everything that stops the auditor submitting, in the form's order."""
    missing: list[Missing] = []
    for section in template.sections:
        answer = audit.answers.get(section.id) or SectionAnswer()
        missing += missing_in_section(section, answer)
    checklist = template.checklist
    if policy.checklist_before_submission and checklist and audit.checklist is None:
        missing.append(
            Missing(
                Gap.CHECKLIST,
                checklist.title,
                f"the {Role(checklist.completed_by).label} completes it before the audit",
            )
        )
    if policy.family_feedback_required and audit.family_feedback is None:
        missing.append(
            Missing(
                Gap.FAMILY_FEEDBACK,
                "Family feedback",
                "the audit will not be accepted without feedback",
            )
        )
    overall = audit.auditor_grade
    if overall in policy.actions_required_when_overall and not any(
        a.stage is ActionStage.AUDIT for a in audit.actions
    ):
        missing.append(
            Missing(
                Gap.ACTIONS,
                template.actions.title,
                f"at least one agreed action when the overall grade is {overall.label}",
            )
        )
    return missing


def missing_in_section(section: Section, answer: SectionAnswer) -> list[Missing]:
    """What one section still needs before the audit can be submitted."""
    missing = []
    if section.kind is SectionKind.GRADED:
        for part, value in (
            ("grade", answer.grade),
            ("evidence", answer.evidence),
            ("impact", answer.impact),
        ):
            if not value:
                missing.append(Missing(Gap.SECTION, section.label, part, section.id))
    for q in section.questions:
        if q.required and _applies(q, answer) and answer.values.get(q.id) in (None, "", []):
            missing.append(Missing(Gap.SECTION, section.label, q.text.splitlines()[0], section.id))
    return missing


def missing_for_submission(audit: Audit, template: Template, policy: Policy) -> list[str]:
    """Everything that stops the auditor submitting, in the form's order, as
    '<where>: <what>'."""
    return [m.text for m in missing_items(audit, template, policy)]


def _applies(q: Question, answer: SectionAnswer) -> bool:
    return all(answer.values.get(k) == v for k, v in (q.when or {}).items())


def unmet_limiting_judgements(audit: Audit, template: Template) -> list[str]:
    unmet = []
    for section, q in template.limiting_judgements:
        value = (audit.answers.get(section.id) or SectionAnswer()).values.get(q.id)
        if value is not None and value not in q.met_by:
            unmet.append(q.text)
    return unmet


def _section_grades(audit: Audit, template: Template) -> dict[str, Grade]:
    grades = {}
    for s in template.graded_sections:
        answer = audit.answers.get(s.id)
        if s.id != template.overall_section and answer and answer.grade:
            grades[s.label] = answer.grade
    return grades


def submit(rec: Recorder, cmd: c.Submit) -> Outcome:
    require(rec, Role.AUDITOR, doing="submit the audit")
    audit, template, policy = rec.audit, rec.ctx.template, rec.ctx.policy
    if audit.status not in AUDITOR_EDITABLE:
        raise WrongState(f"Audit {audit.id} is already {audit.status.label.lower()}")
    missing = missing_for_submission(audit, template, policy)
    if missing:
        raise Incomplete(f"Audit {audit.id} cannot be submitted yet. Still to do", missing)
    overall = audit.auditor_grade
    assert overall is not None
    issues = check_overall(
        overall, _section_grades(audit, template), unmet_limiting_judgements(audit, template)
    )
    reason = grade_rules(rec, issues, cmd.grade_reason)
    rec.change("grade_reason", audit.grade_reason, reason)
    audit.grade_reason = reason
    resubmission = audit.status is Status.RETURNED
    audit.submissions += 1
    audit.submitted_at = rec.ctx.now
    rec.finish(StepId.AUDIT)
    flagged = tuple(
        s.label
        for s in template.graded_sections
        if (a := audit.answers.get(s.id)) and a.grade is Grade.INADEQUATE
    )
    if overall is Grade.INADEQUATE:
        open_case_of_concern(rec, Role.AUDITOR)
    if resubmission and not _grades_changed_since_moderation(audit, template):
        # The panel asked for more evidence; the moderation stands, so back to the panel.
        rec.status(Status.MODERATED)
        for qa in rec.ctx.standing.qa_managers:
            rec.tell(ReadyForPanel(to=qa, **rec.ids, resubmitted=True))
        return rec.done(f"Audit {audit.id} sent back to the QA panel")
    if resubmission:
        # A grade changed after the panel: the moderator must look again.
        rec.change("moderation", audit.moderation, None)
        audit.moderation = None
    if StepId.MODERATION not in policy.steps:
        # The framework has no moderation (Shropshire's, as shipped): the auditor's
        # grades stand and the audit goes on as a moderated one does.
        from audits.workflow.moderation import go_on_as_moderated  # moderation imports us

        rec.status(Status.MODERATED)
        go_on_as_moderated(rec, overall)
        return rec.done(f"Audit {audit.id} submitted")
    rec.status(Status.SUBMITTED)
    due = rec.start(StepId.MODERATION, audit.participants.moderator, Role.MODERATOR)
    rec.tell(
        ReadyForModeration(
            to=audit.participants.moderator,
            **rec.ids,
            due=as_utc(due.due_at) if due else None,
            inadequate_sections=flagged,
            grade=overall,
        )
    )
    return rec.done(f"Audit {audit.id} submitted for moderation")


def _grades_changed_since_moderation(audit: Audit, template: Template) -> bool:
    moderation = audit.moderation
    if moderation is None or moderation.auditor_overall is not audit.auditor_grade:
        return True
    return any(
        decision.auditor_grade is not (audit.answers.get(sid) or SectionAnswer()).grade
        for sid, decision in moderation.sections.items()
    )
