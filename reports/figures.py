"""The monthly (or quarterly) QA report's figures: typed, frozen, computed elsewhere.

`reports.monthly.compute_report` makes an `AuditReport` from the store's rows;
the Word document, the workbook, the charts and the chat card read it. What
each figure means (every one is as at `as_at`, the moment the report is made,
so open deadlines are overdue or still waiting at that moment):

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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from audits.grades import Grade
from audits.policies import StepId
from reports.period import Period

GRADES = (Grade.OUTSTANDING, Grade.GOOD, Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE)
# The steps whose on-time rates the trend shows, and their names.
TREND_STEPS = (StepId.IRO_COMMENTS, StepId.AUDIT, StepId.MODERATION)
TREND_NAMES = {
    StepId.IRO_COMMENTS: "IRO/CP chair comments",
    StepId.AUDIT: "Audits completed",
    StepId.MODERATION: "Moderation",
}


def percent(part: int, whole: int) -> float | None:
    """`part` of `whole` as a percentage, None when there is nothing to divide."""
    return round(100 * part / whole, 1) if whole else None


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
