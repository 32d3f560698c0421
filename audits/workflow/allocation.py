"""Allocation: who audits which child's case file, checked, and the audit it opens."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from audits.errors import InvalidInput, NotAllowed
from audits.model import Audit, Participants, SectionAnswer
from audits.roles import AUDIT_ROLES, Role
from audits.steps import StepId
from audits.templates import Template
from audits.workdays import as_utc
from audits.workflow._recorder import SYSTEM, Context, Outcome, Recorder, people
from audits.workflow.notices import Allocated, ChecklistRequested, IroCommentsRequested

_CHILD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/-]{0,31}$")


@dataclass(frozen=True)
class Allocation:
    child_id: str
    strand: str
    team: str
    participants: Participants
    template: str
    policy: str
    due: date | None = None


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
    p = a.participants
    if (
        ctx.policy.service_manager_audit_moderated_by_qa_manager
        and p.auditor == p.service_manager
        and not ctx.standing.holds(p.moderator, Role.QA_MANAGER)
    ):
        raise InvalidInput(
            "an audit by the service manager is moderated by the Quality Assurance "
            "Service Manager: name a QA manager as the moderator"
        )
    today = ctx.calendar.local_date(ctx.now)
    if a.due is not None and a.due <= today:
        raise InvalidInput(f"the due date {a.due.isoformat()} is not after today")
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
    rec = Recorder(audit, ctx)
    rec.change(
        "allocated",
        None,
        {"child_id": a.child_id, "strand": a.strand, "team": a.team, **p.model_dump()},
    )
    due = ctx.calendar.close_of(a.due) if a.due else None
    audit_due = rec.start(StepId.AUDIT, p.auditor, Role.AUDITOR, due_at=due)
    iro_due = rec.start(StepId.IRO_COMMENTS, p.iro, Role.IRO)
    audit_due_at = as_utc(audit_due.due_at) if audit_due else None
    told: set[str] = set()
    moderated = StepId.MODERATION in ctx.policy.steps
    told_first = (Role.AUDITOR, Role.SOCIAL_WORKER, *((Role.MODERATOR,) if moderated else ()))
    for role in (*told_first, *ctx.policy.allocation_also_to):
        for person in people(rec, role):
            if person not in told:
                told.add(person)
                rec.tell(Allocated(to=person, **rec.ids, role=role, due=audit_due_at))
    if iro_due is not None:
        rec.tell(IroCommentsRequested(to=p.iro, **rec.ids, due=as_utc(iro_due.due_at)))
    checklist = ctx.template.checklist
    if checklist is not None and (who := p.of(Role(checklist.completed_by))) is not None:
        rec.tell(ChecklistRequested(to=who, **rec.ids, title=checklist.title, due=audit_due_at))
    return rec.done(f"Audit {audit_id} allocated for child {a.child_id}")
