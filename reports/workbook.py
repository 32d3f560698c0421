"""The report's tables as an Excel workbook, one sheet per table (openpyxl).

Percentages are numbers (0-100, one decimal) and empty where nothing was
due, so the sheets can be charted or fed on as they are. Text that a
spreadsheet would take for a formula is written as text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from audits.workdays import UK, as_utc
from reports.figures import GRADES, TREND_NAMES, TREND_STEPS, AuditReport, Tally
from reports.prose import team_summary

GRADE_COLUMNS = tuple(g.label for g in GRADES)
SHEETS = (
    "Summary",
    "Sample",
    "Auditor grades",
    "Moderated grades",
    "Moderation agreement",
    "Timeliness",
    "Timeliness trend",
    "Actions",
    "Themes",
    "Cases of concern",
    "Family feedback",
    "Teams",
)
_FORMULA_START = ("=", "+", "-", "@")


def cell_value(value: Any) -> Any:
    """A value as a cell should hold it: text that would be a formula stays text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if isinstance(value, datetime):
        return as_utc(value).astimezone(UK).replace(tzinfo=None)
    return value


def write_sheet(
    sheet: Worksheet, header: Sequence[str], rows: Sequence[Sequence[Any]]
) -> Worksheet:
    sheet.append([cell_value(h) for h in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([cell_value(v) for v in row])
    for i, label in enumerate(header, start=1):
        longest = max(
            [len(str(label)), *(len(str(r[i - 1])) for r in rows if r[i - 1] is not None)]
        )
        sheet.column_dimensions[get_column_letter(i)].width = min(60, max(10, longest + 2))
    sheet.freeze_panes = "A2"
    return sheet


def render_workbook(report: AuditReport) -> bytes:
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for title, (header, rows) in zip(SHEETS, _tables(report), strict=True):
        write_sheet(book.create_sheet(title), header, rows)
    book.properties.creator = "auditbot"
    book.properties.title = f"Report on Audits of Children's Casework – {report.period.label}"
    stamp = as_utc(report.as_at).replace(tzinfo=None)
    book.properties.created = stamp
    book.properties.modified = stamp
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


Table = tuple[Sequence[str], Sequence[Sequence[Any]]]


def _grade_rows(rows: Sequence[tuple[str, Tally]], total: Tally) -> Sequence[Sequence[Any]]:
    return [(label, *t.counts, t.total) for label, t in rows] + [
        ("Total", *total.counts, total.total)
    ]


def _tables(r: AuditReport) -> list[Table]:
    s, j, a, t = r.sample, r.judgements, r.agreement, r.timeliness
    summary: Table = (
        ("Figure", "Value"),
        [
            ("Period", r.period.label),
            ("As at (UK time)", r.as_at),
            ("Audits allocated", s.allocated),
            ("Audits completed", s.completed),
            ("Audits moderated", s.moderated),
            ("Audits closed", s.closed),
            ("Good or better (%)", r.percent_good_or_better),
            ("Overall grade agreed by the moderator (%)", r.agreement_rate),
            ("Section grades agreed by the moderator (%)", a.section_rate),
            ("IRO/CP chair comments on time (%)", r.iro_on_time_rate),
            ("Cases of concern in the sample", r.cases_of_concern),
            ("Agreed actions overdue", r.actions_overdue),
        ],
    )
    sample: Table = (
        ("Group", "Value", "Audits"),
        [("Strand", label, n) for label, n in s.by_strand]
        + [("Status", label, n) for label, n in s.by_status]
        + [("Returned by the QA panel", "", s.returned_by_panel)],
    )
    grade_header = ("Strand", *GRADE_COLUMNS, "Total")
    auditor: Table = (
        grade_header,
        _grade_rows([(x.label, x.auditor) for x in j.rows], j.auditor_total),
    )
    moderated: Table = (
        grade_header,
        _grade_rows([(x.label, x.moderated) for x in j.rows], j.moderated_total),
    )
    agreement: Table = (
        ("Section", "Moderated", "Agreed", "Regraded up", "Regraded down", "Agreement (%)"),
        [(x.label, x.moderated, x.agreed, x.up, x.down, x.rate) for x in a.sections]
        + [
            (
                "Overall judgement",
                a.audits_moderated,
                a.overall_agreed,
                a.overall_up,
                a.overall_down,
                a.overall_rate,
            )
        ],
    )
    timeliness: Table = (
        ("Deadline", "On time", "Late", "Missed", "Not yet due", "On time (%)"),
        [(x.label, x.on_time, x.late, x.missed, x.waiting, x.rate) for x in t.steps],
    )
    trend: Table = (
        ("Sample month", *(f"{TREND_NAMES[step]} on time (%)" for step in TREND_STEPS)),
        [(p.label, *(p.rate(step.value) for step in TREND_STEPS)) for p in r.trend],
    )
    actions: Table = (
        ("Agreed actions", "Number"),
        [
            ("All", t.actions.total),
            ("Open", t.actions.open),
            ("Overdue", t.actions.overdue),
            ("Completed, awaiting sign-off", t.actions.completed),
            ("Signed off", t.actions.signed_off),
        ],
    )
    themes: Table = (
        (
            "Area of practice",
            *GRADE_COLUMNS,
            "Good or better (%)",
            f"Good or better in {r.themes.previous_label} (%)",
            "Change (points)",
        ),
        [
            (
                x.label,
                *x.grades.counts,
                x.percent_good_or_better,
                x.previous.percent_good_or_better,
                x.change,
            )
            for x in r.themes.weakest_first
        ],
    )
    concerns: Table = (
        (
            "Audit",
            "Child's ID",
            "Sample",
            "Team",
            "Raised by",
            "Opened",
            "Plan due",
            "Plan confirmed",
            "Plan on time",
            "Re-audits",
            "Latest re-audit",
            "Next re-audit due",
            "Closed",
        ),
        [
            (
                c.audit_id,
                c.child_id,
                c.cycle,
                c.team,
                c.raised_by,
                c.opened_at,
                c.plan_due,
                c.plan_at,
                None if c.plan_on_time is None else ("Yes" if c.plan_on_time else "No"),
                len(c.reaudits),
                c.latest_reaudit.label if c.latest_reaudit else None,
                c.reaudit_due,
                c.closed_at,
            )
            for c in r.concerns
        ],
    )
    f = r.feedback
    feedback: Table = (
        ("Family feedback", "Audits"),
        [
            ("Sought and recorded", f.sought),
            ("Could not be sought (reason recorded)", f.not_sought),
            ("Not yet recorded", f.not_recorded),
        ]
        + [(f"From: {who}", n) for who, n in f.by_source],
    )
    teams: Table = (
        (
            "Team",
            "Allocated",
            "Completed",
            "Moderated",
            *GRADE_COLUMNS,
            "Good or better (%)",
            "Overall grades agreed",
            "Section grades changed",
            "IRO/CP chair comments on time",
            "IRO/CP chair comments due",
            "Audit deadlines overdue",
            "Agreed actions",
            "Actions overdue",
            "Cases of concern",
            "Audit activity and outcomes",
        ),
        [
            (
                x.team,
                x.allocated,
                x.completed,
                x.moderated,
                *x.final.counts,
                x.final.percent_good_or_better,
                x.overall_agreed,
                x.sections_regraded,
                x.iro_on_time,
                x.iro_due,
                x.deadlines_overdue,
                x.actions,
                x.actions_overdue,
                x.cases_of_concern,
                team_summary(x),
            )
            for x in r.teams
        ],
    )
    return [
        summary,
        sample,
        auditor,
        moderated,
        agreement,
        timeliness,
        trend,
        actions,
        themes,
        concerns,
        feedback,
        teams,
    ]
