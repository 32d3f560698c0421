"""Sends the outbox: claims rows, hands each to its sender, retries, dead-letters.

Senders raise `RetryLater` (throttled: wait as told) or `GiveUp` (the request
is wrong: retrying will not help); anything else is treated as transient and
retried with jittered exponential backoff, a bounded number of times.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from opentelemetry.trace import SpanKind

from audits import telemetry
from audits.clock import Clock
from store import outbox_queue
from store.db import Database
from store.outbox_queue import OutboxRow

log = logging.getLogger(__name__)

Sender = Callable[[OutboxRow], Awaitable[None]]
CHANNEL_LIMITS = {"teams": 36, "graph": 32}  # rows in flight at once, for `pump`


class RetryLater(Exception):
    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class GiveUp(Exception):
    """The row can never succeed as it is: dead-letter it with this reason."""


class Dropped(Exception):
    """The row is not to be sent after all (what it says is no longer true): it is kept,
    marked dropped, with this reason."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    # Being told to wait (429/503 with Retry-After) is not the request failing:
    # it gets a far larger budget before the row is given up.
    max_throttled_attempts: int = 100
    base_delay: float = 2.0
    max_delay: float = 600.0
    # While a service is failing, one of its rows is tried this often (a probe) however
    # long the others wait; when one gets through, the others go at once. So a service
    # that comes back is used again within this, not after the longest backoff.
    probe_every: float = 30.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: a random wait up to an exponentially growing cap."""
        cap = min(self.max_delay, self.base_delay * 2 ** max(0, attempt - 1))
        return rng.uniform(cap / 2, cap)


class Dispatcher:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        senders: Mapping[str, Sender],
        worker: str,
        policy: RetryPolicy | None = None,
        batch: int = 50,
        concurrency: int = 8,
        rng: random.Random | None = None,
    ) -> None:
        self.db, self.clock, self.senders, self.worker = db, clock, dict(senders), worker
        self.policy = policy or RetryPolicy()
        self.batch, self.rng = batch, rng or random.Random()
        self._slots = asyncio.Semaphore(concurrency)
        self._concurrency = concurrency
        self.channels = sorted({key.split(":", 1)[0] for key in self.senders})
        # For `pump`: rows in flight per channel, and how many each may have. Teams is
        # paced by its sender (50/s, 7/s a chat); Graph by its client (Outlook: 4 at once).
        self.in_flight: dict[str, set[asyncio.Task[None]]] = {c: set() for c in self.channels}
        self.channel_limits = {c: CHANNEL_LIMITS.get(c, concurrency) for c in self.channels}
        self._freed = asyncio.Event()
        self._sent: list[tuple[int, asyncio.Future[None]]] | None = None  # still queuing
        # Microsoft Graph work ((channel, kind)) that failed lately, and when the next probe
        # of it is due. Teams rows are left out: theirs wait for a reason of their own (no
        # conversation yet) that a card reaching someone else says nothing about.
        self._probe_at: dict[tuple[str, str], datetime] = {}
        self._marking: set[asyncio.Task[None]] = set()

    def add_sender(self, key: str, sender: Sender) -> None:
        """Sends rows of `key` ("channel" or "channel:kind") too, from now on."""
        self.senders[key] = sender
        channel = key.split(":", 1)[0]
        if channel not in self.channels:
            self.channels = sorted({*self.channels, channel})
            self.in_flight[channel] = set()
            self.channel_limits[channel] = CHANNEL_LIMITS.get(channel, self._concurrency)

    def _sender(self, row: OutboxRow) -> Sender | None:
        return self.senders.get(f"{row.channel}:{row.kind}") or self.senders.get(row.channel)

    async def run_once(self) -> int:
        """Claims one batch and sends it; returns how many rows were handled."""
        async with self.db.transaction() as conn:
            rows = await outbox_queue.claim_outbox(
                conn, self.clock.now(), self.worker, limit=self.batch, channels=self.channels
            )
        await asyncio.gather(*(self._send(row) for row in rows))
        return len(rows)

    async def pump(self) -> int:
        """Starts sending as many rows as each channel has room for, without waiting for
        them; returns how many it started. The runner calls it again as sends finish, so
        a slow request never holds up the rows behind it."""
        started = 0
        # Refilled by halves, not a row each time one finishes: a claim is a write
        # transaction and a search of the queue, and one per row sent was most of what
        # the database did while a big allocation went out.
        open_channels = [
            c for c in self.channels if len(self.in_flight[c]) <= self.channel_limits[c] // 2
        ]
        if not open_channels:
            return 0
        async with self.db.reading() as conn:
            ready = await outbox_queue.channels_ready(conn, self.clock.now(), open_channels)
        for channel in open_channels:
            if channel not in ready:
                continue
            running = self.in_flight[channel]
            room = min(self.batch, self.channel_limits[channel] - len(running))
            async with self.db.transaction() as conn:
                rows = await outbox_queue.claim_outbox(
                    conn, self.clock.now(), self.worker, limit=room, channels=[channel]
                )
            for row in rows:
                task = asyncio.create_task(self._send(row, limited=False))
                running.add(task)
                task.add_done_callback(functools.partial(self._finished, running=running))
            started += len(rows)
        return started

    def _finished(self, task: asyncio.Task[None], *, running: set[asyncio.Task[None]]) -> None:
        running.discard(task)
        self._freed.set()

    @property
    def busy(self) -> int:
        return sum(len(tasks) for tasks in self.in_flight.values())

    async def wait_for_room(self, seconds: float) -> None:
        """Until a send in flight finishes (or `seconds` pass)."""
        self._freed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._freed.wait(), seconds)

    async def finish(self) -> None:
        """Lets the sends in flight end (on shutdown)."""
        tasks = [t for running in self.in_flight.values() for t in running]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def drain(self, max_rounds: int = 1000) -> int:
        """Sends until nothing is sendable now (rows waiting to retry stay for later)."""
        total = 0
        for _ in range(max_rounds):
            handled = await self.run_once()
            if not handled:
                break
            total += handled
        return total

    async def _send(self, row: OutboxRow, limited: bool = True) -> None:
        async with self._slots if limited else contextlib.nullcontext():
            await self._send_one(row)

    async def _send_one(self, row: OutboxRow) -> None:
        with telemetry.span(
            telemetry.OUTBOX_SEND,
            kind=SpanKind.PRODUCER,
            attributes={
                "auditbot.channel": row.channel,
                "auditbot.kind": row.kind,
                "auditbot.attempt": row.attempts,  # counted when claimed
            },
        ) as span:
            span.set_attribute(telemetry.OUTCOME, await self._deliver(row))

    async def _deliver(self, row: OutboxRow) -> str:
        """Sends one row and records what became of it: sent, retry, failed or dropped."""
        sender = self._sender(row)
        try:
            if sender is None:
                raise GiveUp(f"nothing sends {row.channel}:{row.kind}")
            await sender(row)
        except GiveUp as exc:
            await self._failed(row, str(exc), None)
            return "failed"
        except Dropped as exc:
            log.info("outbox %s (%s) dropped: %s", row.id, row.kind, exc)
            async with self.db.transaction() as conn:
                await outbox_queue.mark_dropped(conn, row.id, str(exc))
            return "dropped"
        except RetryLater as exc:
            await self._retry(row, str(exc), exc.after)
            return "retry"
        except Exception as exc:
            log.warning("outbox %s (%s): %s", row.id, row.kind, type(exc).__name__)
            await self._retry(row, f"{type(exc).__name__}: {exc}", None)
            return "retry"
        await self._mark_sent(row.id)
        if self._probe_at.pop((row.channel, row.kind), None) is not None:
            async with self.db.transaction() as conn:  # it is back: the rest go now
                await outbox_queue.retry_now(conn, row.channel, row.kind, self.clock.now())
        return "sent"

    async def _mark_sent(self, row_id: int) -> None:
        """Marks a row sent, in one transaction with the others that finished while it
        waited for the database (a group commit); returns once it is stored.

        A row joins the batch still queuing for the write lock, or starts one, so it
        waits no longer than its own write would have: a kill in that wait is what
        sends a card twice. One write per row was most of what held SQLite's single
        writer while a big allocation went out."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._sent is None:
            self._sent = []
            task = asyncio.create_task(self._mark_batch(self._sent))
            self._marking.add(task)
            task.add_done_callback(self._marking.discard)
        self._sent.append((row_id, done))
        await done

    async def _mark_batch(self, batch: list[tuple[int, asyncio.Future[None]]]) -> None:
        try:
            async with self.db.transaction() as conn:
                if self._sent is batch:  # holding the lock: later rows start the next one
                    self._sent = None
                await outbox_queue.mark_sent_many(conn, [i for i, _ in batch], self.clock.now())
        except Exception as exc:  # each sender sees it, as if it had written alone
            if self._sent is batch:
                self._sent = None
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc)
        else:
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

    async def _retry(self, row: OutboxRow, reason: str, after: float | None) -> None:
        limit = self.policy.max_attempts if after is None else self.policy.max_throttled_attempts
        if row.attempts >= limit:
            await self._failed(row, f"gave up after {row.attempts} attempts: {reason}", None)
            return
        wait = self.policy.backoff(row.attempts, self.rng)
        if after is not None:
            # Told when to come back: that is honoured. But a service that keeps saying
            # "in a second" through a long outage (SharePoint down for an hour) would
            # spend the whole budget in minutes and dead-letter every filing; past the
            # ordinary budget, the waits grow too, so the budget lasts hours, not minutes.
            over = row.attempts - self.policy.max_attempts
            wait = after if over <= 0 else max(after, self.policy.backoff(over, self.rng))
        now = self.clock.now()
        probe = False
        if row.channel != "teams" and after is not None:  # the service said: later
            work = (row.channel, row.kind)
            due = self._probe_at.get(work)
            if due is None or due <= now:  # no probe waiting: this row is it
                # This row is the probe: tried again soon, and the try is not counted
                # against its budget (an outage of hours must not dead-letter it).
                probe = wait > self.policy.probe_every
                wait = min(wait, self.policy.probe_every)
                self._probe_at[work] = now + timedelta(seconds=wait)
        retry_at: datetime = now + timedelta(seconds=wait)
        await self._failed(row, reason, retry_at, uncounted=probe)

    async def _failed(
        self, row: OutboxRow, reason: str, retry_at: datetime | None, uncounted: bool = False
    ) -> None:
        if retry_at is None:
            log.error("outbox %s (%s) dead-lettered: %s", row.id, row.kind, reason)
        async with self.db.transaction() as conn:
            await outbox_queue.mark_failed(
                conn, row.id, reason, retry_at, row.available_at, uncounted=uncounted
            )
