"""Agreed actions: added while auditing, moderating or for a case of concern, each with
a deadline of its own (`ActionStep`), marked complete by the person responsible and
signed off (or returned) by their manager."""

from __future__ import annotations

from datetime import date

from audits import commands as c
from audits.errors import InvalidInput, NotAllowed, NotFound, WrongState
from audits.grades import Grade
from audits.model import (
    AUDITOR_EDITABLE,
    ActionStage,
    ActionStatus,
    AgreedAction,
    Audit,
    Status,
    Written,
)
from audits.policies import Policy
from audits.roles import Role, person
from audits.steps import StepId, action_step
from audits.workflow._recorder import Outcome, Recorder, require, required_text, roles_of, text
from audits.workflow.answering import auditor_may_edit
from audits.workflow.notices import (
    ActionAssigned,
    ActionReturned,
    ActionSignedOff,
    ActionToSignOff,
)


def _action_stage(rec: Recorder, doing: str) -> ActionStage:
    held = roles_of(rec.audit, rec.ctx.actor, rec.ctx.standing)
    status = rec.audit.status
    if Role.AUDITOR in held and status in AUDITOR_EDITABLE:
        auditor_may_edit(rec, doing)
        return ActionStage.AUDIT
    if Role.MODERATOR in held and status is Status.SUBMITTED:
        return ActionStage.MODERATION
    coc = rec.audit.case_of_concern
    if coc and coc.closed_at is None and held & {Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE}:
        return ActionStage.CASE_OF_CONCERN
    reaudit = rec.ctx.policy.step(StepId.REAUDIT)
    if (
        coc
        and coc.closed_at is None
        and rec.ctx.policy.reaudit_adds_actions
        and reaudit is not None
        and reaudit.actor in held
    ):
        # Bristol's re-audit form: "Actions required | Responsibility | By when".
        return ActionStage.CASE_OF_CONCERN
    if held & {Role.AUDITOR, Role.MODERATOR, Role.SERVICE_MANAGER}:
        raise WrongState(f"Audit {rec.audit.id} is {status.label.lower()}: you cannot {doing} now")
    raise NotAllowed(
        f"Only the auditor, the moderator or, for a case of concern, the service "
        f"manager can {doing} (audit {rec.audit.id})"
    )


def add_action(rec: Recorder, cmd: c.AddAction) -> Outcome:
    stage = _action_stage(rec, "add an action")
    wording = required_text(cmd.text, "The action")
    if len(wording.split()) < 4:
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
        text=wording,
        owner=owner,
        due=due,
        created_by=rec.ctx.actor,
        created_at=rec.ctx.now,
    )
    rec.audit.actions.append(action)
    rec.change(f"actions.{number}", None, action)
    rec.start(action_step(number), owner, Role.ACTION_OWNER, due_at=rec.ctx.calendar.close_of(due))
    rec.tell(ActionAssigned(to=owner, **rec.ids, action=number, due=due))
    return rec.done(f"Action {number} added")


def remove_action(rec: Recorder, cmd: c.RemoveAction) -> Outcome:
    stage = _action_stage(rec, "remove an action")
    action = _find_action(rec, cmd.number)
    if action.stage is not stage or action.status is not ActionStatus.OPEN:
        raise WrongState(f"Action {action.number} can no longer be removed")
    rec.audit.actions.remove(action)
    rec.change(f"actions.{action.number}", action, None)
    rec.drop(action_step(action.number))
    return rec.done(f"Action {action.number} removed")


def _find_action(rec: Recorder, number: int) -> AgreedAction:
    action = rec.audit.action(number)
    if action is None:
        raise NotFound(f"Audit {rec.audit.id} has no action {number}")
    return action


def _signer(audit: Audit, policy: Policy) -> Role:
    if audit.final_grade is Grade.INADEQUATE:
        return policy.action_sign_off_if_inadequate
    return policy.action_sign_off


def complete_action(rec: Recorder, cmd: c.CompleteAction) -> Outcome:
    action = _find_action(rec, cmd.number)
    held = roles_of(rec.audit, rec.ctx.actor, rec.ctx.standing)
    if rec.ctx.actor != action.owner and not held & {Role.SOCIAL_WORKER, Role.TEAM_MANAGER}:
        raise NotAllowed(
            f"Only the person responsible for action {action.number}, the social "
            "worker or the team manager can mark it complete"
        )
    if action.status is not ActionStatus.OPEN:
        raise WrongState(f"Action {action.number} is already marked complete")
    evidence = text(cmd.evidence, "The evidence of completion")
    action.status, action.evidence = ActionStatus.COMPLETED, evidence
    action.completed_by, action.completed_at = rec.ctx.actor, rec.ctx.now
    rec.change(f"actions.{action.number}.status", ActionStatus.OPEN, ActionStatus.COMPLETED)
    rec.change(f"actions.{action.number}.evidence", None, evidence)
    rec.finish(action_step(action.number))
    signer = _signer(rec.audit, rec.ctx.policy)
    if (who := rec.audit.participants.of(signer)) is not None:
        rec.tell(ActionToSignOff(to=who, **rec.ids, action=action.number))
    return rec.done(
        f"Action {action.number} marked complete; sent to the {signer.label} to sign off"
    )


def _manager_of_action(rec: Recorder, number: int, doing: str) -> AgreedAction:
    action = _find_action(rec, number)
    signer = _signer(rec.audit, rec.ctx.policy)
    require(rec, signer, Role.QA_MANAGER, doing=doing)
    if action.status is not ActionStatus.COMPLETED:
        raise WrongState(f"Action {action.number} is not marked complete")
    return action


def sign_off_action(rec: Recorder, cmd: c.SignOffAction) -> Outcome:
    action = _manager_of_action(rec, cmd.number, "sign off actions")
    action.status = ActionStatus.SIGNED_OFF
    action.signed_off_by, action.signed_off_at = rec.ctx.actor, rec.ctx.now
    rec.change(f"actions.{action.number}.status", ActionStatus.COMPLETED, ActionStatus.SIGNED_OFF)
    rec.tell(ActionSignedOff(to=action.owner, **rec.ids, action=action.number))
    return rec.done(f"Action {action.number} signed off")


def return_action(rec: Recorder, cmd: c.ReturnAction) -> Outcome:
    action = _manager_of_action(rec, cmd.number, "return actions")
    reason = text(cmd.reason, "The reason")
    action.status = ActionStatus.OPEN
    rec.change(f"actions.{action.number}.status", ActionStatus.COMPLETED, ActionStatus.OPEN)
    rec.change(f"actions.{action.number}.returned", None, reason)
    rec.start(
        action_step(action.number),
        action.owner,
        Role.ACTION_OWNER,
        due_at=rec.ctx.calendar.close_of(action.due),
    )
    rec.tell(ActionReturned(to=action.owner, **rec.ids, action=action.number))
    return rec.done(f"Action {action.number} returned to the person responsible")


def start_actions_review(rec: Recorder) -> None:
    """Opens the service manager's review of the agreed actions, when the policy has one
    and the audit has actions (Bristol, at moderation)."""
    if StepId.ACTIONS_REVIEW not in rec.ctx.policy.steps or not rec.audit.actions:
        return
    if StepId.ACTIONS_REVIEW in rec.audit.deadlines:
        return
    rec.start(StepId.ACTIONS_REVIEW, rec.audit.participants.service_manager, Role.SERVICE_MANAGER)


def review_actions(rec: Recorder, cmd: c.ReviewActions) -> Outcome:
    require(rec, Role.SERVICE_MANAGER, doing="review the agreed actions")
    if StepId.ACTIONS_REVIEW not in rec.audit.deadlines:
        raise WrongState(f"No review of the actions of audit {rec.audit.id} is asked for")
    update = required_text(cmd.update, "The case direction")
    review = Written(text=update, by=rec.ctx.actor, at=rec.ctx.now)
    rec.audit.actions_reviews.append(review)
    rec.change("actions_reviews", None, update)
    rec.finish(StepId.ACTIONS_REVIEW)
    return rec.done("Your review of the actions is saved as a case direction")
