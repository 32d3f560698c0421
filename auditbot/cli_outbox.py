"""`auditbot outbox`: what is waiting to be sent or was given up, and `outbox retry ID`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from audits.errors import AuditError

if TYPE_CHECKING:
    from auditbot.app import App
    from store.outbox_queue import OutboxRow


def add_parsers(sub: Any) -> None:
    """Adds `outbox` to the `auditbot` parser."""
    p = sub.add_parser("outbox", help="what is waiting to be sent, or was given up (--dead)")
    p.add_argument("action", nargs="?", choices=["retry"], help="retry ID: send a dead row again")
    p.add_argument("row_id", nargs="?", type=int, metavar="ID")
    p.add_argument("--dead", action="store_true", help="dead-lettered rows instead of pending")
    p.add_argument("--json", action="store_true")


async def _outbox(app: App, args: argparse.Namespace) -> int:
    from store import outbox_queue
    from store.outbox_queue import OutboxStatus

    now = app.service.clock.now()
    if args.action == "retry":
        if args.row_id is None:
            raise AuditError("outbox retry needs the row's ID (see `auditbot outbox --dead`)")
        async with app.db.transaction() as conn:
            status = await outbox_queue.requeue_dead(conn, args.row_id, now)
        if status == "missing":
            raise AuditError(f"there is no outbox row {args.row_id}")
        if status is not None:
            raise AuditError(f"outbox row {args.row_id} is {status}, not dead-lettered")
        print(f"outbox row {args.row_id} queued again; the runner sends it on its next round")
        return 0
    if args.row_id is not None:
        raise AuditError(f"unexpected '{args.row_id}': did you mean `outbox retry {args.row_id}`?")
    async with app.db.reading() as conn:
        rows = await outbox_queue.outbox_backlog(
            conn, OutboxStatus.DEAD if args.dead else OutboxStatus.PENDING
        )
    if args.json:
        print(json.dumps([_outbox_json(r, now) for r in rows], indent=2))
        return 0
    if not rows:
        print("No dead-lettered rows." if args.dead else "Nothing waiting to be sent.")
        return 0
    print(f"{'ID':<8}{'WHAT':<30}{'RECIPIENT':<36}{'TRIES':<7}{'AGE':<9}LAST ERROR")
    for r in rows:
        what = f"{r.channel}:{r.kind}"
        error = (r.last_error or "-").replace("\n", " ")
        print(
            f"{r.id:<8}{what[:29]:<30}{r.recipient[:35]:<36}{r.attempts:<7}"
            f"{age(now - r.created_at):<9}{error[:100]}"
        )
    return 0


def _outbox_json(r: OutboxRow, now: datetime) -> dict[str, Any]:
    return {
        "id": r.id,
        "channel": r.channel,
        "kind": r.kind,
        "recipient": r.recipient,
        "audit_id": r.audit_id,
        "attempts": r.attempts,
        "last_error": r.last_error,
        "age_seconds": int((now - r.created_at).total_seconds()),
        "next_try": r.available_at.isoformat(),
    }


def age(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes}m"
    return f"{minutes}m" if minutes else f"{seconds}s"


COMMANDS: dict[str, Callable[[App, argparse.Namespace], Awaitable[int]]] = {"outbox": _outbox}
PLAIN_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}
