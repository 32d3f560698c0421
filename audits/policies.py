"""Process policies as data: each step's owner, deadline, nudges and escalations.

The workflow knows the steps of a case file audit (`StepId`); a policy file
says which of them a council uses and how long each may take, in clock
hours, days, weeks or working days.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from audits.grades import Grade, GradeRule
from audits.roles import STANDING_ROLE_KEYS, Role, StandingRoles
from audits.steps import StepId as StepId
from audits.workdays import (
    WorkingCalendar,
    as_utc,
    wall_clock_days_after,
    wall_clock_months_after,
)
from audits.yamlfile import load_model


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_KINDS = ("hours", "days", "weeks", "months", "working_days", "day_of_month")


class Duration(_Strict):
    """Exactly one of: clock hours, calendar days, weeks, working days, or a day of the
    month ("within the first 3 weeks of each calendar month": `day_of_month: 21`).

    A day of the month falls at close of business on that day, or on the last working
    day before it; when that has passed (or leaves fewer than `lead_working_days`
    after the start), the same day of the next month. `lead_working_days` is the
    product's own council option, 0 (off) unless a policy sets it: no seed asks for
    a lead time.
    """

    hours: Annotated[float, Field(ge=0)] | None = None
    days: Annotated[int, Field(ge=0)] | None = None
    weeks: Annotated[int, Field(ge=0)] | None = None
    # Calendar months: the same day of the month (or its last day), same UK time.
    months: Annotated[int, Field(ge=0)] | None = None
    working_days: Annotated[int, Field(ge=0)] | None = None
    day_of_month: Annotated[int, Field(ge=1, le=28)] | None = None
    lead_working_days: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _exactly_one(self) -> Duration:
        given = [k for k in _KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of hours, days, weeks, months, working_days or day_of_month"
            )
        return self

    def after(self, start: datetime, calendar: WorkingCalendar) -> datetime:
        start = as_utc(start)
        if self.working_days is not None:
            return calendar.after_working_days(start, self.working_days)
        if self.day_of_month is not None:
            return self._by_day_of_month(start, calendar)
        if self.hours is not None:
            return start + timedelta(hours=self.hours)
        # Days and weeks are UK wall-clock days: the same time of day in the UK.
        if self.days is not None:
            return wall_clock_days_after(start, self.days)
        if self.months is not None:
            return wall_clock_months_after(start, self.months)
        assert self.weeks is not None
        return wall_clock_days_after(start, 7 * self.weeks)

    def _by_day_of_month(self, start: datetime, calendar: WorkingCalendar) -> datetime:
        assert self.day_of_month is not None
        first = calendar.local_date(start)
        earliest = calendar.add_working_days(first, self.lead_working_days)
        year, month = first.year, first.month
        while True:
            day = date(year, month, self.day_of_month)
            while not calendar.is_working_day(day):
                day -= timedelta(days=1)
            # Allocated late on the day itself: that day's close of business has gone.
            if day >= earliest and calendar.close_of(day) > start:
                return calendar.close_of(day)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)

    def before(self, end: datetime, calendar: WorkingCalendar) -> datetime:
        end = as_utc(end)
        if self.working_days is not None:
            day = calendar.local_date(end)
            for _ in range(self.working_days):
                day -= timedelta(days=1)
                while not calendar.is_working_day(day):
                    day -= timedelta(days=1)
            return calendar.close_of(day) if self.working_days else end
        if self.days is not None:
            return wall_clock_days_after(end, -self.days)
        if self.weeks is not None:
            return wall_clock_days_after(end, -7 * self.weeks)
        if self.months is not None:
            return wall_clock_months_after(end, -self.months)
        return end - (self.after(end, calendar) - end)

    def describe(self) -> str:
        if self.day_of_month is not None:
            return f"by the {_ordinal(self.day_of_month)} of the month"
        for key, word in (
            ("hours", "hour"),
            ("days", "day"),
            ("weeks", "week"),
            ("months", "month"),
            ("working_days", "working day"),
        ):
            value = getattr(self, key)
            if value is not None:
                shown = f"{value:g}" if isinstance(value, float) else str(value)
                return f"{shown} {word}{'' if value == 1 else 's'}"
        raise AssertionError  # pragma: no cover


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class Nudge(_Strict):
    """A reminder to the step's owner: some time after the step starts, or before it is due."""

    after: Duration | None = None
    before: Duration | None = None
    on_due_day: bool = False

    @model_validator(mode="after")
    def _one_anchor(self) -> Nudge:
        anchors = [self.after is not None, self.before is not None, self.on_due_day]
        if sum(anchors) != 1:
            raise ValueError("a nudge has exactly one of after, before or on_due_day")
        return self


class Escalation(_Strict):
    to: Role
    after_deadline: Duration = Duration(hours=0)


class Step(_Strict):
    label: str
    actor: Role
    starts: Literal["allocation", "submission", "moderation", "panel", "alert", "agreed", "closure"]
    deadline: Duration | None = None
    # When the panel returns an audit, the auditor's clock restarts with this.
    on_return: Duration | None = None
    urgent: bool = False
    nudges: tuple[Nudge, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    # The seed's line this step comes from ("Swindon QA Framework, Appendix 1: ..."),
    # or what of it is auditbot's own (a council option).
    source: str | None = None
    # A step the framework does not describe is auditbot's own: a council option,
    # shipped off (`enabled: false`) with a note saying so; a council that wants it
    # sets `enabled: true` in its own policy file.
    enabled: bool = True
    council_option: str | None = None

    @model_validator(mode="after")
    def _off_says_why(self) -> Step:
        if not self.enabled and not self.council_option:
            raise ValueError("a step that is off (enabled: false) says why in council_option")
        return self


class RuleAction(StrEnum):
    REFUSE = "refuse"
    REASON = "reason"  # accepted only with a written reason
    ALLOW = "allow"  # not checked: the framework states no such rule


class Policy(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    name: str
    source: str | None = None
    default_template: str
    steps: dict[StepId, Step]
    # The steps a policy file lists with `enabled: false`: council options, not run.
    steps_off: dict[StepId, Step] = Field(default_factory=dict)
    family_feedback_required: bool = True
    # Feedback "could not be sought" with a reason counts as feedback recorded.
    family_feedback_reason_accepted: bool = True
    actions_required_when_overall: tuple[Grade, ...] = (
        Grade.REQUIRES_IMPROVEMENT,
        Grade.INADEQUATE,
    )
    grade_rules: dict[GradeRule, RuleAction] = Field(
        default_factory=lambda: {
            GradeRule.OUTSTANDING_NEEDS_ALL_OUTSTANDING: RuleAction.REFUSE,
            GradeRule.GOOD_NEEDS_LIMITING_JUDGEMENTS: RuleAction.REFUSE,
        }
    )
    # Who is told at once when an audit is judged Inadequate.
    case_of_concern_alert: tuple[Role, ...] = (Role.SERVICE_MANAGER, Role.QA_MANAGER)
    # Who signs off completed actions; the second applies when the overall grade is Inadequate.
    action_sign_off: Role = Role.TEAM_MANAGER
    action_sign_off_if_inadequate: Role = Role.SERVICE_MANAGER
    # The latest an agreed action may be due, counted from when it is agreed; the
    # second applies when the audit is judged Inadequate (safeguarding actions).
    action_due_within: Duration | None = None
    action_due_within_if_inadequate: Duration | None = None
    # False: no QA panel; QA closes (shares) the audit once it is moderated.
    panel: bool = True
    # Who is told, beyond the auditor, the social worker and the moderator, when an
    # audit is allocated (Stage 1/2/3: the social worker's line manager).
    allocation_also_to: tuple[Role, ...] = ()
    # Who is told, beyond the auditor, that the moderation is complete (Stage 2: the
    # practice manager and group manager, and the QA inbox).
    moderation_complete_also_to: tuple[Role, ...] = ()
    # Who is told when the audit is closed (shared).
    closed_to: tuple[Role, ...] = (
        Role.SOCIAL_WORKER,
        Role.AUDITOR,
        Role.TEAM_MANAGER,
        Role.SERVICE_MANAGER,
        Role.IRO,
    )
    # The practitioner's pre-audit checklist must be done before the audit is submitted.
    checklist_before_submission: bool = False
    # An audit by the case's own service manager is moderated by a QA manager.
    service_manager_audit_moderated_by_qa_manager: bool = False
    # The re-audit is by a second auditor: named, and neither the audit's own auditor
    # nor the social worker (Bristol: "2nd Auditor ... (not with worker)").
    reaudit_by_second_auditor: bool = False
    # The re-auditor may add agreed actions (Bristol's re-audit: "Actions required").
    reaudit_adds_actions: bool = False
    # Who is told a re-audit's result.
    reaudit_result_to: tuple[Role, ...] = (Role.SERVICE_MANAGER, Role.TEAM_MANAGER)
    # The seed's line for each rule above, by its name; and the rules that are
    # auditbot's own (the seed is silent), each with a note saying so. A test reads
    # both against the shipped policies and docs/frameworks.md.
    sources: dict[str, str] = Field(default_factory=dict)
    council_options: dict[str, str] = Field(default_factory=dict)
    # Who in the framework's words holds each of auditbot's roles, where that reading is
    # auditbot's own (the framework names the person, not the role): to confirm with
    # the council. docs/frameworks.md lists them.
    role_readings: dict[Role, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _split_steps_off(cls, data: Any) -> Any:
        """`steps` keeps the steps that run; those marked `enabled: false` go to `steps_off`."""
        if not isinstance(data, dict) or not isinstance(data.get("steps"), dict):
            return data
        on: dict[Any, Any] = {}
        off: dict[Any, Any] = dict(data.get("steps_off") or {})
        for key, step in data["steps"].items():
            enabled = (
                step.get("enabled", True)
                if isinstance(step, dict)
                else getattr(step, "enabled", True)
            )
            (on if enabled is not False else off)[key] = step
        return {**data, "steps": on, "steps_off": off}

    @model_validator(mode="after")
    def _known_actors(self) -> Policy:
        expected = {
            StepId.IRO_COMMENTS: {Role.IRO},
            StepId.AUDIT: {Role.AUDITOR},
            StepId.MODERATION: {Role.MODERATOR},
            StepId.CLOSURE: {Role.QA_MANAGER, Role.QA_OFFICER},
            StepId.COC_PLAN: {Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE},
            StepId.REAUDIT: {Role.QA_MANAGER, Role.QA_OFFICER, Role.AUDITOR},
            StepId.ACTION: {Role.ACTION_OWNER},
            StepId.PRACTITIONER_FEEDBACK: {Role.SOCIAL_WORKER},
            StepId.ACTIONS_REVIEW: {Role.SERVICE_MANAGER},
        }
        both = sorted(s.value for s in set(self.steps) & set(self.steps_off))
        if both:
            raise ValueError(f"steps on and off at once: {', '.join(both)}")
        for step_id, step in (*self.steps.items(), *self.steps_off.items()):
            if step.actor not in expected[step_id]:
                allowed = ", ".join(sorted(r.value for r in expected[step_id]))
                raise ValueError(f"steps.{step_id.value}.actor must be one of: {allowed}")
        if StepId.AUDIT not in self.steps or self.steps[StepId.AUDIT].deadline is None:
            raise ValueError("steps.audit_completion with a deadline is required")
        return self

    def step(self, step_id: StepId) -> Step | None:
        return self.steps.get(step_id)

    def standing_roles_needed(self) -> dict[Role, list[str]]:
        """Each role of the roles file this policy gives work or notice to, with where."""
        needed: dict[Role, list[str]] = {}

        def need(role: Role, where: str) -> None:
            if role in STANDING_ROLE_KEYS:
                needed.setdefault(role, []).append(where)

        for step_id, step in self.steps.items():
            need(step.actor, f"steps.{step_id.value}.actor")
            for n, escalation in enumerate(step.escalations):
                need(escalation.to, f"steps.{step_id.value}.escalations[{n}]")
        for rule in (
            "case_of_concern_alert",
            "allocation_also_to",
            "moderation_complete_also_to",
            "closed_to",
            "reaudit_result_to",
        ):
            for role in getattr(self, rule):
                need(role, rule)
        if self.panel:
            need(Role.QA_MANAGER, "panel")
        return needed

    def missing_roles(self, standing: StandingRoles, *, roles_file: bool = True) -> list[str]:
        """One line per role this policy needs that the roles file names nobody for
        (`roles_file` False: there is no roles file, so nobody holds a standing role)."""
        return [
            f"policy '{self.id}' ({self.name}) needs a {role.label} ({', '.join(where)}), "
            + (
                f"but the roles file names none ({STANDING_ROLE_KEYS[role]})"
                if roles_file
                else f"but no roles file is set to name one ({STANDING_ROLE_KEYS[role]})"
            )
            for role, where in self.standing_roles_needed().items()
            if not standing.has(role)
        ]


def load_policy(path: Path) -> Policy:
    return load_model(Policy, path)
