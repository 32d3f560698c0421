"""A period's report from the database: its rows read by the store, its figures computed.

The only part of the monthly report that waits on the database; it runs no SQL
of its own (`store.report_rows` does) and the computing is `reports.monthly`'s.
"""

from __future__ import annotations

from datetime import datetime

from audits.catalog import Catalog
from reports.figures import AuditReport
from reports.monthly import compute_report, report_cycles
from reports.period import Period
from store.db import Database
from store.report_rows import read_report_rows


async def build_report(
    db: Database, period: Period, catalog: Catalog | None, as_at: datetime
) -> AuditReport:
    """Reads what the period needs, in one read transaction, and computes the report."""
    rows = await read_report_rows(db, report_cycles(period), before=period.cycles[0])
    return compute_report(period, rows, catalog, as_at)
