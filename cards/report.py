"""The QA report's headline figures as a card, with links to the filed files.

`report_card` is a pure builder from `ReportSummary`; `report_card_from_store`
computes the figures from the store (through `reports.monthly`) for the bot's
`report` and `report 2026-10` commands. No child is named: the card carries
counts only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from adaptive_cards.card import ActionOpenUrl
from adaptive_cards.types import Colors

from cards import _kit as k
from cards import words
from cards.actions import Verb, button

if TYPE_CHECKING:
    from audits.catalog import Catalog
    from reports.monthly import AuditReport
    from store.db import Database


@dataclass(frozen=True)
class ReportSummary:
    """The headline figures of one period's report."""

    period_label: str
    as_at: datetime
    allocated: int
    completed: int
    moderated: int
    good_or_better: int
    graded: int
    percent_good_or_better: float | None
    overall_agreed: int
    percent_agreed: float | None
    iro_on_time: int
    iro_due: int
    percent_iro_on_time: float | None
    cases_of_concern: int
    actions_overdue: int

    @classmethod
    def of(cls, report: AuditReport) -> ReportSummary:
        iro = report.timeliness.step("iro_comments")
        return cls(
            period_label=report.period.label,
            as_at=report.as_at,
            allocated=report.sample.allocated,
            completed=report.completed,
            moderated=report.sample.moderated,
            good_or_better=report.judgements.final.good_or_better,
            graded=report.judgements.final.total,
            percent_good_or_better=report.percent_good_or_better,
            overall_agreed=report.agreement.overall_agreed,
            percent_agreed=report.agreement_rate,
            iro_on_time=iro.on_time,
            iro_due=iro.due,
            percent_iro_on_time=iro.rate,
            cases_of_concern=report.cases_of_concern,
            actions_overdue=report.actions_overdue,
        )


def report_card(
    summary: ReportSummary, word_url: str | None = None, workbook_url: str | None = None
) -> dict[str, Any]:
    """The headline figures; the buttons open the filed Word report and workbook."""
    s = summary
    body: list[k.Element] = [
        k.heading(words.report_title(s.period_label)),
        k.subtle(f"{words.REPORT_AS_AT} {words.when(s.as_at)}"),
        k.fact(
            words.REPORT_COMPLETED,
            f"{words.of_total(s.completed, s.allocated)} ({s.moderated} moderated)",
        ),
        k.fact(
            words.REPORT_GOOD_OR_BETTER,
            words.percent_of(s.percent_good_or_better, s.good_or_better, s.graded),
        ),
        k.fact(
            words.REPORT_AGREEMENT,
            words.percent_of(s.percent_agreed, s.overall_agreed, s.moderated),
        ),
        k.fact(
            words.REPORT_IRO_ON_TIME,
            words.percent_of(s.percent_iro_on_time, s.iro_on_time, s.iro_due),
        ),
        k.fact(
            words.REPORT_CASES_OF_CONCERN,
            str(s.cases_of_concern),
            color=Colors.ATTENTION if s.cases_of_concern else None,
        ),
        k.fact(
            words.REPORT_ACTIONS_OVERDUE,
            str(s.actions_overdue),
            color=Colors.ATTENTION if s.actions_overdue else None,
        ),
    ]
    actions: list[k.Action] = []
    for title, url in ((words.REPORT_WORD, word_url), (words.REPORT_WORKBOOK, workbook_url)):
        if url:
            actions.append(ActionOpenUrl(title=title, url=url))
    if not actions:
        body.append(k.text(words.REPORT_NOT_FILED, subtle=True))
    actions.append(button(words.OPEN_TRACKER, Verb.TRACKER_PAGE, None, page=1))
    return k.card(body, actions)


async def report_card_from_store(
    db: Database,
    catalog: Catalog | None,
    now: datetime,
    period: str | None = None,
    word_url: str | None = None,
    workbook_url: str | None = None,
) -> dict[str, Any]:
    """The card for `report` (the current month, UK time) or `report 2026-10` / `2026-Q4`.

    Raises `audits.errors.InvalidInput` with a plain reason for a period it cannot read.
    """
    from audits.workdays import UK, as_utc
    from reports.monthly import build_report
    from reports.period import Period

    chosen = Period.parse(period) if period else Period.of_day(as_utc(now).astimezone(UK).date())
    report = await build_report(db, chosen, catalog, now)
    return report_card(ReportSummary.of(report), word_url, workbook_url)
