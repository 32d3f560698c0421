"""The QA report's headline figures as a card, with links to the filed files.

`report_card` is a pure builder from `ReportSummary` (the application's queries
compute the figures for the bot's `report` and `report 2026-10` commands). No child
is named: the card carries counts only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adaptive_cards.card import ActionOpenUrl
from adaptive_cards.types import Colors

from cards import _kit as k
from cards import words
from cards.actions import Verb, button


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
