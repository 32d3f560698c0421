"""What people look at without changing anything: their audits, the tracker, the report.

Each query reads in one read transaction and returns plain rows for a view;
who may see what is decided by the caller (`application.access`).
"""

from __future__ import annotations

from dataclasses import dataclass

from audits.catalog import Catalog
from audits.clock import Clock
from audits.model import Audit
from audits.roles import Role
from audits.wording import step_title
from audits.workdays import UK, as_utc
from cards.home import MyAuditRow
from cards.report import ReportSummary
from cards.tracker import TrackerFilters, TrackerRow
from reports.build import build_report
from reports.figures import AuditReport
from reports.period import Period
from store import audit_rows
from store.db import Database


@dataclass
class Queries:
    db: Database
    catalog: Catalog
    clock: Clock

    async def audit(self, audit_id: str) -> Audit:
        """The audit as stored (NotFound for an unknown id)."""
        async with self.db.reading() as conn:
            return await audit_rows.load_audit(conn, audit_id)

    async def audits_of(self, person: str) -> list[Audit]:
        """Every audit that names this person, by id."""
        async with self.db.reading() as conn:
            rows = await audit_rows.list_audits(conn, self.clock.now(), person=person)
            return [await audit_rows.load_audit(conn, r.id) for r in rows]

    async def my_audits(self, person: str) -> tuple[MyAuditRow, ...]:
        """One row per audit naming the person: their part and their next step."""
        now = self.clock.now()
        rows = []
        for audit in await self.audits_of(person):
            mine = [d for d in audit.deadlines.values() if d.open and d.owner == person]
            nxt = min(mine, key=lambda d: d.due_at, default=None)
            roles = audit.participants.roles_of(person) or [Role.ACTION_OWNER]
            rows.append(
                MyAuditRow(
                    audit_id=audit.id,
                    child_id=audit.child_id,
                    role_label=", ".join(r.label for r in roles),
                    status_label=audit.status.label,
                    next_step_title=step_title(nxt.step) if nxt else None,
                    next_due=nxt.due_at if nxt else None,
                    overdue=bool(nxt and as_utc(nxt.due_at) < now),
                )
            )
        return tuple(rows)

    async def most_urgent(self, person: str) -> Audit | None:
        """The audit whose open step for this person is due first (ties: by audit id)."""
        waiting = [
            (d.due_at, a.id, a)
            for a in await self.audits_of(person)
            for d in a.deadlines.values()
            if d.open and d.owner == person
        ]
        if not waiting:
            return None
        return min(waiting, key=lambda w: (w[0], w[1]))[2]

    async def tracker(self, filters: TrackerFilters) -> tuple[TrackerRow, ...]:
        """Every audit's tracker row (the card pages and filters them)."""
        async with self.db.reading() as conn:
            rows = await audit_rows.list_audits(
                conn,
                self.clock.now(),
                status=filters.status.value if filters.status else None,
                overdue=filters.overdue,
            )
        return tuple(
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
