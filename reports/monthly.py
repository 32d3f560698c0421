"""The monthly (or quarterly) QA report computed from the store's rows. Pure.

Which audits a report covers: those whose `cycle` is one of the period's
months. The cycle is the month (UK time) in which the audit was allocated,
that is the monthly sample the QA team selected; an audit stays in its
sample's report however late it is finished, so a month's figures settle as
its audits are completed and a report can be run again later. A quarter is
its three months' samples together. What each figure means is told in
`reports.figures`; the rows come from `store.report_rows`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from audits.catalog import Catalog
from audits.errors import InvalidInput
from audits.grades import Grade
from audits.model import ActionStatus, Audit, Deadline, PanelOutcome, Status
from audits.policies import StepId
from audits.steps import action_step, is_action_step
from audits.templates import SectionKind
from audits.workdays import as_utc
from reports.figures import (
    TREND_STEPS,
    ActionFigures,
    Agreement,
    AuditReport,
    ConcernRow,
    FamilyFeedbackFigures,
    JudgementRow,
    Judgements,
    Sample,
    SectionAgreement,
    SectionTheme,
    StepTimeliness,
    Tally,
    TeamRow,
    Themes,
    Timeliness,
    TrendPoint,
)
from reports.period import Period, cycle_label
from store.report_rows import ReportRows

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
FEEDBACK_SOURCES = (
    ("child", "Child"),
    ("young_person", "Young person"),
    ("parent", "Parent"),
    ("carer", "Carer"),
    ("other", "Other"),
)


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
        return list(template.strands) if template is not None else []

    def strand(self, template_id: str, strand: str) -> str:
        template = self.catalog.templates.get(template_id) if self.catalog else None
        if template is None:
            return strand.replace("-", " ").capitalize()
        return template.strand_label(strand)

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


def _sample(audits: Sequence[Audit], strands: list[tuple[str, str]]) -> Sample:
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
    cycles: Sequence[str], by_cycle: Mapping[str, Sequence[Audit]], now: datetime
) -> tuple[TrendPoint, ...]:
    points = []
    for cycle in cycles:
        audits = by_cycle.get(cycle, ())
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


def report_cycles(period: Period) -> tuple[str, ...]:
    """The sample months a period's report reads: its own, the previous period's (for the
    themes' comparison) and the trend's, earliest first."""
    return tuple(sorted({*period.cycles, *period.previous().cycles, *period.trend(TREND_MONTHS)}))


def compute_report(
    period: Period, rows: ReportRows, catalog: Catalog | None, as_at: datetime
) -> AuditReport:
    """The report from the rows of `report_cycles(period)` and the earlier cases of concern."""
    now = as_utc(as_at)
    labels = _Labels(catalog)
    by_cycle = rows.by_cycle
    audits = sorted((a for c in period.cycles for a in by_cycle.get(c, ())), key=lambda a: a.id)
    previous_period = period.previous()
    previous = [a for c in previous_period.cycles for a in by_cycle.get(c, ())]
    strands = _strands(audits, labels)
    sections = _sections([*audits, *previous], labels)
    concerns = [
        a
        for group in by_cycle.values()
        for a in group
        if a.case_of_concern is not None and a.cycle <= period.cycles[-1]
    ]
    return AuditReport(
        period=period,
        as_at=now,
        sample=_sample(audits, strands),
        judgements=_judgements(audits, strands),
        agreement=_agreement(audits, sections),
        timeliness=_timeliness(audits, labels, now),
        trend=_trend(period.trend(TREND_MONTHS), by_cycle, now),
        themes=_themes(audits, previous, sections, previous_period.label),
        concerns=_concerns([*concerns, *rows.earlier_concerns], period),
        feedback=_feedback(audits),
        teams=_teams(audits, now),
        audit_ids=tuple(a.id for a in audits),
    )
