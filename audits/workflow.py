"""The audit workflow: pure functions from (audit, command, context) to an outcome.

Nothing here reads a clock, a file or a database. The application layer
loads the audit, calls `apply`, and commits the new state, the changes (the
audit trail), the notices (the outbox) and the deadlines (the timers) in one
transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from audits import commands as c
from audits.errors import Incomplete, InvalidInput, NotAllowed, NotFound, WrongState
from audits.grades import Grade, GradeIssue, check_overall
from audits.model import (
    AUDITOR_EDITABLE,
    ActionStage,
    ActionStatus,
    AgreedAction,
    Audit,
    CaseOfConcern,
    Deadline,
    Extension,
    FamilyFeedback,
    IroComment,
    Moderation,
    PanelOutcome,
    PanelRecord,
    Participants,
    ReAudit,
    SectionAnswer,
    SectionModeration,
    Status,
    Written,
)
from audits.policies import Policy, RuleAction, StepId
from audits.reminders import people_in_role
from audits.roles import AUDIT_ROLES, Role, StandingRoles, person
from audits.templates import MAX_TEXT, Question, SectionKind, Template
from audits.workdays import WorkingCalendar, as_utc

SYSTEM = "system"  # the command line and the clock act as this
FEEDBACK_SOURCES = ("child", "young_person", "parent", "carer", "other")
_CHILD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/-]{0,31}$")


class NoticeKind(StrEnum):
    ALLOCATED = "allocated"
    IRO_COMMENTS_REQUESTED = "iro_comments_requested"
    IRO_COMMENTS_ADDED = "iro_comments_added"
    READY_FOR_MODERATION = "ready_for_moderation"
    MODERATION_COMPLETE = "moderation_complete"
    READY_FOR_PANEL = "ready_for_panel"
    READY_TO_CLOSE = "ready_to_close"
    RETURNED = "returned"
    CLOSED = "closed"
    CASE_OF_CONCERN = "case_of_concern"
    PLAN_CONFIRMED = "plan_confirmed"
    REAUDIT_RECORDED = "reaudit_recorded"
    CASE_OF_CONCERN_CLOSED = "case_of_concern_closed"
    ACTION_ASSIGNED = "action_assigned"
    ACTION_TO_SIGN_OFF = "action_to_sign_off"
    ACTION_SIGNED_OFF = "action_signed_off"
    ACTION_RETURNED = "action_returned"
    REASSIGNED_TO = "reassigned_to"
    REASSIGNED_AWAY = "reassigned_away"
    DEADLINE_MOVED = "deadline_moved"
    CHECKLIST_DONE = "checklist_done"
    CHECKLIST_REQUESTED = "checklist_requested"
    FEEDBACK_REQUESTED = "feedback_requested"
    NUDGE = "nudge"  # sent by the scheduler: a deadline is near, or has passed
    ESCALATION = "escalation"  # sent by the scheduler: someone else's deadline has passed


@dataclass(frozen=True)
class Context:
    actor: str
    now: datetime
    template: Template
    policy: Policy
    calendar: WorkingCalendar
    standing: StandingRoles


@dataclass(frozen=True)
class Change:
    what: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Notice:
    """Something a person must be told. Carries the child's ID, never a name or answer text."""

    to: str
    kind: NoticeKind
    data: dict[str, Any]
    urgent: bool = False
    email: bool = False


@dataclass
class Outcome:
    audit: Audit
    message: str
    changes: list[Change] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


@dataclass(frozen=True)
class Allocation:
    child_id: str
    strand: str
    team: str
    participants: Participants
    template: str
    policy: str
    due: date | None = None


class _Recorder:
    """Mutates a private copy of the audit and writes down every change and notice."""

    def __init__(self, audit: Audit, ctx: Context) -> None:
        # A validated copy: faster than deepcopy, and nothing shared with the caller's audit.
        self.audit = Audit.model_validate(audit.model_dump())
        self.ctx = ctx
        self.changes: list[Change] = []
        self.notices: list[Notice] = []

    def change(self, what: str, old: Any, new: Any) -> None:
        if old != new:
            self.changes.append(Change(what, _plain(old), _plain(new)))

    def status(self, new: Status) -> None:
        self.change("status", self.audit.status, new)
        self.audit.status = new

    def tell(
        self,
        to: str | None,
        kind: NoticeKind,
        urgent: bool = False,
        email: bool = False,
        **data: Any,
    ) -> None:
        if to is None:
            return
        payload = {"audit_id": self.audit.id, "child_id": self.audit.child_id, **data}
        self.notices.append(Notice(to, kind, payload, urgent=urgent, email=email))

    def start(
        self,
        step: StepId,
        owner: str,
        role: Role,
        key: str | None = None,
        due_at: datetime | None = None,
    ) -> Deadline | None:
        """Opens the step's deadline as the policy says (or at `due_at`); None if it has none."""
        policy_step = self.ctx.policy.step(step)
        if policy_step is None:
            return None
        if due_at is None:
            if policy_step.deadline is None:
                return None
            due_at = policy_step.deadline.after(self.ctx.now, self.ctx.calendar)
        key = key or step.value
        old = self.audit.deadlines.get(key)
        deadline = Deadline(
            step=key,
            owner=owner,
            role=role,
            started_at=self.ctx.now,
            due_at=due_at,
            urgent=policy_step.urgent,
        )
        self.audit.deadlines[key] = deadline
        self.change(f"deadline.{key}", old.due_at if old and old.open else None, due_at)
        return deadline

    def finish(self, key: str) -> None:
        deadline = self.audit.deadlines.get(key)
        if deadline is not None and deadline.open:
            deadline.done_at = self.ctx.now
            self.change(f"deadline.{key}.done", None, self.ctx.now)

    def stop(self, key: str) -> None:
        deadline = self.audit.deadlines.get(key)
        if deadline is not None and deadline.open:
            deadline.done_at, deadline.stopped = self.ctx.now, True
            self.change(f"deadline.{key}.stopped", None, self.ctx.now)

    def drop(self, key: str) -> None:
        deadline = self.audit.deadlines.pop(key, None)
        if deadline is not None:
            self.change(f"deadline.{key}", deadline.due_at, None)

    def done(self, message: str) -> Outcome:
        return Outcome(self.audit, message, self.changes, self.notices)


def _plain(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return value


# ---------------------------------------------------------------- allocation


def check_allocation(a: Allocation, template: Template) -> Allocation:
    """Refuses an allocation that cannot be right; returns it with the strand normalised."""
    if not _CHILD_ID.match(a.child_id):
        raise InvalidInput(f"'{a.child_id}' is not a child's ID number (letters and digits)")
    if not a.team.strip():
        raise InvalidInput("the team is missing")
    p = a.participants
    if p.auditor == p.moderator:
        raise InvalidInput("the auditor and the moderator must be different people")
    if p.auditor == p.social_worker:
        raise InvalidInput("the social worker cannot audit their own case")
    if p.moderator == p.social_worker:
        raise InvalidInput("the social worker cannot moderate their own case")
    return Allocation(
        child_id=a.child_id,
        strand=_strand_id(a.strand, template),
        team=a.team.strip(),
        participants=p,
        template=a.template,
        policy=a.policy,
        due=a.due,
    )


def _strand_id(strand: str, template: Template) -> str:
    for section in template.sections:
        for q in section.questions:
            if q.prefill == "strand" and q.options:
                wanted = strand.strip().lower()
                for option in q.options:
                    if wanted in (option.id, option.label.lower()):
                        return option.id
                choices = ", ".join(o.id for o in q.options)
                raise InvalidInput(f"'{strand}' is not a strand of this audit tool ({choices})")
    if not strand.strip():
        raise InvalidInput("the strand is missing")
    return strand.strip()


def allocate(audit_id: str, allocation: Allocation, ctx: Context) -> Outcome:
    if ctx.actor != SYSTEM and not (
        ctx.standing.holds(ctx.actor, Role.QA_OFFICER)
        or ctx.standing.holds(ctx.actor, Role.QA_MANAGER)
    ):
        raise NotAllowed("Only the QA team can allocate audits")
    a = check_allocation(allocation, ctx.template)
    today = ctx.calendar.local_date(ctx.now)
    if a.due is not None and a.due <= today:
        raise InvalidInput(f"the due date {a.due.isoformat()} is not after today")
    p = a.participants
    audit = Audit(
        id=audit_id,
        child_id=a.child_id,
        cycle=f"{today:%Y-%m}",
        strand=a.strand,
        team=a.team,
        template=ctx.template.id,
        policy=ctx.policy.id,
        overall_section=ctx.template.overall_section,
        participants=p,
        allocated_by=ctx.actor,
        allocated_at=ctx.now,
    )
    prefill = {
        "child_id": a.child_id,
        "team": a.team,
        "strand": a.strand,
        "allocated_on": today.isoformat(),
        **{role.value: p.of(role) for role in AUDIT_ROLES},
    }
    for section in ctx.template.sections:
        values = {q.id: prefill[q.prefill] for q in section.questions if q.prefill}
        if values:
            audit.answers[section.id] = SectionAnswer(
                values=values, updated_by=ctx.actor, updated_at=ctx.now
            )
    rec = _Recorder(audit, ctx)
    rec.change(
        "allocated",
        None,
        {"child_id": a.child_id, "strand": a.strand, "team": a.team, **p.model_dump()},
    )
    due = ctx.calendar.close_of(a.due) if a.due else None
    audit_due = rec.start(StepId.AUDIT, p.auditor, Role.AUDITOR, due_at=due)
    iro_due = rec.start(StepId.IRO_COMMENTS, p.iro, Role.IRO)
    for role in (Role.AUDITOR, Role.SOCIAL_WORKER, Role.MODERATOR):
        rec.tell(
            p.of(role),
            NoticeKind.ALLOCATED,
            role=role.value,
            due=_iso(audit_due.due_at) if audit_due else None,
        )
    if iro_due is not None:
        rec.tell(
            p.iro, NoticeKind.IRO_COMMENTS_REQUESTED, role=Role.IRO.value, due=_iso(iro_due.due_at)
        )
    checklist = ctx.template.checklist
    if checklist is not None:
        rec.tell(
            p.of(Role(checklist.completed_by)),
            NoticeKind.CHECKLIST_REQUESTED,
            title=checklist.title,
            due=_iso(audit_due.due_at) if audit_due else None,
        )
    return rec.done(f"Audit {audit_id} allocated for child {a.child_id}")


def _iso(instant: datetime) -> str:
    return as_utc(instant).isoformat()


# ------------------------------------------------------------------ commands


def apply(audit: Audit, command: c.Command, ctx: Context) -> Outcome:
    if audit.template != ctx.template.id or audit.policy != ctx.policy.id:
        raise AssertionError("context built for another template or policy")
    handler = _HANDLERS.get(type(command))
    if handler is None:
        raise InvalidInput(f"Unknown command {type(command).__name__}")
    rec = _Recorder(audit, ctx)
    outcome: Outcome = handler(rec, command)
    return outcome


def roles_of(audit: Audit, who: str, standing: StandingRoles) -> set[Role]:
    roles = set(audit.participants.roles_of(who))
    for role in (Role.QA_OFFICER, Role.QA_MANAGER, Role.PANEL):
        if standing.holds(who, role):
            roles.add(role)
    if standing.holds(who, Role.HEAD_OF_SERVICE, audit.strand):
        roles.add(Role.HEAD_OF_SERVICE)
    if any(a.owner == who for a in audit.actions):
        roles.add(Role.ACTION_OWNER)
    return roles


def _require(rec: _Recorder, *allowed: Role, doing: str) -> set[Role]:
    held = roles_of(rec.audit, rec.ctx.actor, rec.ctx.standing)
    if not held.intersection(allowed):
        who = " or ".join(r.label for r in allowed)
        raise NotAllowed(f"Only the {who} can {doing} (audit {rec.audit.id})")
    return held


def _text(value: str | None, what: str, required: bool = True) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{what} is empty")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{what} is too long (at most {MAX_TEXT} characters)")
    return text or None


def _grade(value: str | None, what: str) -> Grade:
    if value is None or not str(value).strip():
        raise InvalidInput(f"{what}: choose a grade")
    try:
        return Grade.parse(value)
    except ValueError as exc:
        raise InvalidInput(f"{what}: {exc}") from exc


def _auditor_may_edit(rec: _Recorder, doing: str) -> None:
    _require(rec, Role.AUDITOR, doing=doing)
    if rec.audit.status not in AUDITOR_EDITABLE:
        raise WrongState(
            f"Audit {rec.audit.id} is {rec.audit.status.label.lower()}; "
            "the auditor's answers can no longer be changed"
        )
    if rec.audit.status is Status.ALLOCATED:
        rec.status(Status.IN_PROGRESS)


def _answer_section(rec: _Recorder, cmd: c.AnswerSection) -> Outcome:
    section = rec.ctx.template.section(cmd.section)
    _auditor_may_edit(rec, "answer the audit")
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
    grade = _grade(cmd.grade, section.label) if cmd.grade else None
    evidence = _text(cmd.evidence, f"{section.label}: evidence", required=False)
    impact = _text(cmd.impact, f"{section.label}: impact", required=False)

    answer = rec.audit.answers.setdefault(section.id, SectionAnswer())
    base = f"answers.{section.id}"
    if grade is not None:
        rec.change(f"{base}.grade", answer.grade, grade)
        answer.grade = grade
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


def _record_family_feedback(rec: _Recorder, cmd: c.RecordFamilyFeedback) -> Outcome:
    _auditor_may_edit(rec, "record family feedback")
    unknown = [s for s in cmd.sought_from if s not in FEEDBACK_SOURCES]
    if unknown:
        raise InvalidInput(
            f"Feedback sought from: unknown {', '.join(unknown)}; use {', '.join(FEEDBACK_SOURCES)}"
        )
    summary = _text(cmd.summary, "The feedback summary", required=False)
    reason = _text(cmd.not_sought_reason, "The reason feedback could not be sought", required=False)
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


def _add_iro_comments(rec: _Recorder, cmd: c.AddIroComments) -> Outcome:
    _require(rec, Role.IRO, doing="add IRO/CP chair comments")
    if rec.audit.status is Status.CLOSED:
        raise WrongState(f"Audit {rec.audit.id} is closed")
    text = _text(cmd.text, "The comments")
    assert text is not None
    deadline = rec.audit.deadlines.get(StepId.IRO_COMMENTS.value)
    late = deadline is not None and as_utc(rec.ctx.now) > as_utc(deadline.due_at)
    comment = IroComment(text=text, by=rec.ctx.actor, at=rec.ctx.now, late=late)
    rec.audit.iro_comments.append(comment)
    rec.change("iro_comments", None, comment)
    rec.finish(StepId.IRO_COMMENTS.value)
    rec.tell(rec.audit.participants.auditor, NoticeKind.IRO_COMMENTS_ADDED)
    return rec.done("Your comments are saved and the auditor has been told")


def _action_stage(rec: _Recorder, doing: str) -> ActionStage:
    held = roles_of(rec.audit, rec.ctx.actor, rec.ctx.standing)
    status = rec.audit.status
    if Role.AUDITOR in held and status in AUDITOR_EDITABLE:
        _auditor_may_edit(rec, doing)
        return ActionStage.AUDIT
    if Role.MODERATOR in held and status is Status.SUBMITTED:
        return ActionStage.MODERATION
    coc = rec.audit.case_of_concern
    if coc and coc.closed_at is None and held & {Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE}:
        return ActionStage.CASE_OF_CONCERN
    if held & {Role.AUDITOR, Role.MODERATOR, Role.SERVICE_MANAGER}:
        raise WrongState(f"Audit {rec.audit.id} is {status.label.lower()}: you cannot {doing} now")
    raise NotAllowed(
        f"Only the auditor, the moderator or, for a case of concern, the service "
        f"manager can {doing} (audit {rec.audit.id})"
    )


def _add_action(rec: _Recorder, cmd: c.AddAction) -> Outcome:
    stage = _action_stage(rec, "add an action")
    text = _text(cmd.text, "The action")
    assert text is not None
    if len(text.split()) < 4:
        raise InvalidInput("Write the action so it says what will be done, by when and why (SMART)")
    owner = person(cmd.owner)
    try:
        due = cmd.due if isinstance(cmd.due, date) else date.fromisoformat(str(cmd.due).strip())
    except ValueError as exc:
        raise InvalidInput(f"'{cmd.due}' is not a date (use YYYY-MM-DD)") from exc
    if due < rec.ctx.calendar.local_date(rec.ctx.now):
        raise InvalidInput(f"The completion date {due.isoformat()} is in the past")
    policy = rec.ctx.policy
    inadequate = rec.audit.final_grade is Grade.INADEQUATE
    limit = (
        policy.action_due_within_if_inadequate or policy.action_due_within
        if inadequate
        else policy.action_due_within
    )
    if limit is not None:
        latest = rec.ctx.calendar.local_date(limit.after(rec.ctx.now, rec.ctx.calendar))
        if due > latest:
            raise InvalidInput(
                f"{'Actions from an Inadequate audit' if inadequate else 'Actions'} must be "
                f"completed within {limit.describe()}: by {latest:%d %b %Y} at the latest"
            )
    number = max((a.number for a in rec.audit.actions), default=0) + 1
    action = AgreedAction(
        number=number,
        stage=stage,
        text=text,
        owner=owner,
        due=due,
        created_by=rec.ctx.actor,
        created_at=rec.ctx.now,
    )
    rec.audit.actions.append(action)
    rec.change(f"actions.{number}", None, action)
    rec.start(
        StepId.ACTION,
        owner,
        Role.ACTION_OWNER,
        key=f"action-{number}",
        due_at=rec.ctx.calendar.close_of(due),
    )
    rec.tell(owner, NoticeKind.ACTION_ASSIGNED, action=number, due=due.isoformat())
    return rec.done(f"Action {number} added")


def _remove_action(rec: _Recorder, cmd: c.RemoveAction) -> Outcome:
    stage = _action_stage(rec, "remove an action")
    action = _find_action(rec, cmd.number)
    if action.stage is not stage or action.status is not ActionStatus.OPEN:
        raise WrongState(f"Action {action.number} can no longer be removed")
    rec.audit.actions.remove(action)
    rec.change(f"actions.{action.number}", action, None)
    rec.drop(f"action-{action.number}")
    return rec.done(f"Action {action.number} removed")


def _find_action(rec: _Recorder, number: int) -> AgreedAction:
    action = rec.audit.action(number)
    if action is None:
        raise NotFound(f"Audit {rec.audit.id} has no action {number}")
    return action


def missing_for_submission(audit: Audit, template: Template, policy: Policy) -> list[str]:
    """Everything that stops the auditor submitting, in the form's order."""
    missing: list[str] = []
    for section in template.sections:
        answer = audit.answers.get(section.id) or SectionAnswer()
        if section.kind is SectionKind.GRADED:
            for part, value in (
                ("grade", answer.grade),
                ("evidence", answer.evidence),
                ("impact", answer.impact),
            ):
                if not value:
                    missing.append(f"{section.label}: {part}")
        for q in section.questions:
            if q.required and _applies(q, answer) and answer.values.get(q.id) in (None, "", []):
                missing.append(f"{section.label}: {q.text.splitlines()[0]}")
    if policy.family_feedback_required and audit.family_feedback is None:
        missing.append("Family feedback: the audit will not be accepted without feedback")
    overall = audit.auditor_grade
    if overall in policy.actions_required_when_overall and not any(
        a.stage is ActionStage.AUDIT for a in audit.actions
    ):
        missing.append(
            f"{template.actions.title}: at least one agreed action when the overall "
            f"grade is {overall.label}"
        )
    return missing


def _applies(q: Question, answer: SectionAnswer) -> bool:
    return all(answer.values.get(k) == v for k, v in (q.when or {}).items())


def unmet_limiting_judgements(audit: Audit, template: Template) -> list[str]:
    unmet = []
    for section, q in template.limiting_judgements:
        value = (audit.answers.get(section.id) or SectionAnswer()).values.get(q.id)
        if value is not None and value not in q.met_by:
            unmet.append(q.text)
    return unmet


def _grade_rules(rec: _Recorder, issues: list[GradeIssue], reason: str | None) -> str | None:
    """Applies the policy to inconsistent grades: refuse, or accept with a written reason."""
    needs_reason = []
    for issue in issues:
        if rec.ctx.policy.grade_rules.get(issue.rule, RuleAction.REFUSE) is RuleAction.REFUSE:
            raise InvalidInput(f"{issue.message}. Change the grades first.")
        needs_reason.append(issue.message)
    if not needs_reason:
        return None
    text = _text(reason, "The reason for this grade", required=False)
    if text is None:
        raise InvalidInput(f"{'; '.join(needs_reason)}. Give your reason to keep this grade.")
    return text


def _section_grades(audit: Audit, template: Template) -> dict[str, Grade]:
    grades = {}
    for s in template.graded_sections:
        answer = audit.answers.get(s.id)
        if s.id != template.overall_section and answer and answer.grade:
            grades[s.label] = answer.grade
    return grades


def _submit(rec: _Recorder, cmd: c.Submit) -> Outcome:
    _require(rec, Role.AUDITOR, doing="submit the audit")
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
    reason = _grade_rules(rec, issues, cmd.grade_reason)
    rec.change("grade_reason", audit.grade_reason, reason)
    audit.grade_reason = reason
    resubmission = audit.status is Status.RETURNED
    audit.submissions += 1
    audit.submitted_at = rec.ctx.now
    rec.finish(StepId.AUDIT.value)
    flagged = [
        s.label
        for s in template.graded_sections
        if (a := audit.answers.get(s.id)) and a.grade is Grade.INADEQUATE
    ]
    if overall is Grade.INADEQUATE:
        _open_case_of_concern(rec, Role.AUDITOR)
    if resubmission and not _grades_changed_since_moderation(audit, template):
        # The panel asked for more evidence; the moderation stands, so back to the panel.
        rec.status(Status.MODERATED)
        for qa in rec.ctx.standing.qa_managers:
            rec.tell(qa, NoticeKind.READY_FOR_PANEL, resubmitted=True)
        return rec.done(f"Audit {audit.id} sent back to the QA panel")
    if resubmission:
        # A grade changed after the panel: the moderator must look again.
        rec.change("moderation", audit.moderation, None)
        audit.moderation = None
    rec.status(Status.SUBMITTED)
    due = rec.start(StepId.MODERATION, audit.participants.moderator, Role.MODERATOR)
    rec.tell(
        audit.participants.moderator,
        NoticeKind.READY_FOR_MODERATION,
        due=_iso(due.due_at) if due else None,
        inadequate_sections=flagged,
        grade=overall.value,
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


def _open_case_of_concern(rec: _Recorder, raised_by: Role) -> None:
    audit = rec.audit
    if audit.case_of_concern is not None:
        return
    audit.case_of_concern = CaseOfConcern(opened_at=rec.ctx.now, raised_by=raised_by)
    rec.change("case_of_concern", None, audit.case_of_concern)
    plan = rec.start(StepId.COC_PLAN, audit.participants.service_manager, Role.SERVICE_MANAGER)
    told = set()
    for role in rec.ctx.policy.case_of_concern_alert:
        for who in _people(rec, role):
            if who not in told:
                told.add(who)
                rec.tell(
                    who,
                    NoticeKind.CASE_OF_CONCERN,
                    urgent=True,
                    email=True,
                    role=role.value,
                    raised_by=raised_by.value,
                    plan_due=_iso(plan.due_at) if plan else None,
                )


def _people(rec: _Recorder, role: Role) -> list[str]:
    return people_in_role(rec.audit, role, rec.ctx.standing)


def _moderate_section(rec: _Recorder, cmd: c.ModerateSection) -> Outcome:
    _require(rec, Role.MODERATOR, doing="moderate the audit")
    audit, template = rec.audit, rec.ctx.template
    if audit.status is not Status.SUBMITTED:
        raise WrongState(
            f"Audit {audit.id} is {audit.status.label.lower()}, not waiting for moderation"
        )
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
        grade, reason = auditor_grade, _text(cmd.reason, "The comment", required=False)
    else:
        grade = _grade(cmd.grade, section.label)
        reason = _text(
            cmd.reason,
            f"{section.label}: the reason for changing the grade",
            required=grade is not auditor_grade,
        )
    decision = SectionModeration(
        agreed=grade is auditor_grade,
        auditor_grade=auditor_grade,
        grade=grade,
        reason=reason,
        by=rec.ctx.actor,
        at=rec.ctx.now,
    )
    moderation = audit.moderation or Moderation()
    audit.moderation = moderation
    old = moderation.sections.get(section.id)
    rec.change(f"moderation.{section.id}", old, decision)
    moderation.sections[section.id] = decision
    verb = "agreed" if decision.agreed else f"regraded to {grade.label}"
    return rec.done(f"{section.label}: {verb}")


def _moderated_section_grades(audit: Audit, template: Template) -> dict[str, Grade]:
    assert audit.moderation is not None
    return {
        s.label: audit.moderation.sections[s.id].grade
        for s in template.graded_sections
        if s.id in audit.moderation.sections
    }


def _complete_moderation(rec: _Recorder, cmd: c.CompleteModeration) -> Outcome:
    _require(rec, Role.MODERATOR, doing="complete the moderation")
    audit, template = rec.audit, rec.ctx.template
    if audit.status is not Status.SUBMITTED:
        raise WrongState(
            f"Audit {audit.id} is {audit.status.label.lower()}, not waiting for moderation"
        )
    moderation = audit.moderation or Moderation()
    missing = [
        s.label
        for s in template.graded_sections
        if s.id != template.overall_section and s.id not in moderation.sections
    ]
    grade = _grade(cmd.grade, template.moderation.title)
    evidence = _text(cmd.evidence, f"{template.moderation.title}: evidence", required=False)
    impact = _text(cmd.impact, f"{template.moderation.title}: impact", required=False)
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
        grade,
        _moderated_section_grades(audit, template),
        unmet_limiting_judgements(audit, template),
    )
    moderation.grade_reason = _grade_rules(rec, issues, cmd.grade_reason)
    moderation.overall, moderation.evidence, moderation.impact = grade, evidence, impact
    moderation.auditor_overall = audit.auditor_grade
    moderation.completed_by, moderation.completed_at = rec.ctx.actor, rec.ctx.now
    rec.change("moderation.overall", audit.auditor_grade, grade)
    rec.finish(StepId.MODERATION.value)
    rec.status(Status.MODERATED)
    regraded = [
        {
            "section": template.section(sid).label,
            "from": d.auditor_grade.value if d.auditor_grade else None,
            "to": d.grade.value,
        }
        for sid, d in moderation.sections.items()
        if not d.agreed
    ]
    if grade is not audit.auditor_grade:
        regraded.append(
            {
                "section": template.moderation.title,
                "from": _plain(audit.auditor_grade),
                "to": grade.value,
            }
        )
    rec.tell(
        audit.participants.auditor,
        NoticeKind.MODERATION_COMPLETE,
        grade=grade.value,
        regraded=regraded,
    )
    if rec.ctx.policy.panel:
        for qa in rec.ctx.standing.qa_managers:
            rec.tell(qa, NoticeKind.READY_FOR_PANEL, grade=grade.value)
    if grade is Grade.INADEQUATE:
        _open_case_of_concern(rec, Role.MODERATOR)
    if not rec.ctx.policy.panel:
        # No panel (Bristol): QA checks the moderated audit, then shares and closes it.
        _ask_to_close(rec, grade)
    if audit.case_of_concern is not None:
        owner = (
            _first(_people(rec, rec.ctx.policy.steps[StepId.REAUDIT].actor))
            if (StepId.REAUDIT in rec.ctx.policy.steps)
            else None
        )
        if owner:
            rec.start(StepId.REAUDIT, owner, rec.ctx.policy.steps[StepId.REAUDIT].actor)
    return rec.done(f"Moderation of audit {audit.id} complete: {grade.label}")


def _ask_to_close(rec: _Recorder, grade: Grade | None) -> None:
    """Opens the closure step for whoever the policy names, and tells them (the one who
    got here by recording the panel sees the close card at once instead)."""
    closure = rec.ctx.policy.steps.get(StepId.CLOSURE)
    closer = _first(_people(rec, closure.actor)) if closure is not None else None
    if closure is None or closer is None:
        return
    deadline = rec.start(StepId.CLOSURE, closer, closure.actor)
    if closer != rec.ctx.actor:
        rec.tell(
            closer,
            NoticeKind.READY_TO_CLOSE,
            grade=grade.value if grade else None,
            due=_iso(deadline.due_at) if deadline else None,
            panel=rec.ctx.policy.panel,
        )


def _first(people: list[str]) -> str | None:
    return people[0] if people else None


def _record_panel(rec: _Recorder, cmd: c.RecordPanel) -> Outcome:
    _require(rec, Role.PANEL, Role.QA_MANAGER, doing="record the QA panel's findings")
    audit = rec.audit
    if not rec.ctx.policy.panel:
        raise WrongState("This process has no QA panel: QA closes the audit once it is moderated")
    if audit.status is not Status.MODERATED:
        raise WrongState(
            f"Audit {audit.id} is {audit.status.label.lower()}, not waiting for the panel"
        )
    try:
        outcome = PanelOutcome(cmd.outcome)
    except ValueError as exc:
        raise InvalidInput("The panel's outcome is 'agreed' or 'returned'") from exc
    notes = (
        _text(
            cmd.notes,
            "What the panel needs from the auditor",
            required=outcome is PanelOutcome.RETURNED,
        )
        or ""
    )
    record = PanelRecord(outcome=outcome, notes=notes, by=rec.ctx.actor, at=rec.ctx.now)
    audit.panel.append(record)
    rec.change("panel", None, record)
    if outcome is PanelOutcome.AGREED:
        rec.status(Status.PANEL_AGREED)
        _ask_to_close(rec, audit.final_grade)
        return rec.done(f"Panel findings recorded for audit {audit.id}; it can now be closed")
    rec.status(Status.RETURNED)
    step = rec.ctx.policy.steps[StepId.AUDIT]
    due = step.on_return or step.deadline
    assert due is not None
    restarted = rec.start(
        StepId.AUDIT,
        audit.participants.auditor,
        Role.AUDITOR,
        due_at=due.after(rec.ctx.now, rec.ctx.calendar),
    )
    assert restarted is not None
    rec.tell(audit.participants.auditor, NoticeKind.RETURNED, due=_iso(restarted.due_at))
    return rec.done(f"Audit {audit.id} returned to the auditor")


def _close(rec: _Recorder, cmd: c.CloseAudit) -> Outcome:
    _require(rec, Role.QA_MANAGER, Role.QA_OFFICER, doing="close the audit")
    audit = rec.audit
    ready = Status.PANEL_AGREED if rec.ctx.policy.panel else Status.MODERATED
    if audit.status is not ready:
        raise WrongState(
            f"Audit {audit.id} is {audit.status.label.lower()}; "
            + (
                "only an audit the panel has agreed can be closed"
                if rec.ctx.policy.panel
                else "only a moderated audit can be closed"
            )
        )
    rec.status(Status.CLOSED)
    audit.closed_at = rec.ctx.now
    rec.finish(StepId.CLOSURE.value)
    # The IRO/CP chair's window ends with the audit, commented or not.
    rec.stop(StepId.IRO_COMMENTS.value)
    grade = audit.final_grade
    for role in (
        Role.SOCIAL_WORKER,
        Role.AUDITOR,
        Role.TEAM_MANAGER,
        Role.SERVICE_MANAGER,
        Role.IRO,
    ):
        rec.tell(
            audit.participants.of(role),
            NoticeKind.CLOSED,
            role=role.value,
            grade=grade.value if grade else None,
        )
    feedback = rec.start(
        StepId.PRACTITIONER_FEEDBACK, audit.participants.social_worker, Role.SOCIAL_WORKER
    )
    if feedback is not None:
        rec.tell(
            audit.participants.social_worker,
            NoticeKind.FEEDBACK_REQUESTED,
            due=_iso(feedback.due_at),
            grade=grade.value if grade else None,
        )
    return rec.done(f"Audit {audit.id} closed")


def _complete_checklist(rec: _Recorder, cmd: c.CompleteChecklist) -> Outcome:
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
    rec.tell(rec.audit.participants.auditor, NoticeKind.CHECKLIST_DONE, title=checklist.title)
    return rec.done(f"{checklist.title} saved")


def _practitioner_feedback(rec: _Recorder, cmd: c.GivePractitionerFeedback) -> Outcome:
    _require(rec, Role.SOCIAL_WORKER, doing="give the practitioner's feedback")
    deadline = rec.audit.deadlines.get(StepId.PRACTITIONER_FEEDBACK.value)
    if deadline is None:
        raise WrongState(f"No feedback on audit {rec.audit.id} is asked for yet")
    text = _text(cmd.text, "Your feedback")
    assert text is not None
    old = rec.audit.practitioner_feedback
    rec.audit.practitioner_feedback = Written(text=text, by=rec.ctx.actor, at=rec.ctx.now)
    rec.change("practitioner_feedback", old.text if old else None, text)
    rec.finish(StepId.PRACTITIONER_FEEDBACK.value)
    return rec.done("Thank you: your feedback is saved")


def _open_coc(rec: _Recorder) -> CaseOfConcern:
    coc = rec.audit.case_of_concern
    if coc is None:
        raise WrongState(f"Audit {rec.audit.id} is not a case of concern")
    if coc.closed_at is not None:
        raise WrongState(f"The case of concern for audit {rec.audit.id} is closed")
    return coc


def _confirm_plan(rec: _Recorder, cmd: c.ConfirmPlan) -> Outcome:
    _require(
        rec, Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE, doing="confirm the case of concern plan"
    )
    coc = _open_coc(rec)
    plan = _text(cmd.plan, "The plan")
    owner = person(cmd.owner)
    old = coc.plan
    coc.plan, coc.plan_owner, coc.plan_by, coc.plan_at = plan, owner, rec.ctx.actor, rec.ctx.now
    rec.change("case_of_concern.plan", old, {"plan": plan, "owner": owner})
    rec.finish(StepId.COC_PLAN.value)
    for who in _people(rec, Role.QA_MANAGER):
        rec.tell(who, NoticeKind.PLAN_CONFIRMED)
    return rec.done("Plan recorded as a management decision")


def _record_reaudit(rec: _Recorder, cmd: c.RecordReaudit) -> Outcome:
    step = rec.ctx.policy.steps.get(StepId.REAUDIT)
    _require(
        rec, step.actor if step else Role.QA_MANAGER, Role.QA_MANAGER, doing="record the re-audit"
    )
    coc = _open_coc(rec)
    if rec.audit.moderated_grade is None:
        raise WrongState(f"Audit {rec.audit.id} has not been moderated yet")
    grade = _grade(cmd.grade, "Re-audit")
    findings = _text(cmd.findings, "The re-audit findings")
    assert findings is not None
    reaudit = ReAudit(grade=grade, findings=findings, by=rec.ctx.actor, at=rec.ctx.now)
    coc.reaudits.append(reaudit)
    rec.change("case_of_concern.reaudit", None, reaudit)
    rec.finish(StepId.REAUDIT.value)
    if grade is Grade.INADEQUATE and step is not None:
        # Still Inadequate: another short audit after the same interval.
        rec.start(StepId.REAUDIT, rec.ctx.actor, step.actor)
    for role in (Role.SERVICE_MANAGER, Role.TEAM_MANAGER):
        rec.tell(rec.audit.participants.of(role), NoticeKind.REAUDIT_RECORDED, grade=grade.value)
    return rec.done(f"Re-audit recorded: {grade.label}")


def _close_coc(rec: _Recorder, cmd: c.CloseCaseOfConcern) -> Outcome:
    _require(rec, Role.QA_OFFICER, Role.QA_MANAGER, doing="close the case of concern")
    coc = _open_coc(rec)
    still = []
    if coc.plan is None:
        still.append("the service manager's plan")
    if not coc.reaudits:
        still.append("the short re-audit")
    elif coc.reaudits[-1].grade is Grade.INADEQUATE:
        still.append("a re-audit that is no longer Inadequate")
    if still:
        raise Incomplete("The case of concern cannot be closed yet. Still to do", still)
    note = _text(cmd.note, "The closing note")
    coc.closed_by, coc.closed_at, coc.closing_note = rec.ctx.actor, rec.ctx.now, note
    rec.change("case_of_concern.closed", None, rec.ctx.now)
    rec.finish(StepId.REAUDIT.value)
    rec.tell(rec.audit.participants.service_manager, NoticeKind.CASE_OF_CONCERN_CLOSED)
    return rec.done(f"Case of concern for audit {rec.audit.id} closed")


def _signer(audit: Audit, policy: Policy) -> Role:
    if audit.final_grade is Grade.INADEQUATE:
        return policy.action_sign_off_if_inadequate
    return policy.action_sign_off


def _complete_action(rec: _Recorder, cmd: c.CompleteAction) -> Outcome:
    action = _find_action(rec, cmd.number)
    held = roles_of(rec.audit, rec.ctx.actor, rec.ctx.standing)
    if rec.ctx.actor != action.owner and not held & {Role.SOCIAL_WORKER, Role.TEAM_MANAGER}:
        raise NotAllowed(
            f"Only the person responsible for action {action.number}, the social "
            "worker or the team manager can mark it complete"
        )
    if action.status is not ActionStatus.OPEN:
        raise WrongState(f"Action {action.number} is already marked complete")
    evidence = _text(cmd.evidence, "The evidence of completion")
    action.status, action.evidence = ActionStatus.COMPLETED, evidence
    action.completed_by, action.completed_at = rec.ctx.actor, rec.ctx.now
    rec.change(f"actions.{action.number}.status", ActionStatus.OPEN, ActionStatus.COMPLETED)
    rec.change(f"actions.{action.number}.evidence", None, evidence)
    rec.finish(f"action-{action.number}")
    signer = _signer(rec.audit, rec.ctx.policy)
    rec.tell(rec.audit.participants.of(signer), NoticeKind.ACTION_TO_SIGN_OFF, action=action.number)
    return rec.done(
        f"Action {action.number} marked complete; sent to the {signer.label} to sign off"
    )


def _manager_of_action(rec: _Recorder, number: int, doing: str) -> AgreedAction:
    action = _find_action(rec, number)
    signer = _signer(rec.audit, rec.ctx.policy)
    _require(rec, signer, Role.QA_MANAGER, doing=doing)
    if action.status is not ActionStatus.COMPLETED:
        raise WrongState(f"Action {action.number} is not marked complete")
    return action


def _sign_off_action(rec: _Recorder, cmd: c.SignOffAction) -> Outcome:
    action = _manager_of_action(rec, cmd.number, "sign off actions")
    action.status = ActionStatus.SIGNED_OFF
    action.signed_off_by, action.signed_off_at = rec.ctx.actor, rec.ctx.now
    rec.change(f"actions.{action.number}.status", ActionStatus.COMPLETED, ActionStatus.SIGNED_OFF)
    rec.tell(action.owner, NoticeKind.ACTION_SIGNED_OFF, action=action.number)
    return rec.done(f"Action {action.number} signed off")


def _return_action(rec: _Recorder, cmd: c.ReturnAction) -> Outcome:
    action = _manager_of_action(rec, cmd.number, "return actions")
    reason = _text(cmd.reason, "The reason")
    action.status = ActionStatus.OPEN
    rec.change(f"actions.{action.number}.status", ActionStatus.COMPLETED, ActionStatus.OPEN)
    rec.change(f"actions.{action.number}.returned", None, reason)
    rec.start(
        StepId.ACTION,
        action.owner,
        Role.ACTION_OWNER,
        key=f"action-{action.number}",
        due_at=rec.ctx.calendar.close_of(action.due),
    )
    rec.tell(action.owner, NoticeKind.ACTION_RETURNED, action=action.number)
    return rec.done(f"Action {action.number} returned to the person responsible")


def _reassign(rec: _Recorder, cmd: c.Reassign) -> Outcome:
    _require(rec, Role.QA_OFFICER, Role.QA_MANAGER, doing="reassign people")
    audit = rec.audit
    if audit.status is Status.CLOSED:
        raise WrongState(f"Audit {audit.id} is closed")
    try:
        role = Role(cmd.role)
    except ValueError:
        role = None
    if role not in AUDIT_ROLES:
        raise InvalidInput(
            f"'{cmd.role}' is not a role on an audit ({', '.join(r.value for r in AUDIT_ROLES)})"
        )
    assert role is not None
    reason = _text(cmd.reason, "The reason")
    new = person(cmd.person)
    old = audit.participants.of(role)
    if new == old:
        raise InvalidInput(f"{new} is already the {role.label}")
    participants = audit.participants.model_copy(update={role.value: new})
    check_allocation(
        Allocation(
            audit.child_id, audit.strand, audit.team, participants, audit.template, audit.policy
        ),
        rec.ctx.template,
    )
    audit.participants = participants
    rec.change(f"participants.{role.value}", old, new)
    rec.change("reassign_reason", None, reason)
    for deadline in audit.deadlines.values():
        if deadline.open and deadline.role is role and deadline.owner == old:
            rec.change(f"deadline.{deadline.step}.owner", old, new)
            deadline.owner = new
    for section in rec.ctx.template.sections:
        for q in section.questions:
            if q.prefill == role.value and section.id in audit.answers:
                audit.answers[section.id].values[q.id] = new
    due = audit.next_deadline()
    rec.tell(
        new,
        NoticeKind.REASSIGNED_TO,
        role=role.value,
        due=_iso(due.due_at) if due and due.owner == new else None,
    )
    rec.tell(old, NoticeKind.REASSIGNED_AWAY, role=role.value)
    return rec.done(f"The {role.label} of audit {audit.id} is now {new}")


def _extend(rec: _Recorder, cmd: c.ExtendDeadline) -> Outcome:
    _require(rec, Role.QA_OFFICER, Role.QA_MANAGER, doing="extend deadlines")
    deadline = rec.audit.deadlines.get(cmd.step)
    if deadline is None or not deadline.open:
        open_steps = ", ".join(k for k, d in rec.audit.deadlines.items() if d.open) or "none"
        raise NotFound(
            f"Audit {rec.audit.id} has no open deadline '{cmd.step}' (open: {open_steps})"
        )
    reason = _text(cmd.reason, "The reason for the extension")
    assert reason is not None
    until = cmd.until
    try:
        if isinstance(until, str):
            until = datetime.fromisoformat(until) if "T" in until else date.fromisoformat(until)
    except ValueError as exc:
        raise InvalidInput(f"'{cmd.until}' is not a date (use YYYY-MM-DD)") from exc
    new_due = as_utc(until) if isinstance(until, datetime) else rec.ctx.calendar.close_of(until)
    if new_due <= as_utc(rec.ctx.now):
        raise InvalidInput("The new deadline must be in the future")
    extension = Extension(
        old_due=deadline.due_at, new_due=new_due, reason=reason, by=rec.ctx.actor, at=rec.ctx.now
    )
    deadline.extensions.append(extension)
    rec.change(f"deadline.{deadline.step}", deadline.due_at, new_due)
    deadline.due_at = new_due
    rec.tell(deadline.owner, NoticeKind.DEADLINE_MOVED, step=deadline.step, due=_iso(new_due))
    return rec.done(f"Deadline moved to {new_due.isoformat()}")


_HANDLERS: dict[type, Any] = {
    c.CompleteChecklist: _complete_checklist,
    c.GivePractitionerFeedback: _practitioner_feedback,
    c.AnswerSection: _answer_section,
    c.RecordFamilyFeedback: _record_family_feedback,
    c.AddIroComments: _add_iro_comments,
    c.AddAction: _add_action,
    c.RemoveAction: _remove_action,
    c.Submit: _submit,
    c.ModerateSection: _moderate_section,
    c.CompleteModeration: _complete_moderation,
    c.RecordPanel: _record_panel,
    c.CloseAudit: _close,
    c.ConfirmPlan: _confirm_plan,
    c.RecordReaudit: _record_reaudit,
    c.CloseCaseOfConcern: _close_coc,
    c.CompleteAction: _complete_action,
    c.SignOffAction: _sign_off_action,
    c.ReturnAction: _return_action,
    c.Reassign: _reassign,
    c.ExtendDeadline: _extend,
}
