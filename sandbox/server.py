"""Starting and stopping the sandbox, and the HTTP glue for Graph requests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from aiohttp import web

from sandbox import admin, credentials, identity, managed_identity, pages, tls
from sandbox.constants import CLIENT_ID, CLIENT_SECRET, DEFAULT_PORT, HOST, SITE_ID, TENANT
from sandbox.context import CONTEXT, SandboxContext, context_of
from sandbox.faults import FaultInjector, Faults
from sandbox.graph import GRAPH_PREFIX, GraphRequest, GraphResponse, GraphService
from sandbox.graph.access import Grants
from sandbox.graph.core import error_response
from sandbox.state import Store

# Upload fragments may be up to 60 MiB; aiohttp's default limit is 1 MiB.
MAX_BODY = 64 * 1024 * 1024


def sandbox_env(port: int, state_dir: Path) -> dict[str, str]:
    """The settings that point auditbot at a sandbox on this port."""
    base = f"https://{HOST}:{port}"
    return {
        "AUDITBOT_GRAPH_URL": f"{base}{GRAPH_PREFIX}",
        "AUDITBOT_AUTHORITY": f"{base}/{TENANT}",
        "AUDITBOT_CLIENT_ID": CLIENT_ID,
        "AUDITBOT_CLIENT_SECRET": CLIENT_SECRET,
        "AUDITBOT_SHAREPOINT_SITE": SITE_ID,
        "AUDITBOT_GRAPH_CA_BUNDLE": str(tls.cert_path(state_dir)),
    }


def sandbox_certificate_env(port: int, state_dir: Path) -> dict[str, str]:
    """The settings that point auditbot at a sandbox on this port, signing in to Graph with
    the sandbox app's test certificate instead of its client secret."""
    env = sandbox_env(port, state_dir)
    del env["AUDITBOT_CLIENT_SECRET"]
    env["AUDITBOT_CLIENT_CERTIFICATE"] = str(credentials.ensure_client_certificate(state_dir))
    return env


def sandbox_managed_identity_env(
    port: int, state_dir: Path, *, federated: bool = False
) -> dict[str, str]:
    """The settings for auditbot on the sandbox's App Service with its user-assigned
    managed identity, and the two variables App Service gives the process (read by MSAL).
    `federated`: the app registration signs in with the identity's token as its assertion;
    otherwise the identity itself gets the Graph token."""
    env = sandbox_env(port, state_dir)
    del env["AUDITBOT_CLIENT_SECRET"]
    env["AUDITBOT_GRAPH_CREDENTIAL"] = "federated" if federated else "managed_identity"
    env["AUDITBOT_MANAGED_IDENTITY_CLIENT_ID"] = managed_identity.IDENTITY_CLIENT_ID
    env.update(managed_identity.managed_identity_env(f"https://{HOST}:{port}", state_dir))
    return env


@dataclass
class RunningSandbox:
    """A sandbox serving on 127.0.0.1. Change `faults` to change its behaviour live."""

    port: int
    state_dir: Path
    ca_file: Path
    faults: Faults
    _runner: web.AppRunner = field(repr=False)
    _context: SandboxContext = field(repr=False)

    @property
    def base_url(self) -> str:
        return f"https://{HOST}:{self.port}"

    @property
    def graph_url(self) -> str:
        return f"{self.base_url}{GRAPH_PREFIX}"

    @property
    def authority(self) -> str:
        return f"{self.base_url}/{TENANT}"

    @property
    def grants(self) -> Grants:
        """What the app may use (sites, mailboxes): change it to take a grant away."""
        return self._context.graph.grants

    def env(self) -> dict[str, str]:
        return sandbox_env(self.port, self.state_dir)

    def certificate_env(self) -> dict[str, str]:
        """`env()` with the app's test certificate in place of its client secret."""
        return sandbox_certificate_env(self.port, self.state_dir)

    def managed_identity_env(self, *, federated: bool = False) -> dict[str, str]:
        """`env()` on App Service with the managed identity in place of the secret."""
        return sandbox_managed_identity_env(self.port, self.state_dir, federated=federated)

    def add_user(self, upn: str, display_name: str) -> str:
        """Adds someone with a mailbox to the directory; returns their object id."""
        return str(self._context.store.add_user(upn, display_name)["id"])

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox's clock on: request budgets measured over a window (Outlook's
        10 minutes per mailbox) see that much time pass."""
        self._context.injector.advance(seconds)

    def delete_event_as_user(self, user: str, event_id: str) -> bool:
        """The person deletes the event in Outlook (sandbox only; False if they have no
        such event): Graph then answers 404 ErrorItemNotFound for that id."""
        return admin.delete_as_user(self._context.store, user, event_id)

    @property
    def outlook_peak_in_flight(self) -> int:
        """The most Outlook requests in flight at once, all mailboxes together."""
        return self._context.injector.outlook_peak_in_flight

    def token_clients(self) -> list[str]:
        """Whom the sandbox's Entra has given still-valid tokens to (client ids)."""
        return self._context.store.token_clients()

    async def stop(self) -> None:
        await self._runner.cleanup()
        self._context.store.close()


async def start_sandbox(
    state_dir: Path, port: int = 0, faults: Faults | None = None
) -> RunningSandbox:
    """Serve the sandbox on 127.0.0.1:port (0: any free port) from state in state_dir."""
    # Opening the state is a few milliseconds of local file work, once, before serving.
    context = _open_context(state_dir, faults if faults is not None else Faults())
    ssl_context = tls.server_ssl_context(context.state_dir)
    store = context.store
    try:
        sock = _bind(port)
    except OSError:
        store.close()
        raise
    bound_port = int(sock.getsockname()[1])
    context.base_url = f"https://{HOST}:{bound_port}"
    runner = web.AppRunner(build_app(context), access_log=None)
    try:
        await runner.setup()
        await web.SockSite(runner, sock, ssl_context=ssl_context).start()
    except BaseException:
        await runner.cleanup()
        sock.close()
        store.close()
        raise
    return RunningSandbox(
        port=bound_port,
        state_dir=context.state_dir,
        ca_file=context.ca_file,
        faults=context.faults,
        _runner=runner,
        _context=context,
    )


def _open_context(state_dir: Path, faults: Faults) -> SandboxContext:
    state_dir = Path(state_dir).resolve()
    tls.ensure_certificate(state_dir)
    store = Store.open(state_dir)
    injector = FaultInjector(faults)
    return SandboxContext(
        state_dir=state_dir,
        store=store,
        faults=faults,
        injector=injector,
        graph=GraphService(store, injector),
        ca_file=tls.cert_path(state_dir),
    )


def run_sandbox(state_dir: Path, port: int = DEFAULT_PORT, faults: Faults | None = None) -> None:
    """Serve until Ctrl-C (or SIGTERM), printing where to look."""

    async def serve() -> None:
        sandbox = await start_sandbox(state_dir, port, faults)
        stopped = asyncio.Event()
        # Handle SIGINT here too: a process started in the background (as `make demo`
        # may) inherits an ignored SIGINT and would never see KeyboardInterrupt.
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
                asyncio.get_running_loop().add_signal_handler(signum, stopped.set)
        print(f"Microsoft 365 sandbox: {sandbox.base_url}/", flush=True)
        print(f"  Graph:     {sandbox.graph_url}", flush=True)
        print(f"  Authority: {sandbox.authority}", flush=True)
        print(f"  CA file:   {sandbox.ca_file}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        try:
            await stopped.wait()
        finally:
            await sandbox.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


def build_app(context: SandboxContext) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[CONTEXT] = context
    identity.register(app)
    managed_identity.register(app)
    app.router.add_route("*", GRAPH_PREFIX + "/{tail:.*}", graph_endpoint)
    app.router.add_route("*", "/_upload/{token}", upload_endpoint)
    admin.register(app)
    pages.register(app)
    return app


async def graph_endpoint(request: web.Request) -> web.StreamResponse:
    context = context_of(request)
    path = _decoded_path(request)[len(GRAPH_PREFIX) :] or "/"
    app_id = _bearer_client(request, context)
    if app_id is None:
        context.graph.record(request.method, GRAPH_PREFIX + path, 401)
        return _web_response(
            error_response(
                401,
                "InvalidAuthenticationToken",
                "Access token is empty, expired or was not issued by this sandbox.",
            )
        )
    graph_request = await _graph_request(request, path, app_id)
    return _web_response(await context.graph.graph_request(graph_request))


async def upload_endpoint(request: web.Request) -> web.StreamResponse:
    # No bearer token: the upload URL itself is the credential, as in SharePoint.
    graph_request = await _graph_request(request, _decoded_path(request), app_id="")
    return _web_response(await context_of(request).graph.upload_request(graph_request))


def _bearer_client(request: web.Request, context: SandboxContext) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return context.store.token_client(token.strip())


async def _graph_request(request: web.Request, path: str, app_id: str) -> GraphRequest:
    return GraphRequest(
        method=request.method,
        path=path,
        query={key: value for key, value in request.query.items()},
        headers={key.lower(): value for key, value in request.headers.items()},
        body=await request.read(),
        app_id=app_id,
        base_url=context_of(request).base_url,
    )


def _decoded_path(request: web.Request) -> str:
    # Decode the raw path ourselves: kiota percent-encodes '/' and ':' inside
    # `root:/folder/file.docx:`, and the drive routes need them back.
    return unquote(request.raw_path.split("?", 1)[0])


def _web_response(response: GraphResponse) -> web.Response:
    headers = dict(response.headers)
    if response.body is None:
        return web.Response(status=response.status, headers=headers)
    if isinstance(response.body, bytes):
        return web.Response(
            status=response.status,
            body=response.body,
            headers=headers,
            content_type=response.content_type,
        )
    return web.Response(
        status=response.status,
        text=json.dumps(response.body),
        headers=headers,
        content_type="application/json",
    )


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A restart on a fixed port should not wait for the old socket's TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.setblocking(False)
    return sock
