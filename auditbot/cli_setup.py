"""`auditbot setup sharepoint`: make the tracker list on the council's SharePoint site,
or add what it lacks. Safe to run again: it prints what it changed, or that nothing
needed to change, and refuses (changing nothing) where a column has another type."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audits.errors import AuditError

if TYPE_CHECKING:
    from auditbot.app import App
    from auditbot.settings import Settings


def add_parsers(sub: Any) -> None:
    """Adds `setup` to the `auditbot` parser."""
    p = sub.add_parser(
        "setup", help="make what auditbot needs in Microsoft 365 (the SharePoint tracker list)"
    )
    p.add_argument(
        "what",
        choices=["sharepoint"],
        help="sharepoint: the tracker list and its columns on AUDITBOT_SHAREPOINT_SITE",
    )


def _setup(args: argparse.Namespace) -> int:
    from auditbot.settings import load_settings

    settings = load_settings(Path(".env") if Path(".env").is_file() else None)
    if not settings.graph_url:
        raise AuditError(
            "AUDITBOT_GRAPH_URL is not set: there is no SharePoint to set up "
            "(set the AUDITBOT_GRAPH_* settings, see docs/deploy.md)"
        )
    from graph.provisioning import TrackerRefused

    try:
        changes = asyncio.run(setup_sharepoint(settings))
    except TrackerRefused as refused:
        for problem in refused.problems:
            print(f"refused: {problem}", file=sys.stderr)
        print(
            f"auditbot: the tracker list '{settings.tracker_list}' has "
            f"{len(refused.problems)} column(s) of the wrong type; nothing was changed",
            file=sys.stderr,
        )
        return 1
    for line in changes or ["nothing to change"]:
        print(line, flush=True)
    return 0


async def setup_sharepoint(settings: Settings) -> list[str]:
    """What `setup sharepoint` changed. Graph errors become one clear line."""
    from application.ports import GraphError
    from graph.client import MsGraph
    from graph.provisioning import setup_tracker

    graph = MsGraph(settings.graph_settings())
    try:
        return await setup_tracker(graph)
    except GraphError as exc:
        raise AuditError(_graph_problem(settings, exc)) from exc
    finally:
        await graph.close()


def _graph_problem(settings: Settings, exc: Any) -> str:
    site = settings.sharepoint_site
    if exc.status == 403:
        return (
            f"the app may not change site {site}: grant it Sites.Selected with the "
            "'write' role on this site (docs/deploy.md), then run this again"
        )
    if exc.status == 404:
        return f"AUDITBOT_SHAREPOINT_SITE '{site}' was not found: use the site's id"
    return f"SharePoint refused the change: {exc}"


COMMANDS: dict[str, Callable[[App, argparse.Namespace], Awaitable[int]]] = {}
PLAIN_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"setup": _setup}
