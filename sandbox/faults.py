"""Fault injection and rate limits: what makes the sandbox behave like a busy Microsoft 365.

`Faults` is the knob panel (mutable while the server runs); `FaultInjector` applies it to
one Graph request at a time and says whether, and how, to refuse it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import os
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass
class Faults:
    """What goes wrong, and how often. Change the fields of a running sandbox's instance
    (or POST to /_sandbox/faults) to change behaviour between requests."""

    rate_429: float = 0.0
    rate_503: float = 0.0
    retry_after: float = 1.0
    latency_ms: tuple[int, int] = (0, 0)
    outlook_concurrency: int = 4
    outlook_budget: int = 10_000
    outlook_budget_window_s: float = 600.0
    sharepoint_down: bool = False
    sharepoint_budget: int | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        self._check()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Faults:
        """Read SANDBOX_* variables; unset ones keep their defaults."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, field in _ENV_FIELDS.items():
            raw = env.get(name, "").strip()
            if raw:
                values[field] = raw
        try:
            return cls(**_coerce(values))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"sandbox fault settings: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["latency_ms"] = list(self.latency_ms)
        return data

    def update(self, changes: Mapping[str, Any]) -> None:
        """Merge changes (as from JSON) into this instance, all or nothing."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        candidate = dataclasses.replace(self, **_coerce(dict(changes)))
        for field in dataclasses.fields(self):
            setattr(self, field.name, getattr(candidate, field.name))

    def retry_after_header(self) -> str:
        """Retry-After as configured: whole seconds print as integers, fractions as given,
        so a test can ask for 0.05 s and clients that parse floats wait that long."""
        value = self.retry_after
        return str(int(value)) if float(value).is_integer() else repr(float(value))

    def _check(self) -> None:
        for name in ("rate_429", "rate_503"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {rate}")
        if self.retry_after < 0:
            raise ValueError("retry_after must not be negative")
        low, high = self.latency_ms
        if not 0 <= low <= high:
            raise ValueError(f"latency_ms must be 0 <= min <= max, not {self.latency_ms}")
        if self.outlook_concurrency < 1:
            raise ValueError("outlook_concurrency must be at least 1")
        if self.outlook_budget < 1:
            raise ValueError("outlook_budget must be at least 1")
        if self.outlook_budget_window_s <= 0:
            raise ValueError("outlook_budget_window_s must be positive")
        if self.sharepoint_budget is not None and self.sharepoint_budget < 0:
            raise ValueError("sharepoint_budget must not be negative")


_ENV_FIELDS = {
    "SANDBOX_RATE_429": "rate_429",
    "SANDBOX_RATE_503": "rate_503",
    "SANDBOX_RETRY_AFTER": "retry_after",
    "SANDBOX_LATENCY_MS": "latency_ms",
    "SANDBOX_OUTLOOK_CONCURRENCY": "outlook_concurrency",
    "SANDBOX_OUTLOOK_BUDGET": "outlook_budget",
    "SANDBOX_OUTLOOK_BUDGET_WINDOW_S": "outlook_budget_window_s",
    "SANDBOX_SHAREPOINT_DOWN": "sharepoint_down",
    "SANDBOX_SHAREPOINT_BUDGET": "sharepoint_budget",
    "SANDBOX_SEED": "seed",
}


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    """Turn strings (environment) and JSON values (admin endpoint) into field types."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in ("rate_429", "rate_503", "retry_after", "outlook_budget_window_s"):
            out[name] = float(value)
        elif name == "latency_ms":
            out[name] = _latency(value)
        elif name in ("outlook_concurrency", "outlook_budget"):
            out[name] = int(value)
        elif name in ("sharepoint_budget", "seed"):
            out[name] = None if value is None or value == "" else int(value)
        elif name == "sharepoint_down":
            out[name] = _flag(value)
        else:
            out[name] = value
    return out


def _latency(value: Any) -> tuple[int, int]:
    parts: list[Any]
    if isinstance(value, str):
        parts = [p for p in value.replace(" ", "").split(",") if p]
    elif isinstance(value, int | float):
        parts = [value]
    else:
        parts = list(value)
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2:
        raise ValueError(f"latency_ms must be 'min,max', not {value!r}")
    return int(parts[0]), int(parts[1])


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected a yes/no value, not {value!r}")


@dataclass(frozen=True)
class Refusal:
    """A request the sandbox turns away instead of serving."""

    status: int
    code: str
    message: str
    retry_after: str


class FaultInjector:
    """Applies one `Faults` instance to requests. Reads the fields on every request, so
    changes made while the server runs take effect on the next request.

    Outlook's limits are per app *and per mailbox*
    (https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits: 4
    concurrent requests, 10,000 API requests in a 10-minute period, per app ID per
    mailbox): requests to one person's mailbox never use up another's. Both limits are
    kept here by (app, mailbox); the budget's window runs on the sandbox's clock
    (`clock`, monotonic seconds; `advance` moves it for tests)."""

    def __init__(self, faults: Faults, clock: Callable[[], float] = time.monotonic) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._seeded_with = faults.seed
        self._clock = clock
        self._skew = 0.0
        # In-flight Outlook requests per (app, mailbox): Exchange limits concurrency, so a
        # client that fires many requests at one mailbox at once is what gets throttled.
        self._outlook_in_flight: Counter[tuple[str, str]] = Counter()
        # When each admitted Outlook request of the window started, per (app, mailbox).
        self._outlook_spent: dict[tuple[str, str], deque[float]] = {}
        self.outlook_peak_in_flight = 0  # all mailboxes together, for benches and tests

    def now(self) -> float:
        return self._clock() + self._skew

    def advance(self, seconds: float) -> None:
        """Move the sandbox's clock on (a test's ten minutes without waiting them)."""
        self._skew += seconds

    async def delay(self) -> None:
        low, high = self.faults.latency_ms
        if high > 0:
            await asyncio.sleep(self._random().uniform(low, high) / 1000)

    def sharepoint_refusal(self) -> Refusal | None:
        """Outage first, then the request budget; an allowed request spends one unit."""
        faults = self.faults
        if faults.sharepoint_down:
            return self._refuse(503, "serviceNotAvailable", "SharePoint is unavailable.")
        if faults.sharepoint_budget is not None:
            if faults.sharepoint_budget <= 0:
                return self._refuse(429, "activityLimitReached", "The request has been throttled.")
            faults.sharepoint_budget -= 1
        return None

    def random_refusal(self) -> Refusal | None:
        faults = self.faults
        if faults.rate_429 == 0 and faults.rate_503 == 0:
            return None
        roll = self._random().random()
        if roll < faults.rate_429:
            return self._refuse(429, "TooManyRequests", "Too many requests.")
        if roll < faults.rate_429 + faults.rate_503:
            return self._refuse(503, "ServiceUnavailable", "The service is temporarily busy.")
        return None

    def outlook_refusal(self) -> Refusal:
        """Exchange's answer to a 5th concurrent request on one mailbox (429,
        ApplicationThrottled, "...over its MailboxConcurrency limit.")."""
        return self._refuse(
            429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit."
        )

    def outlook_budget_refusal(self, app_id: str, mailbox: str) -> Refusal | None:
        """The mailbox's 10-minute request budget: an admitted request spends one unit;
        once spent, 429 with Retry-After until the oldest request leaves the window."""
        window = self.faults.outlook_budget_window_s
        now = self.now()
        spent = self._outlook_spent.setdefault((app_id, mailbox), deque())
        while spent and spent[0] <= now - window:
            spent.popleft()
        if len(spent) < self.faults.outlook_budget:
            spent.append(now)
            return None
        wait = max(1, math.ceil(spent[0] + window - now))
        return Refusal(
            429,
            "ApplicationThrottled",
            "Application is over its request limit for this mailbox in this period.",
            str(wait),
        )

    @contextmanager
    def outlook_slot(self, app_id: str, mailbox: str | None) -> Iterator[bool]:
        """Take one of the mailbox's concurrency slots for the whole life of the request
        (including injected latency) and yield whether one was free. Refused requests
        hold no slot. `mailbox` None: not an Outlook request, always admitted."""
        if mailbox is None:
            yield True
            return
        key = (app_id, mailbox)
        if self._outlook_in_flight[key] >= self.faults.outlook_concurrency:
            yield False
            return
        self._outlook_in_flight[key] += 1
        self.outlook_peak_in_flight = max(
            self.outlook_peak_in_flight, sum(self._outlook_in_flight.values())
        )
        try:
            yield True
        finally:
            self._outlook_in_flight[key] -= 1
            if not self._outlook_in_flight[key]:
                del self._outlook_in_flight[key]

    def restart(self) -> None:
        """Start the random pattern again from its seed (a reset replays a scenario), with
        every mailbox's budget whole again."""
        self._outlook_spent.clear()
        self.outlook_peak_in_flight = 0
        self._rng = random.Random(self.faults.seed)
        self._seeded_with = self.faults.seed

    def _refuse(self, status: int, code: str, message: str) -> Refusal:
        return Refusal(status, code, message, self.faults.retry_after_header())

    def _random(self) -> random.Random:
        # A new seed set at run time restarts the reproducible pattern from its beginning.
        if self.faults.seed != self._seeded_with:
            self._rng = random.Random(self.faults.seed)
            self._seeded_with = self.faults.seed
        return self._rng
