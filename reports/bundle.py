"""A period's report as the files the QA team files: the Word report and the workbook."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from audits.catalog import Catalog
from reports.build import build_report
from reports.charts import Charts, render_charts
from reports.figures import AuditReport
from reports.monthly_docx import render_report_document
from reports.period import Period
from reports.workbook import render_workbook
from store.db import Database


def file_names(period: Period) -> tuple[str, str]:
    """The Word and Excel file names; the same period always gets the same names."""
    stem = f"QAPIB-audit-report-{period.key}"
    return f"{stem}.docx", f"{stem}.xlsx"


@dataclass(frozen=True)
class ReportFiles:
    report: AuditReport
    charts: Charts
    word: bytes
    workbook: bytes

    def files(self) -> dict[str, bytes]:
        word_name, workbook_name = file_names(self.report.period)
        return {word_name: self.word, workbook_name: self.workbook}


def render_report_files(report: AuditReport) -> ReportFiles:
    """Charts, Word and Excel from computed figures: CPU only (run it off an event loop
    that also answers chats, with `asyncio.to_thread`)."""
    charts = render_charts(report)
    return ReportFiles(
        report=report,
        charts=charts,
        word=render_report_document(report, charts),
        workbook=render_workbook(report),
    )


async def make_report(
    db: Database, period: Period, catalog: Catalog | None, as_at: datetime
) -> ReportFiles:
    return render_report_files(await build_report(db, period, catalog, as_at))
