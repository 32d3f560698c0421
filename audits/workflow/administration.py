"""Administration by QA: reassigning a person on an audit, and extending a deadline."""

from __future__ import annotations

from datetime import date, datetime

from audits import commands as c
from audits.errors import InvalidInput, NotFound, WrongState
from audits.model import Extension, Status
from audits.roles import AUDIT_ROLES, Role, person
from audits.workdays import as_utc
from audits.workflow._recorder import Outcome, Recorder, require, required_text, text
from audits.workflow.allocation import Allocation, check_allocation
from audits.workflow.notices import DeadlineMoved, ReassignedAway, ReassignedTo


def reassign(rec: Recorder, cmd: c.Reassign) -> Outcome:
    require(rec, Role.QA_OFFICER, Role.QA_MANAGER, doing="reassign people")
    audit = rec.audit
    if audit.status is Status.CLOSED:
        raise WrongState(f"Audit {audit.id} is closed")
    try:
        role: Role | None = Role(cmd.role)
    except ValueError:
        role = None
    if role is None or role not in AUDIT_ROLES:
        raise InvalidInput(
            f"'{cmd.role}' is not a role on an audit ({', '.join(r.value for r in AUDIT_ROLES)})"
        )
    reason = text(cmd.reason, "The reason")
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
        ReassignedTo(
            to=new,
            **rec.ids,
            role=role,
            due=as_utc(due.due_at) if due and due.owner == new else None,
        )
    )
    if old is not None:
        rec.tell(ReassignedAway(to=old, **rec.ids, role=role))
    return rec.done(f"The {role.label} of audit {audit.id} is now {new}")


def extend(rec: Recorder, cmd: c.ExtendDeadline) -> Outcome:
    require(rec, Role.QA_OFFICER, Role.QA_MANAGER, doing="extend deadlines")
    deadline = rec.audit.deadlines.get(cmd.step)
    if deadline is None or not deadline.open:
        open_steps = ", ".join(k for k, d in rec.audit.deadlines.items() if d.open) or "none"
        raise NotFound(
            f"Audit {rec.audit.id} has no open deadline '{cmd.step}' (open: {open_steps})"
        )
    reason = required_text(cmd.reason, "The reason for the extension")
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
    rec.tell(DeadlineMoved(to=deadline.owner, **rec.ids, step=deadline.step, due=new_due))
    return rec.done(f"Deadline moved to {new_due.isoformat()}")
