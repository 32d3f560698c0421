"""The `auditbot` command. Exit status 0 on success; otherwise a reason on stderr."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audits.errors import AuditError

# Only what `auditbot --help` needs is imported here: each command imports what it uses,
# so a light command does not load the database, the cards and the bot (bench/startup.py).
if TYPE_CHECKING:
    from auditbot.app import App

# The audit statuses `audits --status` takes (audits.model.Status, checked by a test),
# written out so that building the parser imports no model.
STATUSES = (
    "allocated",
    "in_progress",
    "submitted",
    "moderated",
    "returned",
    "panel_agreed",
    "closed",
)

# Command groups kept in their own modules. Each has `add_parsers(sub)`,
# `COMMANDS` (async, given the built App) and `PLAIN_COMMANDS` (given only the
# arguments, for commands that need neither settings nor a database).
_EXTENSIONS = (
    "auditbot.cli_reports",
    "auditbot.cli_outbox",
    "auditbot.cli_doctor",
    "auditbot.cli_manifest",
    "auditbot.cli_templates",
    "auditbot.cli_setup",
)


def _extensions() -> list[Any]:
    import importlib

    return [importlib.import_module(name) for name in _EXTENSIONS]


_BY_HELP = "the QA officer or manager doing this (default: AUDITBOT_OPERATOR)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="auditbot", description="Children's social care case file audits, run in Teams."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="run the bot (POST /api/messages) and its outbox runner")
    p.add_argument("--port", type=int, default=3978)
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument(
        "--dangerously-allow-unauthenticated",
        action="store_true",
        help="serve without MicrosoftAppId on an address other machines can reach",
    )

    p = sub.add_parser(
        "runner", help="run only the timers (nudges, escalations) and the outbox, no endpoint"
    )

    p = sub.add_parser("extend", help="move a deadline, with a reason (QA staff)")
    p.add_argument("audit_id", metavar="AUDIT_ID")
    p.add_argument("step", metavar="STEP", help="e.g. audit_completion, moderation, action-2")
    p.add_argument("--to", required=True, metavar="YYYY-MM-DD", help="the new due date")
    p.add_argument("--reason", required=True)
    p.add_argument("--by", metavar="EMAIL", help=_BY_HELP)

    p = sub.add_parser("reassign", help="give an audit role to someone else (QA staff)")
    p.add_argument("audit_id", metavar="AUDIT_ID")
    p.add_argument("role", metavar="ROLE", help="auditor, iro, moderator, social_worker, ...")
    p.add_argument("person", metavar="EMAIL")
    p.add_argument("--reason", required=True)
    p.add_argument("--by", metavar="EMAIL", help=_BY_HELP)

    p = sub.add_parser("allocate", help="allocate the month's audits from a CSV file")
    p.add_argument("file", type=Path, metavar="FILE.csv")
    p.add_argument("--by", metavar="EMAIL", help=_BY_HELP)

    p = sub.add_parser("audits", help="list audits")
    p.add_argument("--status", choices=STATUSES)
    p.add_argument("--overdue", action="store_true", help="only audits with a missed deadline")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("show", help="one audit: answers, deadlines, history")
    p.add_argument("audit_id", metavar="AUDIT_ID")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--access",
        action="store_true",
        help="who opened the audit, when and from where (the access trail), not the audit",
    )
    p.add_argument("--csv", action="store_true", help="with --access: the trail as CSV")
    p.add_argument(
        "--by",
        metavar="EMAIL",
        help="who is looking (default: AUDITBOT_OPERATOR, else the "
        "local account), recorded in the access trail",
    )

    p = sub.add_parser("db", help="database administration")
    p.add_argument("action", choices=["upgrade"])

    p = sub.add_parser(
        "demo", help="load a demo month, with a Microsoft 365 sandbox, and show what to try"
    )
    p.add_argument("--port", type=int, default=None, help="the sandbox's port")
    p.add_argument("--exit", action="store_true", help="load the demo and exit, serving nothing")
    p.add_argument(
        "--as",
        dest="you",
        metavar="ROLE",
        help="who you are in the Agents Playground: auditor (default), iro, moderator, "
        "qa_manager, service_manager, social_worker, qa_officer, team_manager, or an address",
    )
    p.add_argument("--bot-port", type=int, default=3978, help="the bot's port")
    p.add_argument(
        "--playground-port", type=int, default=56150, help="the port asked of the Playground"
    )
    p.add_argument("--no-playground", action="store_true", help="do not start the Playground")
    p.add_argument(
        "--keep",
        action="store_true",
        help="carry on with the last run's demo data (e.g. as another person) instead of "
        "loading the story afresh",
    )

    p = sub.add_parser("sandbox", help="serve a local stand-in for Microsoft 365")
    p.add_argument("--port", type=int, default=None)
    p.add_argument(
        "--state", type=Path, default=Path("var/sandbox"), help="where it keeps its data"
    )
    p.add_argument(
        "--print-env",
        action="store_true",
        help="print the settings that point auditbot at it, and exit",
    )
    for extension in _extensions():
        extension.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from auditbot.logs import configure_logging
    from auditbot.settings import load_settings
    from store.db import DatabaseUnavailable

    commands = dict(_COMMANDS)
    plain: dict[str, Callable[[argparse.Namespace], int]] = {}
    for extension in _extensions():
        commands.update(extension.COMMANDS)
        plain.update(extension.PLAIN_COMMANDS)
    try:
        if args.command in plain:
            return plain[args.command](args)
        settings = load_settings(Path(".env") if Path(".env").is_file() else None)
        configure_logging(settings, default_format="json" if args.command == "serve" else "text")
        if args.command == "demo":
            from auditbot.demo import run_demo

            return run_demo(
                settings,
                port=args.port,
                serve=not args.exit,
                you=args.you,
                bot_port=args.bot_port,
                playground=not args.no_playground,
                playground_port=args.playground_port,
                keep=args.keep,
            )
        if args.command == "sandbox":
            return _sandbox(args)
        if args.command in ("audits", "show"):  # reading only: no app to build
            from auditbot.cli_read import COMMANDS as READING
            from auditbot.cli_read import run_reading

            return asyncio.run(run_reading(settings, READING[args.command], args))
        from auditbot.app import build

        app = build(settings)
        return asyncio.run(_run(app, commands[args.command], args))
    except (AuditError, DatabaseUnavailable) as exc:
        print(f"auditbot: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # e.g. the sandbox's port is taken
        print(f"auditbot: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _sandbox(args: argparse.Namespace) -> int:
    from sandbox import DEFAULT_PORT, Faults, run_sandbox, sandbox_env

    port = args.port or DEFAULT_PORT
    if args.print_env:
        for key, value in sandbox_env(port, args.state.resolve()).items():
            print(f"{key}={value}")
        return 0
    run_sandbox(args.state.resolve(), port=port, faults=Faults.from_env())
    return 0


async def _run(
    app: App, command: Callable[[App, argparse.Namespace], Awaitable[int]], args: argparse.Namespace
) -> int:
    try:
        if args.command != "db":
            await app.start()
        return await command(app, args)
    finally:
        await app.close()


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _no_roles_file(app: App) -> list[str]:
    """With no roles file, what the policies need that nobody holds (empty with one: a
    roles file that lacks a role the policies need stops `build` already)."""
    from audits.catalog import unfilled_roles
    from audits.roles import StandingRoles

    if app.settings.roles_file is not None:
        return []
    return unfilled_roles(app.catalog, StandingRoles(), roles_file=False)


def _warn_no_roles(unfilled: list[str]) -> None:
    # Said whatever the log level, like the unauthenticated warning.
    if unfilled:
        print(
            "auditbot: WARNING: AUDITBOT_ROLES_FILE is not set; these reach no one:\n"
            + "\n".join(f"  {line}" for line in unfilled),
            file=sys.stderr,
            flush=True,
        )


async def _serve(app: App, args: argparse.Namespace) -> int:
    from auditbot.telemetry import configure_telemetry

    configure_telemetry(app.settings)
    from auditbot.serve import serving

    if not app.settings.app_id:
        if args.host not in LOOPBACK and not args.dangerously_allow_unauthenticated:
            print(
                "auditbot: MicrosoftAppId is not set, so the bot would take unauthenticated "
                f"requests from anyone who can reach {args.host}:{args.port}. Set "
                "MicrosoftAppId and MicrosoftAppPassword, or listen on this machine only "
                "(--host 127.0.0.1), or, knowingly, --dangerously-allow-unauthenticated.",
                file=sys.stderr,
            )
            return 2
        # Said whatever the log level: logging may be set to errors only.
        print(
            "auditbot: WARNING: MicrosoftAppId is not set: requests are NOT authenticated.",
            file=sys.stderr,
            flush=True,
        )
    unfilled = _no_roles_file(app)
    if unfilled and args.host not in LOOPBACK:
        print(
            "auditbot: AUDITBOT_ROLES_FILE is not set, so nobody is QA officer, QA manager, "
            "head of service or QA inbox, and work and notices the policies give them would "
            "reach no one:\n"
            + "\n".join(f"  {line}" for line in unfilled)
            + "\nSet AUDITBOT_ROLES_FILE to a roles file (like auditbot/demo/roles.yaml), "
            "or listen on this machine only (--host 127.0.0.1) to try it out.",
            file=sys.stderr,
        )
        return 2
    _warn_no_roles(unfilled)
    async with serving(app, args.host, args.port):
        print(f"auditbot listening on http://{args.host}:{args.port}/api/messages", flush=True)
        await asyncio.Event().wait()
    return 0


async def _runner(app: App, args: argparse.Namespace) -> int:
    from auditbot.telemetry import configure_telemetry

    configure_telemetry(app.settings)
    from auditbot.serve import run_runner

    _warn_no_roles(_no_roles_file(app))
    print("auditbot runner: sending nudges, escalations and the outbox", flush=True)
    await run_runner(app)
    return 0


def _operator(app: App, args: argparse.Namespace) -> str | None:
    """Who the audit trail records as acting: --by, else AUDITBOT_OPERATOR."""
    by: str | None = args.by or app.settings.operator
    return by.strip().lower() if by else None


def _named_operator(app: App, args: argparse.Namespace) -> str:
    by = _operator(app, args)
    if by is None:
        raise AuditError(
            "say who is doing this: --by EMAIL, or set AUDITBOT_OPERATOR to your account"
        )
    return by


async def _extend(app: App, args: argparse.Namespace) -> int:
    from audits.commands import ExtendDeadline
    from audits.workdays import uk_time

    command = ExtendDeadline(args.step, args.to, args.reason)
    outcome = await app.service.execute(_named_operator(app, args), args.audit_id, command)
    await _send_outbox(app)
    due = outcome.audit.deadlines[args.step].due_at
    print(f"{args.audit_id}: {args.step} now due {uk_time(due)}")
    return 0


async def _reassign(app: App, args: argparse.Namespace) -> int:
    from audits.commands import Reassign

    command = Reassign(args.role, args.person, args.reason)
    await app.service.execute(_named_operator(app, args), args.audit_id, command)
    await _send_outbox(app)
    print(f"{args.audit_id}: {args.role} is now {args.person}")
    return 0


async def _allocate(app: App, args: argparse.Namespace) -> int:
    from audits.allocation_csv import parse_allocation_csv
    from audits.workdays import uk_time
    from audits.workflow import SYSTEM

    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise AuditError(f"{args.file}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise AuditError(f"{args.file}: not a UTF-8 CSV file (save it as 'CSV UTF-8')") from None
    rows = parse_allocation_csv(text, app.catalog)
    # Without --by or AUDITBOT_OPERATOR the trail says "system", as it did before either.
    outcomes = await app.service.allocate(_operator(app, args) or SYSTEM, rows)
    await _send_outbox(app)
    for outcome in outcomes:
        audit = outcome.audit
        due = audit.deadlines["audit_completion"].due_at
        print(
            f"{audit.id}  child {audit.child_id}  {audit.strand}  auditor {audit.participants.auditor}"
            f"  due {uk_time(due)}"
        )
    print(f"{len(outcomes)} audit{'s' if len(outcomes) != 1 else ''} allocated")
    return 0


async def _send_outbox(app: App) -> None:
    """Sends what Microsoft 365 is owed now; what cannot go yet waits in the outbox."""
    await app.dispatcher.drain()


async def _db(app: App, args: argparse.Namespace) -> int:
    await app.db.upgrade()
    print(f"database at revision {await app.db.current_revision()}")
    return 0


_COMMANDS: dict[str, Callable[[App, argparse.Namespace], Awaitable[int]]] = {
    "serve": _serve,
    "runner": _runner,
    "extend": _extend,
    "reassign": _reassign,
    "allocate": _allocate,
    "db": _db,
}


if __name__ == "__main__":
    raise SystemExit(main())
