"""The monthly (or quarterly) QA report's figures, computed from the store alone.

Which audits a report covers: those whose `cycle` is one of the period's
months. The cycle is the month (UK time) in which the audit was allocated,
that is the monthly sample the QA team selected; an audit stays in its
sample's report however late it is finished, so a month's figures settle as
its audits are completed and a report can be run again later. A quarter is
its three months' samples together.

What each figure means (every one is as at `as_at`, the moment the report is
made, so open deadlines are overdue or still waiting at that moment):

- *Completed*: the auditor has submitted the audit at least once.
  *Moderated*: the moderator has completed the moderation.
- *Judgements*: the auditor's overall grade of each completed audit and the
  moderated grade of each moderated one, by strand (the seed's "Audit Grade"
  table). *% Good or better* uses the final grade: moderated where it has
  been, otherwise the auditor's.
- *Moderation agreement*: for each moderated audit, whether the moderator kept
  the auditor's overall grade, and for each section whether it was agreed or
  regraded up (to a better grade) or down.
- *Timeliness*: each deadline of the period's audits is on time (done by its
  due time, agreed extensions included), late (done after it), missed (still
  open after its due time, or stopped unanswered, e.g. an IRO/CP chair who
  never commented before the audit closed) or waiting (open, not yet due).
  The rate is on time / (on time + late + missed). A step restarted (an audit
  returned by the panel) counts once, with its latest deadline.
- *Themes*: per area of practice (graded section, not the overall judgement),
  the grade of each completed audit, moderated where it has been, compared
  with the previous period of the same length.
- *Cases of concern*: those of the period's sample, and any earlier one still
  open during the period or re-audited in it (the QAPIB report carries the
  update and the 6-week short audits' results).
- No free text is ever copied: no answers, evidence, comments, plans or
  feedback, only grades, dates, counts, the audit id and the child's ID.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from audits.catalog import Catalog
from audits.errors import InvalidInput
from audits.grades import Grade
from audits.model import ActionStatus, Audit, Deadline, PanelOutcome, Status
from audits.policies import StepId
from audits.steps import action_step, is_action_step
from audits.templates import SectionKind
from audits.workdays import as_utc
from reports.period import Period, cycle_label
from store.db import Database
from store.schema import audits as audits_table

GRADES = (Grade.OUTSTANDING, Grade.GOOD, Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE)
TREND_MONTHS = 6
# The steps whose timeliness the report shows, in the order of the process.
TIMED_STEPS = (
    StepId.IRO_COMMENTS,
    StepId.AUDIT,
    StepId.MODERATION,
    StepId.CLOSURE,
    StepId.COC_PLAN,
    StepId.REAUDIT,
    StepId.ACTION,
)
TREND_STEPS = (StepId.IRO_COMMENTS, StepId.AUDIT, StepId.MODERATION)
TREND_NAMES = {
    StepId.IRO_COMMENTS: "IRO/CP chair comments",
    StepId.AUDIT: "Audits completed",
    StepId.MODERATION: "Moderation",
}
FEEDBACK_SOURCES = (
    ("child", "Child"),
    ("young_person", "Young person"),
    ("parent", "Parent"),
    ("carer", "Carer"),
    ("other", "Other"),
)


def percent(part: int, whole: int) -> float | None:
    """`part` of `whole` as a percentage, None when there is nothing to divide."""
    return round(100 * part / whole, 1) if whole else None


# ------------------------------------------------------------------ figures


@dataclass(frozen=True)
class Tally:
    """How many of each grade."""

    outstanding: int = 0
    good: int = 0
    requires_improvement: int = 0
    inadequate: int = 0

    @classmethod
    def of(cls, grades: Iterable[Grade | None]) -> Tally:
        counted = Counter(g for g in grades if g is not None)
        return cls(*(counted[g] for g in GRADES))

    def count(self, grade: Grade) -> int:
        value: int = getattr(self, grade.value)
        return value

    @property
    def counts(self) -> tuple[int, int, int, int]:
        return (self.outstanding, self.good, self.requires_improvement, self.inadequate)

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def good_or_better(self) -> int:
        return self.outstanding + self.good

    @property
    def percent_good_or_better(self) -> float | None:
        return percent(self.good_or_better, self.total)

    def __add__(self, other: Tally) -> Tally:
        return Tally(*(a + b for a, b in zip(self.counts, other.counts, strict=True)))


@dataclass(frozen=True)
class Sample:
    allocated: int
    completed: int  # submitted by the auditor at least once
    moderated: int
    closed: int
    returned_by_panel: int  # audits the QA panel returned to the auditor at least once
    by_strand: tuple[tuple[str, int], ...]  # (strand label, audits)
    by_status: tuple[tuple[str, int], ...]  # (status label, audits), in the process's order


@dataclass(frozen=True)
class JudgementRow:
    strand: str
    label: str
    auditor: Tally
    moderated: Tally


@dataclass(frozen=True)
class Judgements:
    rows: tuple[JudgementRow, ...]
    final: Tally  # moderated grade where moderated, else the auditor's, of completed audits

    @property
    def auditor_total(self) -> Tally:
        return sum((r.auditor for r in self.rows), Tally())

    @property
    def moderated_total(self) -> Tally:
        return sum((r.moderated for r in self.rows), Tally())


@dataclass(frozen=True)
class SectionAgreement:
    section: str
    label: str
    moderated: int
    agreed: int
    up: int  # the moderator gave a better grade than the auditor
    down: int  # the moderator gave a worse grade

    @property
    def regraded(self) -> int:
        return self.up + self.down

    @property
    def rate(self) -> float | None:
        return percent(self.agreed, self.moderated)


@dataclass(frozen=True)
class Agreement:
    audits_moderated: int
    overall_agreed: int
    overall_up: int
    overall_down: int
    audits_regraded: int  # audits with at least one grade (section or overall) changed
    sections: tuple[SectionAgreement, ...]  # in the form's order

    @property
    def overall_rate(self) -> float | None:
        return percent(self.overall_agreed, self.audits_moderated)

    @property
    def section_decisions(self) -> int:
        return sum(s.moderated for s in self.sections)

    @property
    def section_agreed(self) -> int:
        return sum(s.agreed for s in self.sections)

    @property
    def section_rate(self) -> float | None:
        return percent(self.section_agreed, self.section_decisions)


@dataclass(frozen=True)
class StepTimeliness:
    step: str
    label: str
    on_time: int = 0
    late: int = 0
    missed: int = 0
    waiting: int = 0

    @property
    def due(self) -> int:
        return self.on_time + self.late + self.missed

    @property
    def rate(self) -> float | None:
        return percent(self.on_time, self.due)


@dataclass(frozen=True)
class ActionFigures:
    total: int
    open: int
    completed: int  # marked done, waiting for sign-off
    signed_off: int
    overdue: int  # open past their completion date


@dataclass(frozen=True)
class Timeliness:
    steps: tuple[StepTimeliness, ...]
    actions: ActionFigures

    def step(self, step: str) -> StepTimeliness:
        return next(s for s in self.steps if s.step == step)


@dataclass(frozen=True)
class TrendPoint:
    cycle: str
    label: str
    rates: tuple[tuple[str, float | None], ...]  # (step, on-time %) for TREND_STEPS

    def rate(self, step: str) -> float | None:
        return dict(self.rates).get(step)


@dataclass(frozen=True)
class SectionTheme:
    section: str
    label: str
    grades: Tally
    previous: Tally

    @property
    def percent_good_or_better(self) -> float | None:
        return self.grades.percent_good_or_better

    @property
    def change(self) -> float | None:
        """Percentage points of Good or better since the previous period."""
        now, before = self.grades.percent_good_or_better, self.previous.percent_good_or_better
        return round(now - before, 1) if now is not None and before is not None else None


@dataclass(frozen=True)
class Themes:
    sections: tuple[SectionTheme, ...]  # in the form's order
    previous_label: str

    @property
    def weakest_first(self) -> tuple[SectionTheme, ...]:
        graded = [s for s in self.sections if s.grades.total]
        return tuple(
            sorted(graded, key=lambda s: (s.percent_good_or_better or 0.0, -s.grades.inadequate))
        )

    @property
    def weakest(self) -> tuple[SectionTheme, ...]:
        """Areas of practice where some audits were below Good, the weakest first (at most 3)."""
        below = [s for s in self.weakest_first if s.grades.good_or_better < s.grades.total]
        return tuple(below[:3])

    @property
    def strongest(self) -> tuple[SectionTheme, ...]:
        """The three areas with the most Good or better (ties: the form's order)."""
        graded = [s for s in self.sections if s.grades.total]
        ranked = sorted(graded, key=lambda s: -(s.percent_good_or_better or 0.0))
        return tuple(ranked[:3])


@dataclass(frozen=True)
class ConcernRow:
    audit_id: str
    child_id: str
    cycle: str
    team: str
    raised_by: str  # role label
    opened_at: datetime
    plan_due: datetime | None
    plan_at: datetime | None
    reaudits: tuple[tuple[datetime, Grade], ...]
    reaudit_due: datetime | None  # the next short re-audit, while one is due
    closed_at: datetime | None

    @property
    def plan_on_time(self) -> bool | None:
        if self.plan_due is None or self.plan_at is None:
            return None
        return self.plan_at <= self.plan_due

    @property
    def latest_reaudit(self) -> Grade | None:
        return self.reaudits[-1][1] if self.reaudits else None


@dataclass(frozen=True)
class FamilyFeedbackFigures:
    audits: int
    sought: int
    not_sought: int  # a reason given why it could not be sought
    not_recorded: int
    by_source: tuple[tuple[str, int], ...]  # (who, audits with their feedback)


@dataclass(frozen=True)
class TeamRow:
    team: str
    allocated: int
    completed: int
    moderated: int
    final: Tally
    overall_agreed: int
    sections_regraded: int
    deadlines_overdue: int  # open audit deadlines past due, actions apart
    actions: int
    actions_overdue: int
    cases_of_concern: int
    iro_on_time: int
    iro_due: int

    @property
    def summary(self) -> str:
        """Audit activity and outcomes, as the team self-assessment asks, in one paragraph."""
        parts = [
            f"{self.allocated} audit{_s(self.allocated)} in the sample, "
            f"{self.completed} completed and {self.moderated} moderated."
        ]
        if self.final.total:
            grades = ", ".join(
                f"{n} {g.label}" for g, n in zip(GRADES, self.final.counts, strict=True) if n
            )
            parts.append(
                f"Grades: {grades} ({_pct(self.final.percent_good_or_better)} Good or better)."
            )
        if self.moderated:
            parts.append(
                f"The moderator agreed {self.overall_agreed} of {self.moderated} overall "
                f"grade{_s(self.moderated)} and changed {self.sections_regraded} section "
                f"grade{_s(self.sections_regraded)}."
            )
        if self.iro_due:
            parts.append(f"IRO/CP chair comments on time in {self.iro_on_time} of {self.iro_due}.")
        parts.append(
            f"{self.actions} agreed action{_s(self.actions)}, {self.actions_overdue} overdue."
        )
        if self.deadlines_overdue:
            parts.append(
                f"{self.deadlines_overdue} audit deadline{_s(self.deadlines_overdue)} overdue."
            )
        if self.cases_of_concern:
            parts.append(f"{self.cases_of_concern} case{_s(self.cases_of_concern)} of concern.")
        return " ".join(parts)


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:g}%"


@dataclass(frozen=True)
class AuditReport:
    period: Period
    as_at: datetime
    sample: Sample
    judgements: Judgements
    agreement: Agreement
    timeliness: Timeliness
    trend: tuple[TrendPoint, ...]
    themes: Themes
    concerns: tuple[ConcernRow, ...]
    feedback: FamilyFeedbackFigures
    teams: tuple[TeamRow, ...]
    audit_ids: tuple[str, ...]

    # The headline figures (the chat's summary card shows these).
    @property
    def completed(self) -> int:
        return self.sample.completed

    @property
    def percent_good_or_better(self) -> float | None:
        return self.judgements.final.percent_good_or_better

    @property
    def agreement_rate(self) -> float | None:
        return self.agreement.overall_rate

    @property
    def iro_on_time_rate(self) -> float | None:
        return self.timeliness.step(StepId.IRO_COMMENTS.value).rate

    @property
    def cases_of_concern(self) -> int:
        return sum(1 for c in self.concerns if c.cycle in self.period.cycles)

    @property
    def actions_overdue(self) -> int:
        return self.timeliness.actions.overdue


# --------------------------------------------------------------- computing


class _Labels:
    """Names from the audit tools and policies in the catalog, with plain fall-backs."""

    def __init__(self, catalog: Catalog | None) -> None:
        self.catalog = catalog

    def default_template(self) -> str | None:
        if self.catalog is None:
            return None
        try:
            return self.catalog.policy(self.catalog.default_policy).default_template
        except InvalidInput:
            return None

    def strands(self, template_id: str | None) -> list[tuple[str, str]]:
        template = self.catalog.templates.get(template_id or "") if self.catalog else None
        if template is None:
            return []
        return [
            (o.id, o.label)
            for s in template.sections
            for q in s.questions
            if q.prefill == "strand"
            for o in q.options
        ]

    def strand(self, template_id: str, strand: str) -> str:
        return dict(self.strands(template_id)).get(strand, strand.replace("-", " ").capitalize())

    def sections(self, template_id: str | None) -> list[tuple[str, str]]:
        """The graded areas of practice of the tool (the overall judgement apart)."""
        template = self.catalog.templates.get(template_id or "") if self.catalog else None
        if template is None:
            return []
        return [
            (s.id, s.label)
            for s in template.sections
            if s.kind is SectionKind.GRADED and s.id != template.overall_section
        ]

    def step_label(self, step: StepId, policies: Sequence[str]) -> str:
        words = _STEP_WORDS[step]
        if step is StepId.ACTION:
            return words
        durations = set()
        for policy_id in policies:
            policy = self.catalog.policies.get(policy_id) if self.catalog else None
            found = policy.step(step) if policy else None
            if found is not None and found.deadline is not None:
                durations.add(found.deadline.describe())
        if len(durations) == 1:
            return f"{words} within {durations.pop()}"
        return f"{words} by the deadline"


_STEP_WORDS = {
    StepId.IRO_COMMENTS: "IRO/CP chair comments",
    StepId.AUDIT: "Audits completed",
    StepId.MODERATION: "Moderation",
    StepId.CLOSURE: "Closed after the panel",
    StepId.COC_PLAN: "Case of concern plans",
    StepId.REAUDIT: "Re-audits of cases of concern",
    StepId.ACTION: "Agreed actions done by their date",
}


def _classify(d: Deadline, now: datetime) -> str:
    if d.done_at is not None:
        if d.stopped:
            return "missed"
        return "on_time" if as_utc(d.done_at) <= as_utc(d.due_at) else "late"
    return "missed" if as_utc(d.due_at) < now else "waiting"


def _deadlines_of(audit: Audit, step: StepId) -> list[Deadline]:
    if step is StepId.ACTION:
        return [d for key, d in audit.deadlines.items() if is_action_step(key)]
    found = audit.deadlines.get(step.value)
    return [found] if found is not None else []


def _step_timeliness(
    step: StepId, label: str, audits: Iterable[Audit], now: datetime
) -> StepTimeliness:
    counted: Counter[str] = Counter()
    for audit in audits:
        for d in _deadlines_of(audit, step):
            counted[_classify(d, now)] += 1
    return StepTimeliness(
        step=step.value,
        label=label,
        on_time=counted["on_time"],
        late=counted["late"],
        missed=counted["missed"],
        waiting=counted["waiting"],
    )


def _completed(audit: Audit) -> bool:
    return audit.submitted_at is not None


def _moderated(audit: Audit) -> bool:
    return audit.moderation is not None and audit.moderation.completed_at is not None


def _section_grade(audit: Audit, section: str) -> Grade | None:
    """The moderated grade of a section where it has been moderated, else the auditor's."""
    if _moderated(audit):
        assert audit.moderation is not None
        decision = audit.moderation.sections.get(section)
        if decision is not None:
            return decision.grade
    answer = audit.answers.get(section)
    return answer.grade if answer else None


def _sample(audits: Sequence[Audit], labels: _Labels, strands: list[tuple[str, str]]) -> Sample:
    by_strand = Counter(a.strand for a in audits)
    by_status = Counter(a.status for a in audits)
    return Sample(
        allocated=len(audits),
        completed=sum(1 for a in audits if _completed(a)),
        moderated=sum(1 for a in audits if _moderated(a)),
        closed=sum(1 for a in audits if a.status is Status.CLOSED),
        returned_by_panel=sum(
            1 for a in audits if any(p.outcome is PanelOutcome.RETURNED for p in a.panel)
        ),
        by_strand=tuple((label, by_strand[sid]) for sid, label in strands),
        by_status=tuple((s.label, by_status[s]) for s in Status if by_status[s]),
    )


def _strands(audits: Sequence[Audit], labels: _Labels) -> list[tuple[str, str]]:
    """Every strand of the tools used (the seed's table lists them all), then any other."""
    templates = sorted({a.template for a in audits}) or [labels.default_template() or ""]
    known: dict[str, str] = {}
    for template in templates:
        for sid, label in labels.strands(template):
            known.setdefault(sid, label)
    for audit in sorted(audits, key=lambda a: a.strand):
        known.setdefault(audit.strand, labels.strand(audit.template, audit.strand))
    return list(known.items())


def _judgements(audits: Sequence[Audit], strands: list[tuple[str, str]]) -> Judgements:
    rows = []
    for sid, label in strands:
        mine = [a for a in audits if a.strand == sid]
        rows.append(
            JudgementRow(
                strand=sid,
                label=label,
                auditor=Tally.of(a.auditor_grade for a in mine if _completed(a)),
                moderated=Tally.of(a.moderated_grade for a in mine),
            )
        )
    return Judgements(
        rows=tuple(rows), final=Tally.of(a.final_grade for a in audits if _completed(a))
    )


def _sections(audits: Sequence[Audit], labels: _Labels) -> list[tuple[str, str]]:
    templates = sorted({a.template for a in audits}) or [labels.default_template() or ""]
    known: dict[str, str] = {}
    for template in templates:
        for sid, label in labels.sections(template):
            known.setdefault(sid, label)
    return list(known.items())


def _agreement(audits: Sequence[Audit], sections: list[tuple[str, str]]) -> Agreement:
    moderated = [a for a in audits if _moderated(a)]
    per: dict[str, Counter[str]] = {sid: Counter() for sid, _ in sections}
    overall: Counter[str] = Counter()
    regraded = 0
    for audit in moderated:
        assert audit.moderation is not None
        changed = False
        for sid, decision in audit.moderation.sections.items():
            counted = per.setdefault(sid, Counter())
            counted["moderated"] += 1
            direction = _direction(decision.auditor_grade, decision.grade)
            counted[direction] += 1
            changed |= direction != "agreed"
        direction = _direction(audit.moderation.auditor_overall, audit.moderation.overall)
        overall[direction] += 1
        changed |= direction != "agreed"
        regraded += changed
    label_of = dict(sections)
    return Agreement(
        audits_moderated=len(moderated),
        overall_agreed=overall["agreed"],
        overall_up=overall["up"],
        overall_down=overall["down"],
        audits_regraded=regraded,
        sections=tuple(
            SectionAgreement(
                section=sid,
                label=label_of.get(sid, sid),
                moderated=c["moderated"],
                agreed=c["agreed"],
                up=c["up"],
                down=c["down"],
            )
            for sid, c in per.items()
        ),
    )


def _direction(auditor: Grade | None, moderator: Grade | None) -> str:
    if auditor is moderator:
        return "agreed"
    before = auditor.rank if auditor else 0
    after = moderator.rank if moderator else 0
    return "up" if after > before else "down"


def _actions(audits: Sequence[Audit], now: datetime) -> ActionFigures:
    actions = [(a, x) for a in audits for x in a.actions]
    overdue = 0
    for audit, action in actions:
        d = audit.deadlines.get(action_step(action.number))
        if action.status is ActionStatus.OPEN and d is not None and as_utc(d.due_at) < now:
            overdue += 1
    return ActionFigures(
        total=len(actions),
        open=sum(1 for _, x in actions if x.status is ActionStatus.OPEN),
        completed=sum(1 for _, x in actions if x.status is ActionStatus.COMPLETED),
        signed_off=sum(1 for _, x in actions if x.status is ActionStatus.SIGNED_OFF),
        overdue=overdue,
    )


def _timeliness(audits: Sequence[Audit], labels: _Labels, now: datetime) -> Timeliness:
    policies = sorted({a.policy for a in audits}) or (
        [labels.catalog.default_policy] if labels.catalog else []
    )
    return Timeliness(
        steps=tuple(
            _step_timeliness(step, labels.step_label(step, policies), audits, now)
            for step in TIMED_STEPS
        ),
        actions=_actions(audits, now),
    )


def _trend(
    cycles: Sequence[str], by_cycle: dict[str, list[Audit]], now: datetime
) -> tuple[TrendPoint, ...]:
    points = []
    for cycle in cycles:
        audits = by_cycle.get(cycle, [])
        points.append(
            TrendPoint(
                cycle=cycle,
                label=cycle_label(cycle),
                rates=tuple(
                    (step.value, _step_timeliness(step, "", audits, now).rate)
                    for step in TREND_STEPS
                ),
            )
        )
    return tuple(points)


def _themes(
    audits: Sequence[Audit],
    previous: Sequence[Audit],
    sections: list[tuple[str, str]],
    previous_label: str,
) -> Themes:
    def tally(group: Sequence[Audit], sid: str) -> Tally:
        return Tally.of(_section_grade(a, sid) for a in group if _completed(a))

    return Themes(
        sections=tuple(
            SectionTheme(
                section=sid, label=label, grades=tally(audits, sid), previous=tally(previous, sid)
            )
            for sid, label in sections
        ),
        previous_label=previous_label,
    )


def _concerns(candidates: Iterable[Audit], period: Period) -> tuple[ConcernRow, ...]:
    rows = []
    start, end = period.first_day, period.end_day
    for audit in candidates:
        coc = audit.case_of_concern
        if coc is None:
            continue
        in_sample = audit.cycle in period.cycles
        opened = as_utc(coc.opened_at).date()
        open_during = opened < end and (
            coc.closed_at is None or as_utc(coc.closed_at).date() >= start
        )
        reaudited = any(start <= as_utc(r.at).date() < end for r in coc.reaudits)
        if not (in_sample or open_during or reaudited):
            continue
        plan = audit.deadlines.get(StepId.COC_PLAN.value)
        reaudit = audit.deadlines.get(StepId.REAUDIT.value)
        rows.append(
            ConcernRow(
                audit_id=audit.id,
                child_id=audit.child_id,
                cycle=audit.cycle,
                team=audit.team,
                raised_by=coc.raised_by.label,
                opened_at=coc.opened_at,
                plan_due=plan.due_at if plan else None,
                plan_at=coc.plan_at,
                reaudits=tuple((r.at, r.grade) for r in coc.reaudits),
                reaudit_due=reaudit.due_at if reaudit and reaudit.open else None,
                closed_at=coc.closed_at,
            )
        )
    return tuple(sorted(rows, key=lambda r: r.audit_id))


def _feedback(audits: Sequence[Audit]) -> FamilyFeedbackFigures:
    recorded = [a.family_feedback for a in audits if a.family_feedback is not None]
    sources: Counter[str] = Counter(s for f in recorded if f.summary for s in f.sought_from)
    return FamilyFeedbackFigures(
        audits=len(audits),
        sought=sum(1 for f in recorded if f.summary),
        not_sought=sum(1 for f in recorded if not f.summary and f.not_sought_reason),
        not_recorded=len(audits) - len(recorded),
        by_source=tuple((label, sources[key]) for key, label in FEEDBACK_SOURCES),
    )


def _teams(audits: Sequence[Audit], now: datetime) -> tuple[TeamRow, ...]:
    rows = []
    for team in sorted({a.team for a in audits}, key=str.lower):
        mine = [a for a in audits if a.team == team]
        moderated = [a for a in mine if _moderated(a)]
        iro = _step_timeliness(StepId.IRO_COMMENTS, "", mine, now)
        rows.append(
            TeamRow(
                team=team,
                allocated=len(mine),
                completed=sum(1 for a in mine if _completed(a)),
                moderated=len(moderated),
                final=Tally.of(a.final_grade for a in mine if _completed(a)),
                overall_agreed=sum(
                    1
                    for a in moderated
                    if a.moderation and a.moderation.auditor_overall is a.moderation.overall
                ),
                sections_regraded=sum(
                    1
                    for a in moderated
                    if a.moderation
                    for d in a.moderation.sections.values()
                    if not d.agreed
                ),
                deadlines_overdue=sum(
                    1
                    for a in mine
                    for key, d in a.deadlines.items()
                    if not is_action_step(key) and d.open and as_utc(d.due_at) < now
                ),
                actions=sum(len(a.actions) for a in mine),
                actions_overdue=_actions(mine, now).overdue,
                cases_of_concern=sum(1 for a in mine if a.case_of_concern is not None),
                iro_on_time=iro.on_time,
                iro_due=iro.due,
            )
        )
    return tuple(rows)


def compute_report(
    period: Period,
    by_cycle: dict[str, list[Audit]],
    concerns: Iterable[Audit],
    catalog: Catalog | None,
    as_at: datetime,
) -> AuditReport:
    """The report from audits grouped by cycle (the period's, the previous period's and the
    trend's months) and the candidate cases of concern. Pure."""
    now = as_utc(as_at)
    labels = _Labels(catalog)
    audits = sorted((a for c in period.cycles for a in by_cycle.get(c, [])), key=lambda a: a.id)
    previous_period = period.previous()
    previous = [a for c in previous_period.cycles for a in by_cycle.get(c, [])]
    strands = _strands(audits, labels)
    sections = _sections([*audits, *previous], labels)
    return AuditReport(
        period=period,
        as_at=now,
        sample=_sample(audits, labels, strands),
        judgements=_judgements(audits, strands),
        agreement=_agreement(audits, sections),
        timeliness=_timeliness(audits, labels, now),
        trend=_trend(period.trend(TREND_MONTHS), by_cycle, now),
        themes=_themes(audits, previous, sections, previous_period.label),
        concerns=_concerns(concerns, period),
        feedback=_feedback(audits),
        teams=_teams(audits, now),
        audit_ids=tuple(a.id for a in audits),
    )


# ---------------------------------------------------------------- loading


async def load_cycles(conn: AsyncConnection, cycles: Iterable[str]) -> dict[str, list[Audit]]:
    """The audits of the given sample months, by month."""
    wanted = sorted(set(cycles))
    found: dict[str, list[Audit]] = {c: [] for c in wanted}
    rows = await conn.execute(
        sa.select(audits_table.c.cycle, audits_table.c.state)
        .where(audits_table.c.cycle.in_(wanted))
        .order_by(audits_table.c.id)
    )
    for row in rows:
        found[row.cycle].append(Audit.model_validate(row.state))
    return found


async def load_earlier_concerns(
    conn: AsyncConnection, period: Period, skip: Iterable[str]
) -> list[Audit]:
    """Cases of concern from samples before the period (not among `skip`'s months)."""
    rows = await conn.execute(
        sa.select(audits_table.c.state)
        .where(
            audits_table.c.case_of_concern.is_(True),
            audits_table.c.cycle < period.cycles[0],
            audits_table.c.cycle.not_in(sorted(set(skip))),
        )
        .order_by(audits_table.c.id)
    )
    return [Audit.model_validate(row.state) for row in rows]


async def build_report(
    db: Database, period: Period, catalog: Catalog | None, as_at: datetime
) -> AuditReport:
    """Reads what the period needs, in one read transaction, and computes the report."""
    cycles = {*period.cycles, *period.previous().cycles, *period.trend(TREND_MONTHS)}
    async with db.reading() as conn:
        by_cycle = await load_cycles(conn, cycles)
        earlier = await load_earlier_concerns(conn, period, cycles)
    loaded = [a for group in by_cycle.values() for a in group]
    candidates = [
        a for a in loaded if a.case_of_concern is not None and a.cycle <= period.cycles[-1]
    ]
    return compute_report(period, by_cycle, [*candidates, *earlier], catalog, as_at)
