"""`auditbot report` and `auditbot export`: the monthly QA report and the audit exports."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auditbot.app import App


def add_parsers(sub: Any) -> None:
    """Adds this module's subcommands to the `auditbot` parser."""


COMMANDS: dict[str, Callable[[App, argparse.Namespace], Awaitable[int]]] = {}
PLAIN_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}
