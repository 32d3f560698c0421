"""`GET /readyz`: is this instance fit to take traffic and send what it owes?

Checks the database (reachable; for SQLite, its file still there), the runner
(a recent heartbeat) and the outbox (how much is waiting and for how long).
200 with the figures when all pass; 503 naming each failing check otherwise.
`/healthz` (bot/server.py) stays a bare liveness probe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from audits.clock import Clock
from store.db import Database
from store.outbox_queue import OutboxFigures, outbox_figures

Heartbeat = Callable[[], datetime | None]
Failing = Callable[[], str | None]


@dataclass(frozen=True)
class ReadinessLimits:
    """When the instance stops being ready."""

    # The runner beats once per poll (about a second); a minute of silence means it is stuck.
    runner_silence: timedelta = timedelta(seconds=60)
    # Rows that could be sent now but have waited longer than this: the runner is not keeping up.
    # Rows waiting for a Retry-After or for a person to open the bot are not counted.
    outbox_lag: timedelta = timedelta(minutes=15)
    outbox_backlog: int = 5000
    # How long the database may take to answer.
    timeout: float = 5.0


@dataclass
class Readiness:
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def failing(self) -> list[str]:
        return [f"{name}: {c['problem']}" for name, c in self.checks.items() if c.get("problem")]

    @property
    def ready(self) -> bool:
        return not self.failing

    def json(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ready else "not ready",
            "failing": self.failing,
            "checks": self.checks,
        }


async def check_readiness(
    db: Database,
    heartbeat: Heartbeat,
    clock: Clock,
    limits: ReadinessLimits | None = None,
    failing: Failing | None = None,
) -> Readiness:
    limits = limits or ReadinessLimits()
    now = clock.now()
    result = Readiness()
    result.checks["runner"] = _runner(heartbeat(), now, limits)
    why = failing() if failing is not None else None
    if why:
        result.checks["runner"].update(ok=False, problem=f"the outbox runner is failing: {why}")
    try:
        figures = await asyncio.wait_for(_outbox_figures(db, now), limits.timeout)
    except TimeoutError:
        result.checks["database"] = {
            "ok": False,
            "problem": f"no answer within {limits.timeout:g} seconds",
        }
        return result
    except Exception as exc:  # any driver or network failure means: not reachable
        result.checks["database"] = {"ok": False, "problem": f"cannot reach it: {_brief(exc)}"}
        return result
    gone = _sqlite_file_gone(db)
    result.checks["database"] = (
        {"ok": False, "problem": gone}
        if gone
        else {"ok": True, "backend": db.url.get_backend_name()}
    )
    result.checks["outbox"] = _outbox(figures, now, limits)
    return result


def add_readiness_route(
    web_app: web.Application,
    db: Database,
    heartbeat: Heartbeat,
    clock: Clock,
    limits: ReadinessLimits | None = None,
    path: str = "/readyz",
    failing: Failing | None = None,
) -> None:
    """Adds GET `path` to `web_app` (before it is started). `heartbeat()` returns when the
    runner last completed a loop, in `clock`'s time, or None before its first loop;
    `failing()` why its rounds keep failing, or None."""

    async def readyz(_: web.Request) -> web.StreamResponse:
        readiness = await check_readiness(db, heartbeat, clock, limits, failing)
        return web.json_response(readiness.json(), status=200 if readiness.ready else 503)

    web_app.router.add_get(path, readyz)


async def _outbox_figures(db: Database, now: datetime) -> OutboxFigures:
    async with db.reading() as conn:
        return await outbox_figures(conn, now)


def _runner(beat: datetime | None, now: datetime, limits: ReadinessLimits) -> dict[str, Any]:
    if beat is None:
        return {"ok": False, "problem": "the outbox runner has not started"}
    silent = (now - _as_utc(beat)).total_seconds()
    check: dict[str, Any] = {"ok": True, "last_heartbeat_seconds_ago": round(silent, 1)}
    if silent > limits.runner_silence.total_seconds():
        check.update(
            ok=False, problem=f"the outbox runner has been silent for {silent:.0f} seconds"
        )
    return check


def _outbox(figures: OutboxFigures, now: datetime, limits: ReadinessLimits) -> dict[str, Any]:
    oldest_age = (now - figures.oldest_created).total_seconds() if figures.oldest_created else 0
    lag = (now - figures.oldest_due).total_seconds() if figures.oldest_due else 0
    check: dict[str, Any] = {
        "ok": True,
        "pending": figures.pending,
        "oldest_pending_age_seconds": round(max(0.0, oldest_age)),
        "longest_wait_to_send_seconds": round(max(0.0, lag)),
        "dead_lettered": figures.dead,
    }
    if figures.pending > limits.outbox_backlog:
        check.update(
            ok=False, problem=f"{figures.pending} rows pending (limit {limits.outbox_backlog})"
        )
    elif lag > limits.outbox_lag.total_seconds():
        check.update(
            ok=False,
            problem=f"a row ready to send has waited {lag / 60:.0f} minutes: the runner is behind",
        )
    return check


def _sqlite_file_gone(db: Database) -> str | None:
    """An open SQLite connection keeps working on a deleted file, and every write then
    vanishes with it: a missing file is a database that is gone."""
    name = db.url.database
    if not db.is_sqlite or not name or name == ":memory:" or Path(name).is_file():
        return None
    return f"the SQLite file {name} is gone"


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _brief(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc) or type(exc).__name__
    return text.splitlines()[0][:200]
