"""The report's figures in words for the QA board: each team's paragraph and percentages.

Pure: strings from the figures in `reports.figures`, no free text of any audit.
"""

from __future__ import annotations

from reports.figures import GRADES, TeamRow


def pct(value: float | None) -> str:
    """A percentage as the report writes it ("62.5%"), "-" when nothing was due."""
    return "-" if value is None else f"{value:g}%"


def team_summary(row: TeamRow) -> str:
    """A team's audit activity and outcomes, as the team self-assessment asks, in one paragraph."""
    parts = [
        f"{row.allocated} audit{_s(row.allocated)} in the sample, "
        f"{row.completed} completed and {row.moderated} moderated."
    ]
    if row.final.total:
        grades = ", ".join(
            f"{n} {g.label}" for g, n in zip(GRADES, row.final.counts, strict=True) if n
        )
        parts.append(f"Grades: {grades} ({pct(row.final.percent_good_or_better)} Good or better).")
    if row.moderated:
        parts.append(
            f"The moderator agreed {row.overall_agreed} of {row.moderated} overall "
            f"grade{_s(row.moderated)} and changed {row.sections_regraded} section "
            f"grade{_s(row.sections_regraded)}."
        )
    if row.iro_due:
        parts.append(f"IRO/CP chair comments on time in {row.iro_on_time} of {row.iro_due}.")
    parts.append(f"{row.actions} agreed action{_s(row.actions)}, {row.actions_overdue} overdue.")
    if row.deadlines_overdue:
        parts.append(f"{row.deadlines_overdue} audit deadline{_s(row.deadlines_overdue)} overdue.")
    if row.cases_of_concern:
        parts.append(f"{row.cases_of_concern} case{_s(row.cases_of_concern)} of concern.")
    return " ".join(parts)


def _s(n: int) -> str:
    return "" if n == 1 else "s"
