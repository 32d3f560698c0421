"""What a person sees next, as data: a use case decides which view, `bot/` draws it.

A view names a card and carries what the card is drawn from, so the decision
(which card, for whom, after which outcome) is made here, once, from the stored
audit and never from the card data that came back; `bot.render` turns each view
into its Adaptive Card.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from audits.model import Audit
from audits.policies import Policy
from audits.templates import Template
from cards.actions import Card
from cards.home import MyAuditRow
from cards.report import ReportSummary
from cards.tracker import TrackerFilters, TrackerRow

if TYPE_CHECKING:
    from application.queries import MyAudits, TrackerPage


@dataclass(frozen=True)
class AuditView:
    card: Card
    audit: Audit
    template: Template
    policy: Policy
    section: str | None = None
    action: int | None = None
    field: str | None = None


@dataclass(frozen=True)
class HelpView:
    qa: bool = False  # QA staff also see the QA commands


@dataclass(frozen=True)
class StatusView:
    """Where an audit is up to (`status <child's ID>`); `mine`: the person has a step."""

    audit: Audit
    now: datetime
    mine: bool


@dataclass(frozen=True)
class WelcomeView:
    pass


@dataclass(frozen=True)
class MyAuditsView:
    rows: tuple[MyAuditRow, ...]
    total: int | None = None  # all the person's audits; None: just the rows

    @classmethod
    def of(cls, page: MyAudits) -> MyAuditsView:
        return cls(page.rows, page.total)


@dataclass(frozen=True)
class TrackerView:
    rows: tuple[TrackerRow, ...]
    filters: TrackerFilters
    page: int = 1
    total: int | None = None  # audits matching the filters; None: `rows` are all of them

    @classmethod
    def of(cls, found: TrackerPage, filters: TrackerFilters) -> TrackerView:
        return cls(found.rows, filters, found.page, found.total)


@dataclass(frozen=True)
class AuditDetailsView:
    audit: Audit
    now: datetime


@dataclass(frozen=True)
class ReportView:
    summary: ReportSummary
    word_url: str | None = None
    workbook_url: str | None = None


@dataclass(frozen=True)
class ReceiptView:
    """A read-only card: what was saved. Never the free text a person typed."""

    title: str
    lines: tuple[tuple[str, str], ...]
    complete: bool = True  # False: saved, with something still to give


View = (
    AuditView
    | HelpView
    | WelcomeView
    | MyAuditsView
    | TrackerView
    | AuditDetailsView
    | ReportView
    | StatusView
    | ReceiptView
)


def people_in(view: View | None) -> set[str]:
    """The addresses a view's card may show, whose names are looked up to show them."""
    match view:
        case AuditView(audit=audit) | StatusView(audit=audit) | AuditDetailsView(audit=audit):
            return audit.people()
        case TrackerView(rows=rows):
            return {r.owner for r in rows if r.owner}
    return set()


@dataclass(frozen=True)
class Reply:
    """What a person gets back for one press or message.

    `replace`: the card they pressed becomes this (a receipt, the next tracker page);
    in answer to a typed message it is sent as a new card. `text`: a short message.
    `follow_up`: the card that comes next, sent below.
    """

    replace: View | None = None
    follow_up: View | None = None
    text: str | None = None
