"""The use cases that change audits: each loads, calls the pure workflow, and commits
state, history, outbox rows and timers in one transaction. Nothing here talks to
Teams or Graph."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from application.effects import EffectsConfig, effects_of
from application.people import know_people
from application.ports import Directory, DirectoryUser, GraphError
from audits import commands, telemetry
from audits.allocation_csv import AllocationRefused, AllocationRow
from audits.catalog import Catalog
from audits.clock import Clock
from audits.errors import AuditError, Conflict
from audits.model import Audit
from audits.reminders import Reminder, plan
from audits.roles import StandingRoles
from audits.workdays import WorkingCalendar
from audits.workflow import Context, Outcome, allocate, apply
from store import audit_rows, contacts, idempotency, outbox_queue, timer_queue, trail, typed_answers
from store.db import Database

log = logging.getLogger(__name__)


class AlreadyApplied(AuditError):
    """The same activity or card was applied before; nothing was written this time."""


CONFLICT_RETRIES = 3


@dataclass
class AuditService:
    db: Database
    catalog: Catalog
    calendar: WorkingCalendar
    standing: StandingRoles
    clock: Clock
    effects: EffectsConfig = field(default_factory=EffectsConfig)
    directory: Directory | None = None

    def _context(self, actor: str, template: str, policy: str) -> Context:
        return Context(
            actor=actor,
            now=self.clock.now(),
            template=self.catalog.template(template),
            policy=self.catalog.policy(policy),
            calendar=self.calendar,
            standing=self.standing,
        )

    async def allocate(self, actor: str, rows: Sequence[AllocationRow]) -> list[Outcome]:
        """All rows or none: a child already sampled this month refuses the whole file."""
        with telemetry.span(
            telemetry.USE_CASE, {"auditbot.use_case": "Allocate", "auditbot.rows": len(rows)}
        ) as span:
            outcomes = await self._allocate(actor, rows)
            span.set_attribute(telemetry.OUTCOME, "allocated")
            return outcomes

    async def _allocate(self, actor: str, rows: Sequence[AllocationRow]) -> list[Outcome]:
        accounts = await self._resolve_people(rows)
        now = self.clock.now()
        cycle = f"{self.calendar.local_date(now):%Y-%m}"
        async with self.db.transaction() as conn:
            await know_people(conn, [(addr, a.id, a.enabled) for addr, a in accounts.items()], now)
            await contacts.save_names(
                conn, {address: a.display_name for address, a in accounts.items()}, now
            )
            taken = await audit_rows.children_in_cycle(
                conn, cycle, [r.allocation.child_id for r in rows]
            )
            if taken:
                raise AllocationRefused(
                    [
                        (
                            r.line,
                            f"child {r.allocation.child_id} already has audit "
                            f"{taken[r.allocation.child_id]} in {cycle}",
                        )
                        for r in rows
                        if r.allocation.child_id in taken
                    ]
                )
            number = await audit_rows.next_audit_number(conn, cycle)
            outcomes = []
            for offset, row in enumerate(rows):
                a = row.allocation
                ctx = self._context(actor, a.template, a.policy)
                audit_id = f"{cycle.replace('-', '')}-{number + offset:03d}"
                outcome = allocate(audit_id, a, ctx)
                version = await audit_rows.insert_audit(conn, outcome.audit, now)
                await timer_queue.sync_reminders(conn, audit_id, self.reminders(outcome.audit))
                await trail.append_history(
                    conn, audit_id, version, actor, now, "allocate", outcome.changes
                )
                await outbox_queue.enqueue(conn, audit_id, version, outcome.notices, now)
                await outbox_queue.enqueue_items(
                    conn, effects_of(None, outcome.audit, version, self.effects), now
                )
                outcomes.append(outcome)
        log.info("allocated %d audits in %s", len(outcomes), cycle)
        return outcomes

    async def _resolve_people(self, rows: Sequence[AllocationRow]) -> dict[str, DirectoryUser]:
        """Every person in the file must be an enabled account, checked before anything is
        written: each address's account."""
        if self.directory is None:
            return {}
        lines: dict[str, list[int]] = {}
        for row in rows:
            for person in row.allocation.participants.model_dump().values():
                lines.setdefault(person, []).append(row.line)
        try:
            found = await self.directory.resolve(sorted(lines))
        except GraphError as exc:
            raise AuditError(
                f"cannot check the people in the directory, nothing allocated: {exc}"
            ) from exc
        problems = []
        for person, account in found.items():
            if account is None or not account.enabled:
                why = (
                    "has no account in the directory"
                    if account is None
                    else "is a disabled account"
                )
                problems += [(line, f"{person} {why}") for line in lines[person]]
        if problems:
            raise AllocationRefused(sorted(problems))
        return {address: a for address, a in found.items() if a is not None}

    async def execute(
        self,
        actor: str,
        audit_id: str,
        command: commands.Command,
        key: str | None = None,
        check: Callable[[Audit], None] | None = None,
        answered_by: str | None = None,
    ) -> Outcome:
        """Applies one command. With a `key` (the Teams activity or card that carried it),
        the same key is applied once: a second time raises AlreadyApplied. `check` sees
        the audit as loaded, before the command does, and may refuse by raising. With
        `answered_by`, the question waiting for that person's typed answer is answered
        in the same transaction."""
        with telemetry.span(
            telemetry.USE_CASE, {"auditbot.use_case": type(command).__name__}
        ) as span:
            for attempt in range(CONFLICT_RETRIES):
                try:
                    outcome = await self._apply_in_transaction(
                        actor, audit_id, command, key, check, answered_by
                    )
                except Conflict:
                    if attempt == CONFLICT_RETRIES - 1:
                        raise
                    continue
                except IntegrityError:
                    if key is not None and await self._was_applied(key):
                        raise AlreadyApplied("This was already saved.") from None
                    raise
                span.set_attribute(telemetry.OUTCOME, "applied")
                return outcome
        raise AssertionError("unreachable")  # pragma: no cover

    async def _was_applied(self, key: str) -> bool:
        async with self.db.reading() as conn:
            return await idempotency.was_processed(conn, key)

    async def _apply_in_transaction(
        self,
        actor: str,
        audit_id: str,
        command: commands.Command,
        key: str | None,
        check: Callable[[Audit], None] | None,
        answered_by: str | None,
    ) -> Outcome:
        async with self.db.transaction() as conn:
            if key is not None:
                await idempotency.mark_processed(conn, key, audit_id, self.clock.now())
            if answered_by is not None:
                await typed_answers.answered(conn, answered_by)
            audit, version = await audit_rows.load_versioned(conn, audit_id, for_update=True)
            if check is not None:
                check(audit)
            ctx = self._context(actor, audit.template, audit.policy)
            outcome = apply(audit, command, ctx)
            if not outcome.changes:  # e.g. "save" pressed on an unchanged card
                return outcome
            new_version = await audit_rows.save_audit(
                conn, outcome.audit, version, ctx.now, before=audit
            )
            if outcome.audit.deadlines != audit.deadlines:
                await timer_queue.sync_reminders(conn, audit_id, self.reminders(outcome.audit))
            name = type(command).__name__
            await trail.append_history(
                conn, audit_id, new_version, actor, ctx.now, name, outcome.changes
            )
            await outbox_queue.enqueue(conn, audit_id, new_version, outcome.notices, ctx.now)
            await outbox_queue.enqueue_items(
                conn, effects_of(audit, outcome.audit, new_version, self.effects), ctx.now
            )
        log.info("audit %s: %s by %s (v%d)", audit_id, name, actor, new_version)
        return outcome

    def reminders(self, audit: Audit) -> list[Reminder]:
        """The nudges and escalations the audit's open deadlines are owed, by its policy."""
        return plan(audit, self.catalog.policy(audit.policy), self.calendar)

    async def get(self, audit_id: str) -> Audit:
        async with self.db.reading() as conn:
            return await audit_rows.load_audit(conn, audit_id)

    async def history(self, audit_id: str) -> list[trail.HistoryEntry]:
        async with self.db.reading() as conn:
            await audit_rows.version_of(conn, audit_id)  # NotFound for an unknown audit
            return await trail.audit_history(conn, audit_id)

    async def list(
        self, status: str | None = None, overdue: bool = False, person: str | None = None
    ) -> list[audit_rows.AuditRow]:
        async with self.db.reading() as conn:
            return await audit_rows.list_audits(
                conn, self.clock.now(), status=status, overdue=overdue, person=person
            )
