"""What every stage of the workflow shares: the context a command runs in, its outcome,
the recorder that changes a private copy of the audit and writes down each change,
notice and deadline, and the checks of who may act and what they typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypedDict

from audits.errors import InvalidInput, NotAllowed
from audits.grades import Grade, GradeIssue
from audits.model import Audit, Deadline, Status
from audits.policies import Policy, RuleAction
from audits.reminders import people_in_role
from audits.roles import Role, StandingRoles
from audits.steps import DeadlineKey, policy_step
from audits.templates import MAX_TEXT, Template
from audits.workdays import WorkingCalendar
from audits.workflow.notices import Notice

SYSTEM = "system"  # the command line and the clock act as this


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


@dataclass
class Outcome:
    audit: Audit
    message: str
    changes: list[Change] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


class Ids(TypedDict):
    """What every notice about an audit carries: `Notice(to=..., **rec.ids, ...)`."""

    audit_id: str
    child_id: str


class Recorder:
    """Mutates a private copy of the audit and writes down every change and notice."""

    def __init__(self, audit: Audit, ctx: Context) -> None:
        # A validated copy: faster than deepcopy, and nothing shared with the caller's audit.
        self.audit = Audit.model_validate(audit.model_dump())
        self.ctx = ctx
        self.changes: list[Change] = []
        self.notices: list[Notice] = []

    @property
    def ids(self) -> Ids:
        return {"audit_id": self.audit.id, "child_id": self.audit.child_id}

    def change(self, what: str, old: Any, new: Any) -> None:
        if old != new:
            self.changes.append(Change(what, _plain(old), _plain(new)))

    def status(self, new: Status) -> None:
        self.change("status", self.audit.status, new)
        self.audit.status = new

    def tell(self, notice: Notice) -> None:
        self.notices.append(notice)

    def start(
        self, key: DeadlineKey, owner: str, role: Role, due_at: datetime | None = None
    ) -> Deadline | None:
        """Opens the deadline `key` as its policy step says (or at `due_at`); None if the
        policy has no such step, or the step no deadline."""
        policy_step_ = self.ctx.policy.step(policy_step(key))
        if policy_step_ is None:
            return None
        if due_at is None:
            if policy_step_.deadline is None:
                return None
            due_at = policy_step_.deadline.after(self.ctx.now, self.ctx.calendar)
        old = self.audit.deadlines.get(key)
        deadline = Deadline(
            step=key,
            owner=owner,
            role=role,
            started_at=self.ctx.now,
            due_at=due_at,
            urgent=policy_step_.urgent,
        )
        self.audit.deadlines[key] = deadline
        self.change(f"deadline.{key}", old.due_at if old and old.open else None, due_at)
        return deadline

    def finish(self, key: DeadlineKey) -> None:
        deadline = self.audit.deadlines.get(key)
        if deadline is not None and deadline.open:
            deadline.done_at = self.ctx.now
            self.change(f"deadline.{key}.done", None, self.ctx.now)

    def stop(self, key: DeadlineKey) -> None:
        deadline = self.audit.deadlines.get(key)
        if deadline is not None and deadline.open:
            deadline.done_at, deadline.stopped = self.ctx.now, True
            self.change(f"deadline.{key}.stopped", None, self.ctx.now)

    def drop(self, key: DeadlineKey) -> None:
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


def require(rec: Recorder, *allowed: Role, doing: str) -> set[Role]:
    held = roles_of(rec.audit, rec.ctx.actor, rec.ctx.standing)
    if not held.intersection(allowed):
        who = " or ".join(r.label for r in allowed)
        raise NotAllowed(f"Only the {who} can {doing} (audit {rec.audit.id})")
    return held


def text(value: str | None, what: str, required: bool = True) -> str | None:
    typed = (value or "").strip()
    if required and not typed:
        raise InvalidInput(f"{what} is empty")
    if len(typed) > MAX_TEXT:
        raise InvalidInput(f"{what} is too long (at most {MAX_TEXT} characters)")
    return typed or None


def required_text(value: str | None, what: str) -> str:
    typed = text(value, what)
    assert typed is not None
    return typed


def grade(value: str | None, what: str) -> Grade:
    if value is None or not str(value).strip():
        raise InvalidInput(f"{what}: choose a grade")
    try:
        return Grade.parse(value)
    except ValueError as exc:
        raise InvalidInput(f"{what}: {exc}") from exc


def grade_rules(rec: Recorder, issues: list[GradeIssue], reason: str | None) -> str | None:
    """Applies the policy to inconsistent grades: refuse, or accept with a written reason."""
    needs_reason = []
    for issue in issues:
        action = rec.ctx.policy.grade_rules.get(issue.rule, RuleAction.REFUSE)
        if action is RuleAction.ALLOW:
            continue
        if action is RuleAction.REFUSE:
            raise InvalidInput(f"{issue.message}. Change the grades first.")
        needs_reason.append(issue.message)
    if not needs_reason:
        return None
    given = text(reason, "The reason for this grade", required=False)
    if given is None:
        raise InvalidInput(f"{'; '.join(needs_reason)}. Give your reason to keep this grade.")
    return given


def people(rec: Recorder, role: Role) -> list[str]:
    return people_in_role(rec.audit, role, rec.ctx.standing)


def first(who: list[str]) -> str | None:
    return who[0] if who else None
