"""Outlook's limits, kept per mailbox, so a fan-out over many people's calendars uses each
mailbox's own allowance and never meets a refusal it could have seen coming.

Exchange limits an app per mailbox
(https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits): 4
concurrent requests, and 10,000 requests in any 10 minutes. A 5th concurrent request, or
one past the budget, is answered 429 ApplicationThrottled with Retry-After. So each
mailbox has its own gate: at most 4 of our requests in flight to it, none started while
its last 10 minutes already hold the budget, and none while Exchange has told us to wait
(a 429's Retry-After holds the whole mailbox, not only the request that met it).
Requests to different mailboxes never wait for each other.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from application.ports import GraphThrottled

CONCURRENCY = 4  # concurrent requests per app per mailbox
BUDGET = 10_000  # requests per app per mailbox in any window of...
BUDGET_WINDOW_S = 600.0  # ...10 minutes
DEFAULT_WAIT_S = 1.0  # a 429 without Retry-After
# Our clock starts a request before Exchange sees it: a window is kept this much longer
# here, so a request never reaches Exchange before the one it replaces has left its window.
MARGIN_S = 1.0


@dataclass
class _Gate:
    slots: asyncio.Semaphore
    started: deque[float] = field(default_factory=deque)  # request starts in the window
    held_until: float = 0.0  # Exchange said wait (Retry-After) until then


class MailboxGates:
    """One gate per mailbox (by UPN or id, without regard to case)."""

    def __init__(
        self,
        concurrency: int = CONCURRENCY,
        budget: int = BUDGET,
        window_s: float = BUDGET_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.concurrency, self.budget, self.window_s = concurrency, budget, window_s
        self._clock = clock
        self._gates: dict[str, _Gate] = {}
        self.in_flight = 0  # all mailboxes together
        self.peak_in_flight = 0

    @asynccontextmanager
    async def slot(self, mailbox: str) -> AsyncIterator[None]:
        """Held for one request to the mailbox; a 429 inside holds the mailbox for its
        Retry-After and is raised on (the outbox retries the row when it says)."""
        gate = self._gates.get(mailbox.lower())
        if gate is None:
            gate = self._gates[mailbox.lower()] = _Gate(asyncio.Semaphore(self.concurrency))
        async with gate.slots:
            await self._wait_for_budget(gate)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                yield
            except GraphThrottled as exc:
                wait = exc.retry_after if exc.retry_after is not None else DEFAULT_WAIT_S
                gate.held_until = max(gate.held_until, self._clock() + wait)
                raise
            finally:
                self.in_flight -= 1

    async def _wait_for_budget(self, gate: _Gate) -> None:
        while True:
            now = self._clock()
            window = self.window_s + MARGIN_S
            while gate.started and gate.started[0] <= now - window:
                gate.started.popleft()
            wait = gate.held_until - now
            if len(gate.started) >= self.budget:
                wait = max(wait, gate.started[0] + window - now)
            if wait <= 0:
                gate.started.append(now)
                return
            await asyncio.sleep(wait)
