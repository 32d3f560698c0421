"""Every audit as one row with every grade, for councils that feed Power BI.

An audit is in an export when it was allocated (UK date) between the two
dates, both included. A row holds the audit's ids, sample month, strand,
team, tool, policy and status, its dates (UK time), the overall grades, and
for each graded section of the tools used the auditor's and the moderated
grade (columns `<section id> auditor` / `<section id> moderated`). No free
text: no answers, evidence, comments, plans or feedback, and no names.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from openpyxl import Workbook

from audits.catalog import Catalog
from audits.model import Audit
from audits.templates import SectionKind
from audits.workdays import UK, as_utc
from reports.workbook import cell_value, write_sheet
from store.audit_rows import audits_created_between
from store.db import Database

FIXED_COLUMNS = (
    "audit_id",
    "child_id",
    "sample_month",
    "strand",
    "team",
    "template",
    "policy",
    "status",
    "allocated",
    "submitted",
    "moderated",
    "closed",
    "auditor_overall",
    "moderated_overall",
    "final_grade",
    "case_of_concern",
    "family_feedback",
    "iro_comments_on_time",
    "actions",
    "actions_open",
)
FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Export:
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def to_csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(["" if v is None else _csv_value(v) for v in row])
        # With a byte order mark, Excel reads the file as UTF-8.
        return out.getvalue().encode("utf-8-sig")

    def to_xlsx(self) -> bytes:
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "Audits"
        write_sheet(sheet, self.columns, self.rows)
        book.properties.creator = "auditbot"
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    def render(self, fmt: str) -> bytes:
        if fmt == "csv":
            return self.to_csv()
        if fmt == "xlsx":
            return self.to_xlsx()
        raise ValueError(f"unknown format '{fmt}' (use {' or '.join(FORMATS)})")


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).astimezone(UK).strftime("%Y-%m-%d %H:%M")
    return cell_value(value)


def _sections(audits: Sequence[Audit], catalog: Catalog | None) -> list[str]:
    """Graded section ids of the tools used, in the form's order, overall judgement apart."""
    seen: dict[str, None] = {}
    for template_id in sorted({a.template for a in audits}):
        template = catalog.templates.get(template_id) if catalog else None
        if template is not None:
            for s in template.sections:
                if s.kind is SectionKind.GRADED and s.id != template.overall_section:
                    seen.setdefault(s.id, None)
    for audit in audits:
        for sid, answer in audit.answers.items():
            if answer.grade is not None and sid != audit.overall_section:
                seen.setdefault(sid, None)
    return list(seen)


def _row(audit: Audit, sections: Sequence[str]) -> tuple[Any, ...]:
    moderation = audit.moderation if audit.moderation and audit.moderation.completed_at else None
    feedback = audit.family_feedback
    iro = audit.deadlines.get("iro_comments")
    iro_on_time = (
        None
        if iro is None or iro.done_at is None
        else ("Yes" if not iro.stopped and iro.done_at <= iro.due_at else "No")
    )
    grades: list[str | None] = []
    for sid in sections:
        answer = audit.answers.get(sid)
        decision = moderation.sections.get(sid) if moderation else None
        grades.append(answer.grade.label if answer and answer.grade else None)
        grades.append(decision.grade.label if decision else None)
    return (
        audit.id,
        audit.child_id,
        audit.cycle,
        audit.strand,
        audit.team,
        audit.template,
        audit.policy,
        audit.status.label,
        audit.allocated_at,
        audit.submitted_at,
        moderation.completed_at if moderation else None,
        audit.closed_at,
        audit.auditor_grade.label if audit.auditor_grade else None,
        audit.moderated_grade.label if audit.moderated_grade else None,
        audit.final_grade.label if audit.final_grade else None,
        "Yes" if audit.case_of_concern else "No",
        "Sought"
        if feedback and feedback.summary
        else ("Not sought" if feedback else "Not recorded"),
        iro_on_time,
        len(audit.actions),
        sum(1 for a in audit.actions if a.status.value == "open"),
        *grades,
    )


def build_export(audits: Sequence[Audit], catalog: Catalog | None) -> Export:
    ordered = sorted(audits, key=lambda a: a.id)
    sections = _sections(ordered, catalog)
    columns = FIXED_COLUMNS + tuple(
        f"{sid} {who}" for sid in sections for who in ("auditor", "moderated")
    )
    return Export(columns, tuple(_row(a, sections) for a in ordered))


def _uk_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UK)


async def export_audits(db: Database, start: date, end: date, catalog: Catalog | None) -> Export:
    """The audits allocated from `start` to `end` (UK dates, both included)."""
    if end < start:
        raise ValueError("the end date is before the start date")
    since, until = _uk_midnight(start), _uk_midnight(end + timedelta(days=1))
    async with db.reading() as conn:
        found = await audits_created_between(conn, since, until)
    # `created_at` is the moment of allocation; the record's own date decides.
    chosen = [a for a in found if since <= as_utc(a.allocated_at) < until]
    return build_export(chosen, catalog)
