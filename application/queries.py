"""What people look at without changing anything: their audits, the tracker, the report.

Each query reads in one read transaction and returns plain rows for a view;
who may see what is decided by the caller (`application.access`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from audits.catalog import Catalog
from audits.clock import Clock
from audits.model import Audit, Status
from audits.roles import Role, StandingRoles
from audits.wording import step_title
from audits.workdays import UK, as_utc
from audits.workflow import roles_of
from cards import words
from cards.home import MAX_ROWS, MyAuditRow
from cards.report import ReportSummary
from cards.tracker import PAGE_SIZE, TrackerFilters, TrackerRow
from reports.build import build_report
from reports.figures import AuditReport
from reports.period import Period
from store import audit_rows
from store.db import Database

# Standing roles that act on an audit waiting for the QA panel (no deadline of its own).
PANEL_ROLES = frozenset({Role.PANEL, Role.QA_MANAGER})


@dataclass(frozen=True)
class MyAudits:
    """The rows "my audits" shows (at most `MAX_ROWS`, most urgent first) and how many
    audits the person has in all."""

    rows: tuple[MyAuditRow, ...]
    total: int


@dataclass(frozen=True)
class TrackerPage:
    """One page of the tracker, in order, and how many audits match the filters."""

    rows: tuple[TrackerRow, ...]
    total: int
    page: int


@dataclass
class Queries:
    db: Database
    catalog: Catalog
    clock: Clock
    standing: StandingRoles = field(default_factory=StandingRoles)

    async def audit(self, audit_id: str) -> Audit:
        """The audit as stored (NotFound for an unknown id)."""
        async with self.db.reading() as conn:
            return await audit_rows.load_audit(conn, audit_id)

    async def child_audit(self, person: str, child_id: str) -> Audit | None:
        """The audit of this child's ID that names the person or waits for them, if any."""
        async with self.db.reading() as conn:
            rows = await audit_rows.list_audits(
                conn, self.clock.now(), person=person, child_id=child_id
            )
            return await audit_rows.load_audit(conn, rows[0].id) if rows else None

    async def my_audits(self, person: str) -> MyAudits:
        """The person's audits, most urgent first: one row per audit that names the person
        or waits for them in any role (standing roles too: an audit waiting for the QA
        panel is the panel's), their part and their next step.

        The store chooses, orders and counts them; only the rows a card shows (`MAX_ROWS`)
        are read whole, so the answer does not grow with their history."""
        now = self.clock.now()
        panel = None
        if any(self.standing.holds(person, role) for role in PANEL_ROLES):
            panel = [name for name, p in self.catalog.policies.items() if p.panel]
        async with self.db.reading() as conn:
            shown, total = await audit_rows.most_urgent_of(conn, now, person, panel, MAX_ROWS)
            audits = [await audit_rows.load_audit(conn, audit_id) for audit_id in shown]
        return MyAudits(tuple(self._my_row(audit, person, now) for audit in audits), total)

    def _my_row(self, audit: Audit, person: str, now: datetime) -> MyAuditRow:
        mine = [d for d in audit.deadlines.values() if d.open and d.owner == person]
        nxt = min(mine, key=lambda d: d.due_at, default=None)
        held = roles_of(audit, person, self.standing) | {d.role for d in mine}
        roles = sorted(held or {Role.ACTION_OWNER}, key=lambda r: r.value)
        title = step_title(nxt.step) if nxt else None
        if nxt is None and self._panel_waits(audit, held):
            title = words.PANEL_TITLE
        return MyAuditRow(
            audit_id=audit.id,
            child_id=audit.child_id,
            role_label=", ".join(r.label for r in roles),
            status_label=audit.status.label,
            next_step_title=title,
            next_due=nxt.due_at if nxt else None,
            overdue=bool(nxt and as_utc(nxt.due_at) < now),
        )

    def _panel_waits(self, audit: Audit, roles: set[Role]) -> bool:
        return (
            audit.status is Status.MODERATED
            and self.catalog.policy(audit.policy).panel
            and bool(roles & PANEL_ROLES)
        )

    async def most_urgent(self, person: str) -> Audit | None:
        """The audit whose open step for this person is due first (ties: by audit id)."""
        async with self.db.reading() as conn:
            steps = await audit_rows.open_steps_of(conn, person)
            if not steps:
                return None
            first = min(steps, key=lambda s: (as_utc(s.due_at), s.audit_id))
            return await audit_rows.load_audit(conn, first.audit_id)

    async def tracker(self, filters: TrackerFilters, page: int = 1) -> TrackerPage:
        """One page of the tracker (`PAGE_SIZE` rows, overdue first), filtered and paged in
        SQL; a page past the last is the last."""
        now = self.clock.now()
        async with self.db.reading() as conn:

            async def read(number: int) -> tuple[list[audit_rows.AuditRow], int]:
                return await audit_rows.tracker_page(
                    conn,
                    now,
                    team=filters.team,
                    status=filters.status.value if filters.status else None,
                    overdue=filters.overdue,
                    case_of_concern=filters.case_of_concern,
                    offset=(number - 1) * PAGE_SIZE,
                    limit=PAGE_SIZE,
                )

            page = max(1, page)
            rows, total = await read(page)
            last = max(1, math.ceil(total / PAGE_SIZE))
            if page > last:
                page = last
                rows, total = await read(page)
        return TrackerPage(
            tuple(
                TrackerRow(
                    audit_id=r.id,
                    child_id=r.child_id,
                    team=r.team,
                    status=r.status,
                    owner=r.next_owner,
                    next_step=r.next_step,
                    next_due=r.next_due,
                    overdue=r.overdue,
                    case_of_concern=r.case_of_concern,
                )
                for r in rows
            ),
            total,
            page,
        )

    async def report(self, period: str | None) -> ReportSummary:
        """The headline figures of `period` (`2026-10`, `2026-Q4`; the current month, UK
        time, when None). InvalidInput with a plain reason for a period it cannot read."""
        now = self.clock.now()
        chosen = (
            Period.parse(period) if period else Period.of_day(as_utc(now).astimezone(UK).date())
        )
        return summary_of(await build_report(self.db, chosen, self.catalog, now))


def summary_of(report: AuditReport) -> ReportSummary:
    """The report card's headline figures from the whole report."""
    iro = report.timeliness.step("iro_comments")
    return ReportSummary(
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
