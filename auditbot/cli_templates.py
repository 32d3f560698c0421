"""`auditbot templates check FILE`: validate a council's own audit tool or policy.

Needs neither settings nor a database: it reads the files it is given, the
built-in audit tools, and the council's folder named by AUDITBOT_CONFIG_DIR
(if set), so a QA team can check a file before putting it in place. The checking is
in auditbot/templates_check.py, imported only when the command runs: every command
builds this parser, and the audit models take a quarter of a second to import.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auditbot.app import App

CONFIG_DIR_ENV = "AUDITBOT_CONFIG_DIR"
ROLES_FILE_ENV = "AUDITBOT_ROLES_FILE"


def add_parsers(sub: Any) -> None:
    """Adds this module's subcommands to the `auditbot` parser."""
    p = sub.add_parser("templates", help="check a council's own audit tool or policy files")
    actions = p.add_subparsers(dest="templates_command", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check",
        help="validate audit tool or policy YAML files and explain every problem",
        description=(
            "Validates each file as an audit tool (it has 'sections') or a process policy "
            "(it has 'steps'). A policy's default_template must be a built-in audit tool, "
            f"one in ${CONFIG_DIR_ENV}/templates, or one of the files checked."
        ),
    )
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")


def _check(args: argparse.Namespace) -> int:
    from auditbot.templates_check import check

    return check(args)


COMMANDS: dict[str, Callable[[App, argparse.Namespace], Awaitable[int]]] = {}
PLAIN_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"templates": _check}
