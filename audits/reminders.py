"""When each open deadline nudges its owner and escalates: the policy's plan, as instants.

Pure: from an audit, its policy and the working calendar to a list of
`Reminder`s, each with a stable key. The store keeps one durable timer per
reminder; the runner (`scheduling/`) fires them. Recomputed after every change
to the audit, so an extension, a reassignment or a finished step moves or
cancels its reminders.

Nudges and escalations go out in working hours (Monday to Friday, 09:00 to
17:30 UK time, not on bank holidays) unless the step is urgent (the case of
concern), which goes at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum

from audits.model import Audit, Deadline
from audits.policies import Duration, Nudge, Policy, Step
from audits.roles import Role, StandingRoles
from audits.steps import DeadlineKey, policy_step
from audits.workdays import UK, WorkingCalendar, as_utc

MIN_NOTICE = timedelta(hours=1)  # a nudge held for working hours still comes this early
LAST_NUDGE = time(17, 0)  # a nudge moved back out of the night goes at 17:00 the day before


class ReminderKind(StrEnum):
    NUDGE = "nudge"  # to the step's owner, before (or on) the due day
    OVERDUE = "overdue"  # to the step's owner, when the deadline has passed
    ESCALATION = "escalation"  # to someone else, when the deadline has passed


@dataclass(frozen=True)
class Reminder:
    key: str  # stable across recomputations: "<audit>:<step>:nudge:<n>"
    audit_id: str
    kind: ReminderKind
    step: DeadlineKey
    at: datetime  # when it goes out (UTC)
    owner: str  # who owns the step now
    due_at: datetime
    to_role: Role | None  # None: the owner; else the role escalated to
    urgent: bool


def step_policy(policy: Policy, step: str) -> Step | None:
    """The policy of a deadline's step; agreed actions ("action-3") share the `action` step."""
    try:
        return policy.step(policy_step(step))
    except ValueError:
        return None


def plan(audit: Audit, policy: Policy, calendar: WorkingCalendar) -> list[Reminder]:
    """Every reminder of every open deadline, in time order."""
    out: list[Reminder] = []
    for deadline in audit.deadlines.values():
        step = step_policy(policy, deadline.step)
        if deadline.open and step is not None:
            out += _for_deadline(audit.id, deadline, step, calendar)
    return sorted(out, key=lambda r: (r.at, r.key))


def _for_deadline(
    audit_id: str, d: Deadline, step: Step, calendar: WorkingCalendar
) -> list[Reminder]:
    urgent = d.urgent or step.urgent
    start, due = as_utc(d.started_at), as_utc(d.due_at)

    def when(instant: datetime) -> datetime:
        return instant if urgent else calendar.next_working_time(instant)

    def reminder(kind: ReminderKind, n: int, at: datetime, to: Role | None) -> Reminder:
        return Reminder(
            key=f"{audit_id}:{d.step}:{kind.value}:{n}",
            audit_id=audit_id,
            kind=kind,
            step=d.step,
            at=at,
            owner=d.owner,
            due_at=due,
            to_role=to,
            urgent=urgent,
        )

    out, planned = [], set()
    for n, nudge in enumerate(step.nudges, start=1):
        at = _nudge_time(nudge, start, due, calendar)
        if not start <= at < due:
            continue
        sent = when(at)
        if sent > due - MIN_NOTICE:  # out of hours right before the deadline: the day before
            sent = _end_of_previous_working_day(calendar, at)
        # A nudge after the deadline, before the step began, or twice at once is no use.
        if start <= sent < due and sent not in planned:
            planned.add(sent)
            out.append(reminder(ReminderKind.NUDGE, n, sent, None))
    if step.escalations or step.nudges:
        # The owner is reminded once the deadline has passed, whoever else is told.
        out.append(reminder(ReminderKind.OVERDUE, 1, when(due), None))
    for n, escalation in enumerate(step.escalations, start=1):
        at = _after_deadline(escalation.after_deadline, due, calendar)
        out.append(reminder(ReminderKind.ESCALATION, n, when(at), escalation.to))
    return out


def _nudge_time(
    nudge: Nudge, start: datetime, due: datetime, calendar: WorkingCalendar
) -> datetime:
    if nudge.after is not None:
        return nudge.after.after(start, calendar)
    if nudge.on_due_day:
        return _opening(calendar, due)
    assert nudge.before is not None
    if nudge.before.working_days is not None:
        # "2 working days before": the morning of that working day.
        day = calendar.local_date(due)
        for _ in range(nudge.before.working_days):
            day -= timedelta(days=1)
            while not calendar.is_working_day(day):
                day -= timedelta(days=1)
        return datetime.combine(day, calendar.opens, tzinfo=UK).astimezone(UTC)
    return nudge.before.before(due, calendar)


def _end_of_previous_working_day(calendar: WorkingCalendar, instant: datetime) -> datetime:
    """Late in the last working day that ended before `instant` (UK time)."""
    local = as_utc(instant).astimezone(UK)
    day = local.date()
    if not (calendar.is_working_day(day) and local.time() >= calendar.closes):
        day -= timedelta(days=1)
        while not calendar.is_working_day(day):
            day -= timedelta(days=1)
    return datetime.combine(day, LAST_NUDGE, tzinfo=UK).astimezone(UTC)


def _opening(calendar: WorkingCalendar, instant: datetime) -> datetime:
    """09:00 UK time on the day of `instant`."""
    day = calendar.local_date(instant)
    return datetime.combine(day, calendar.opens, tzinfo=UK).astimezone(UTC)


def _after_deadline(duration: Duration, due: datetime, calendar: WorkingCalendar) -> datetime:
    if duration.working_days == 0 or duration.hours == 0:
        return due
    if duration.working_days is not None:
        # "a working day later": the same time of day, that many working days on.
        local = due.astimezone(UK)
        day = calendar.add_working_days(local.date(), duration.working_days)
        return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=UK).astimezone(UTC)
    return duration.after(due, calendar)


def people_in_role(audit: Audit, role: Role, standing: StandingRoles) -> list[str]:
    """Who holds `role` for this audit: its participants, or the standing QA roles."""
    match role:
        case Role.QA_MANAGER:
            return list(standing.qa_managers)
        case Role.QA_OFFICER:
            return list(standing.qa_officers)
        case Role.PANEL:
            return list(standing.panel)
        case Role.HEAD_OF_SERVICE:
            head = standing.heads_of_service.get(audit.strand)
            return [head] if head else []
        case Role.DIRECTOR:
            director = standing.directors.get(audit.strand)
            return [director] if director else []
        case Role.HOS_PRACTICE_QA:
            return [standing.hos_practice_qa] if standing.hos_practice_qa else []
        case Role.QA_INBOX:
            return [standing.qa_inbox] if standing.qa_inbox else []
    who = audit.participants.of(role)
    return [who] if who else []
