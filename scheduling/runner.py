"""The runner: fires due timers (nudges, overdue notices, escalations) and sends the outbox.

At least once, never twice: a timer is claimed in one short transaction
(`FOR UPDATE SKIP LOCKED` on PostgreSQL), then fired in another that writes
its outbox rows and marks it fired together. A runner that dies between the
two leaves a claim that lapses and is taken again; one that dies after has
nothing left to do but send. Several runners may share one database.

Firing looks at the audit as it is now, not as it was when the timer was set:
a step already done is cancelled, a moved deadline is rescheduled. After
downtime, the nudges of a step that piled up go out once (the latest), and a
deadline that has passed sends its overdue notice and escalations, each once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from opentelemetry import trace

from audits import telemetry
from audits.catalog import Catalog
from audits.clock import Clock
from audits.errors import NotFound
from audits.model import Audit
from audits.reminders import Reminder, ReminderKind, people_in_role, plan
from audits.roles import StandingRoles
from audits.workdays import WorkingCalendar
from audits.workflow import Change, Notice, payload_of
from audits.workflow.notices import Escalated, Nudged
from scheduling.dispatcher import Dispatcher
from store import audit_rows, outbox_queue, timer_queue, trail
from store.db import Database
from store.outbox_queue import OutboxItem
from store.timer_queue import TimerRow, TimerStatus

log = logging.getLogger(__name__)

SCHEDULER = "auditbot (scheduler)"
LAPSED_EVERY = timedelta(seconds=30)  # how often an idle runner looks for lapsed claims
FAILING_ROUNDS = 3  # rounds failed in a row before /readyz says the runner is failing
IDLE_WAIT = 0.5  # seconds between looks at the timers and the outbox when idle


class Runner:
    def __init__(
        self,
        db: Database,
        catalog: Catalog,
        calendar: WorkingCalendar,
        standing: StandingRoles,
        clock: Clock,
        worker: str,
        batch: int = 100,
    ) -> None:
        self.db, self.catalog, self.calendar = db, catalog, calendar
        self.standing, self.clock, self.worker, self.batch = standing, clock, worker, batch
        self.heartbeat: datetime | None = None  # the clock's time at the last finished tick
        # Rounds (timers and outbox) that failed in a row, and the last failure.
        self.failures = 0
        self.last_failure: str | None = None
        self._wake = asyncio.Event()
        self._lapsed_checked: datetime | None = None

    def wake(self) -> None:
        """Look again now (the clock moved, or something new may be due)."""
        self._wake.set()

    async def tick(self) -> int:
        """Fires every timer due now; returns how many were handled."""
        handled = 0
        while True:
            now = self.clock.now()
            # Cheap, and takes no write lock. Lapsed claims (a runner died) are looked
            # for less often: a claim's lease is minutes long anyway.
            lapsed = self._lapsed_checked is None or now - self._lapsed_checked > LAPSED_EVERY
            async with self.db.reading() as conn:
                due = await timer_queue.any_timer_due(conn, now, lapsed=lapsed)
            if lapsed:
                self._lapsed_checked = now
            if not due:
                break
            async with self.db.transaction() as conn:
                claimed = await timer_queue.claim_due_timers(conn, now, self.worker, self.batch)
            for row in sorted(claimed, key=lambda r: (r.due_at, r.key)):
                try:
                    await self._fire(row, now)
                except Exception:  # the claim lapses and another round tries again
                    log.exception("timer %s failed", row.key)
            handled += len(claimed)
            if len(claimed) < self.batch:
                break
        self.heartbeat = self.clock.now()
        return handled

    @property
    def failing(self) -> str | None:
        """Why the runner is not doing its work, once rounds have failed FAILING_ROUNDS
        times in a row (one failure may be a blip), or None."""
        return self.last_failure if self.failures >= FAILING_ROUNDS else None

    async def _fire(self, row: TimerRow, now: datetime) -> None:
        with telemetry.span(telemetry.TIMER_FIRE) as span:
            span.set_attribute(telemetry.OUTCOME, await self._fired(row, now))

    async def _fired(self, row: TimerRow, now: datetime) -> str:
        """Fires one timer; says what became of it (the span's outcome)."""
        async with self.db.transaction() as conn:
            try:
                audit = await audit_rows.load_audit(conn, row.audit_id)
            except NotFound:
                await timer_queue.finish_timer(
                    conn, row.id, self.worker, now, TimerStatus.CANCELLED
                )
                return "audit gone"
            planned = plan(audit, self.catalog.policy(audit.policy), self.calendar)
            reminder = next((r for r in planned if r.key == row.key), None)
            if reminder is None:  # the step is done, or no longer reminded
                await timer_queue.finish_timer(
                    conn, row.id, self.worker, now, TimerStatus.CANCELLED
                )
                return "cancelled"
            if reminder.at > now:  # moved since it was set
                await timer_queue.reschedule_timer(conn, row.id, self.worker, reminder.at)
                return "moved"
            if not await timer_queue.finish_timer(conn, row.id, self.worker, now):
                return "taken"  # the claim lapsed and another runner has it
            if _superseded(reminder, planned, now):
                log.info("timer %s collapsed into a later reminder", reminder.key)
                return "superseded"
            items = self._outbox_items(audit, reminder, now)
            fresh = [i for i in items if not await outbox_queue.outbox_key_exists(conn, i.key)]
            await outbox_queue.enqueue_items(conn, fresh, now)
            version = await audit_rows.version_of(conn, audit.id)
            await trail.append_history(
                conn,
                audit.id,
                version,
                SCHEDULER,
                now,
                reminder.kind.value,
                [
                    Change(f"{reminder.kind.value}.{reminder.step}", None, i.recipient)
                    for i in items
                ],
            )
        log.info("timer %s fired: %d notice(s)", reminder.key, len(fresh))
        trace.get_current_span().set_attribute("auditbot.kind", reminder.kind.value)
        trace.get_current_span().set_attribute("auditbot.notices", len(fresh))
        return "fired"

    def _outbox_items(self, audit: Audit, r: Reminder, now: datetime) -> list[OutboxItem]:
        return [
            OutboxItem(
                key=f"{r.key}@{r.at.isoformat()}:{n.to}",
                channel="teams",
                kind=n.kind.value,
                recipient=n.to,
                lane=f"teams:{n.to}",
                payload=payload_of(n),
                audit_id=audit.id,
                urgent=n.urgent,
            )
            for n in reminder_notices(audit, r, now, self.standing)
        ]

    async def wait(self, seconds: float) -> None:
        """Sleeps up to `seconds`, or until woken."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def seconds_to_next(self) -> float:
        async with self.db.reading() as conn:
            due = await timer_queue.next_timer_due(conn)
        if due is None:
            return IDLE_WAIT
        return max(0.0, min(IDLE_WAIT, (due - self.clock.now()).total_seconds()))


def reminder_notices(
    audit: Audit, r: Reminder, now: datetime, standing: StandingRoles
) -> list[Notice]:
    """Who a fired reminder tells, and what: the child's ID, the step, when it was due,
    and for an escalation whose step it is. Never answer text."""
    if r.kind is ReminderKind.ESCALATION:
        assert r.to_role is not None
        people = people_in_role(audit, r.to_role, standing)
        if not people:
            log.warning("timer %s: nobody holds %s to escalate to", r.key, r.to_role.value)
        return [
            Escalated(
                to=p,
                audit_id=audit.id,
                child_id=audit.child_id,
                urgent=r.urgent,
                step=r.step,
                due=r.due_at,
                at=now,
                owner=r.owner,
                role=r.to_role,
            )
            for p in people
        ]
    overdue = r.kind is ReminderKind.OVERDUE
    return [
        Nudged(
            to=r.owner,
            audit_id=audit.id,
            child_id=audit.child_id,
            urgent=r.urgent,
            step=r.step,
            due=r.due_at,
            at=now,
            overdue=overdue,
        )
    ]


def _superseded(r: Reminder, planned: Sequence[Reminder], now: datetime) -> bool:
    """A nudge is not sent when a later reminder to the same owner for the same step is
    already due too: after downtime, one catch-up, not every missed one."""
    if r.kind is ReminderKind.ESCALATION:
        return False
    return any(
        o.step == r.step
        and o.kind is not ReminderKind.ESCALATION
        and o.key != r.key
        and r.at < o.at <= now
        for o in planned
    )


async def run(runner: Runner, dispatcher: Dispatcher | None, stop: asyncio.Event) -> None:
    """Timers and outbox until `stop` is set; a failing round is logged and retried.

    Outbox rows are sent as a pipeline: new rows start as soon as a send in flight
    finishes, up to each channel's limit, so one slow request holds nothing up.
    """
    while not stop.is_set():
        busy = 0
        try:
            busy += await runner.tick()
            if dispatcher is not None:
                busy += await dispatcher.pump()
            runner.failures = 0
        except Exception as exc:
            log.exception("runner round failed")
            runner.failures += 1
            runner.last_failure = f"{type(exc).__name__}: {str(exc)[:200]}"
        if stop.is_set():
            break
        if busy:
            continue
        waits = [
            asyncio.ensure_future(runner.wait(await _safe_wait(runner))),
            asyncio.ensure_future(stop.wait()),
        ]
        if dispatcher is not None and dispatcher.busy:
            waits.append(asyncio.ensure_future(dispatcher.wait_for_room(IDLE_WAIT)))
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()
    if dispatcher is not None:
        await dispatcher.finish()


async def _safe_wait(runner: Runner) -> float:
    try:
        return await runner.seconds_to_next()
    except Exception:
        log.exception("cannot read the next timer")
        return IDLE_WAIT
