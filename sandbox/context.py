"""What every part of the running sandbox shares, held by the aiohttp application."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from sandbox.faults import FaultInjector, Faults
from sandbox.graph import GraphService
from sandbox.state import Store


@dataclass
class SandboxContext:
    state_dir: Path
    store: Store
    faults: Faults
    injector: FaultInjector
    graph: GraphService
    ca_file: Path
    base_url: str = ""  # known once the socket is bound (port 0 picks one)


CONTEXT = web.AppKey("sandbox", SandboxContext)


def context_of(request: web.Request) -> SandboxContext:
    return request.app[CONTEXT]
