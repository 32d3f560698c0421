"""`auditbot report` and `auditbot export`: the monthly QA report and the audit exports."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audits.errors import AuditError, InvalidInput

if TYPE_CHECKING:
    from auditbot.app import App

DEFAULT_OUT = Path("var/reports")
EXPORT_FORMATS = ("csv", "xlsx")


def add_parsers(sub: Any) -> None:
    """Adds this module's subcommands to the `auditbot` parser."""
    p = sub.add_parser(
        "report",
        help="the QA report on a month's (or a quarter's) audits, as Word and Excel files",
    )
    period = p.add_mutually_exclusive_group(required=True)
    period.add_argument("--month", metavar="YYYY-MM", help="the month of the sample")
    period.add_argument("--quarter", metavar="YYYY-Qn", help="a calendar quarter, e.g. 2026-Q4")
    p.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"folder for the files (default {DEFAULT_OUT})",
    )

    p = sub.add_parser(
        "export", help="one row per audit allocated between two dates, with every grade"
    )
    p.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--format", choices=EXPORT_FORMATS, default="csv")
    p.add_argument("--out", type=Path, metavar="FILE", help="default var/reports/audits-FROM-to-TO")


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{what} '{text}' is not a date: use YYYY-MM-DD") from None


def _write(path: Path, content: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    except OSError as exc:
        raise AuditError(f"{path}: cannot be written ({exc.strerror or exc})") from None


async def _report(app: App, args: argparse.Namespace) -> int:
    from application.effects import report_filings
    from reports.bundle import make_report
    from reports.period import Period
    from store import outbox_queue
    from store.outbox_queue import OutboxStatus

    period = Period.parse_month(args.month) if args.month else Period.parse_quarter(args.quarter)
    now = app.service.clock.now()
    made = await make_report(app.db, period, app.catalog, now)
    files = made.files()
    for name, content in files.items():
        path = args.out / name
        _write(path, content)
        print(path)
    report = made.report
    print(
        f"{period.label}: {report.sample.allocated} audits, {report.completed} completed, "
        f"{_pct(report.percent_good_or_better)} Good or better"
    )
    if app.graph is None:
        return 0
    items = report_filings(period.key, files, now)
    async with app.db.transaction() as conn:
        await outbox_queue.enqueue_items(conn, items, now)
    await app.dispatcher.drain()
    async with app.db.reading() as conn:
        sent = await outbox_queue.statuses_of(conn, [i.key for i in items])
    for item in items:
        where = item.payload["path"]
        if sent.get(item.key) == OutboxStatus.SENT:
            print(f"filed to SharePoint: {where}")
        else:
            print(f"waiting to be filed to SharePoint (it will be retried): {where}")
    return 0


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:g}%"


async def _export(app: App, args: argparse.Namespace) -> int:
    from reports.export import export_audits

    start, end = _day(args.start, "--from"), _day(args.end, "--to")
    if end < start:
        raise InvalidInput(f"--to {end.isoformat()} is before --from {start.isoformat()}")
    export = await export_audits(app.db, start, end, app.catalog)
    path = (
        args.out or DEFAULT_OUT / f"audits-{start.isoformat()}-to-{end.isoformat()}.{args.format}"
    )
    _write(path, export.render(args.format))
    print(f"{path}  ({len(export.rows)} audit{'' if len(export.rows) == 1 else 's'})")
    return 0


COMMANDS: dict[str, Callable[[App, argparse.Namespace], Awaitable[int]]] = {
    "report": _report,
    "export": _export,
}
PLAIN_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}
