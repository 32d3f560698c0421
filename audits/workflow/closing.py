"""The QA panel and closing: the panel agrees the moderated audit or returns it to the
auditor, QA closes it, and the social worker gives their feedback on it."""

from __future__ import annotations

from audits import commands as c
from audits.errors import InvalidInput, WrongState
from audits.grades import Grade
from audits.model import PanelOutcome, PanelRecord, Status, Written
from audits.roles import Role
from audits.steps import StepId
from audits.workdays import as_utc
from audits.workflow._recorder import (
    Outcome,
    Recorder,
    first,
    people,
    require,
    text,
)
from audits.workflow.notices import Closed, FeedbackRequested, ReadyToClose, Returned


def ask_to_close(rec: Recorder, grade: Grade | None) -> None:
    """Opens the closure step for whoever the policy names, and tells them (the one who
    got here by recording the panel sees the close card at once instead)."""
    closure = rec.ctx.policy.steps.get(StepId.CLOSURE)
    closer = first(people(rec, closure.actor)) if closure is not None else None
    if closure is None or closer is None:
        return
    deadline = rec.start(StepId.CLOSURE, closer, closure.actor)
    if closer != rec.ctx.actor:
        rec.tell(
            ReadyToClose(
                to=closer,
                **rec.ids,
                grade=grade,
                due=as_utc(deadline.due_at) if deadline else None,
                panel=rec.ctx.policy.panel,
            )
        )


def record_panel(rec: Recorder, cmd: c.RecordPanel) -> Outcome:
    require(rec, Role.PANEL, Role.QA_MANAGER, doing="record the QA panel's findings")
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
        text(
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
        ask_to_close(rec, audit.final_grade)
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
    rec.tell(Returned(to=audit.participants.auditor, **rec.ids, due=as_utc(restarted.due_at)))
    return rec.done(f"Audit {audit.id} returned to the auditor")


def close(rec: Recorder, cmd: c.CloseAudit) -> Outcome:
    require(rec, Role.QA_MANAGER, Role.QA_OFFICER, doing="close the audit")
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
    rec.finish(StepId.CLOSURE)
    # The IRO/CP chair's window ends with the audit, commented or not.
    rec.stop(StepId.IRO_COMMENTS)
    grade = audit.final_grade
    told: set[str] = set()
    for role in rec.ctx.policy.closed_to:
        for who in people(rec, role):
            if who not in told:
                told.add(who)
                inbox = role is Role.QA_INBOX  # a mailbox: e-mail with the document only
                rec.tell(
                    Closed(to=who, **rec.ids, role=role, grade=grade, email=inbox, teams=not inbox)
                )
    social_worker = audit.participants.social_worker
    feedback = rec.start(StepId.PRACTITIONER_FEEDBACK, social_worker, Role.SOCIAL_WORKER)
    if feedback is not None:
        rec.tell(
            FeedbackRequested(to=social_worker, **rec.ids, due=as_utc(feedback.due_at), grade=grade)
        )
    return rec.done(f"Audit {audit.id} closed")


# Bristol's "Staff feedback about this audit report/date", its six questions in order:
# 1. discussed in supervision (date); 2. learning points; 3. what changed in practice;
# 4. recommended actions completed; 5. the improvement plan "If you audit have been
# graded Requires Improvement or Inadequate"; 6. considerations on the service user's
# feedback "(if on form)".
STAFF_FEEDBACK = (
    "discussed",
    "learning",
    "changed",
    "actions_done",
    "improvement_plan",
    "service_user_feedback",
)


def practitioner_feedback(rec: Recorder, cmd: c.GivePractitionerFeedback) -> Outcome:
    require(rec, Role.SOCIAL_WORKER, doing="give the practitioner's feedback")
    deadline = rec.audit.deadlines.get(StepId.PRACTITIONER_FEEDBACK)
    if deadline is None:
        raise WrongState(f"No feedback on audit {rec.audit.id} is asked for yet")
    unknown = sorted(set(cmd.answers) - set(STAFF_FEEDBACK))
    if unknown:
        raise InvalidInput(f"The staff feedback has no question {', '.join(unknown)}")
    answers = {
        key: typed
        for key in STAFF_FEEDBACK
        if (typed := text(cmd.answers.get(key), f"Staff feedback question {key}", False))
    }
    feedback = text(cmd.text, "Your feedback", required=not answers)
    grade = rec.audit.final_grade
    needs_plan = grade in (Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE)
    if answers and needs_plan and "improvement_plan" not in answers:
        assert grade is not None
        raise InvalidInput(
            f"Your audit was graded {grade.label}: please add your improvement plan (question 5)"
        )
    old = rec.audit.practitioner_feedback
    rec.audit.practitioner_feedback = Written(
        text=feedback, values=answers, by=rec.ctx.actor, at=rec.ctx.now
    )
    rec.change("practitioner_feedback", old.text if old else None, feedback or answers)
    rec.finish(StepId.PRACTITIONER_FEEDBACK)
    return rec.done("Thank you: your feedback is saved")
