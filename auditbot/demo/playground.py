"""The Microsoft 365 Agents Playground in `make demo`: who you are in it, and its process.

The Playground (the npm package @microsoft/m365agentsplayground) is a Teams-like client
in the browser that talks to the bot's endpoint. It is started in a session of its own,
so that stopping the demo in any way it can be stopped (Ctrl-C, SIGTERM, an error)
stops the Playground and everything it started, by process group. It is asked for a
port and may take another when that one is busy ("fallback to random if occupied", its
`start --help` says); the demo reads the port it reports ("Listening on N") and prints
that address, or says clearly that it did not start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

PLAYGROUND = Path("var/playground")
PLAYGROUND_PACKAGE = "@microsoft/m365agentsplayground"
PLAYGROUND_PORT = 56150  # the Playground's own default
CONFIG = PLAYGROUND / ".m365agentsplayground.yml"
LOG = PLAYGROUND / "playground.log"
STARTS_WITHIN = 60.0  # seconds for the Playground to say which port it listens on
STOPS_WITHIN = 5.0  # seconds after SIGTERM before its group is killed outright
_LISTENING = re.compile(r"Listening on (\d+)")


@dataclass(frozen=True)
class DemoPerson:
    upn: str
    role: str  # as the bot says it
    alias: str  # what `--as` (make demo AS=...) takes besides the address


# Who you can be in the Playground, in the order it lists them; the first is the
# default. The Playground takes the current user and at most five others.
# default. The Playground takes the current user and at most five others: the first six
# are the people of the audit just allocated (child's ID 4567890), whom the walk from
# the auditor's answers to the QA panel passes through.
DEMO_PEOPLE = (
    DemoPerson("ava.auditor@council.example", "auditor", "auditor"),
    DemoPerson("ian.chair@council.example", "IRO/CP chair", "iro"),
    DemoPerson("mona.mod@council.example", "moderator", "moderator"),
    DemoPerson("maya.qamanager@council.example", "QA manager", "qa_manager"),
    DemoPerson("sue.manager@council.example", "service manager", "service_manager"),
    DemoPerson("dee.worker@council.example", "social worker", "social_worker"),
    DemoPerson("quinn.qa@council.example", "QA officer", "qa_officer"),
    DemoPerson("ted.lead@council.example", "team manager", "team_manager"),
    DemoPerson("gus.group@council.example", "auditor (an audit returned by the panel)", "gus"),
)
OTHERS_AT_MOST = 5


def demo_person(who: str | None) -> DemoPerson:
    """The demo person `who` names: a role (auditor, iro, moderator, qa_manager, ...),
    an address or a first name; the auditor when None. ValueError names the choices."""
    if not who:
        return DEMO_PEOPLE[0]
    wanted = who.strip().lower().replace("-", "_").replace(" ", "_")
    for person in DEMO_PEOPLE:
        if wanted in (person.alias, person.upn, person.upn.split(".")[0]):
            return person
    choices = ", ".join(p.alias for p in DEMO_PEOPLE)
    raise ValueError(f"'{who}' is not a demo person: use one of {choices}, or their address")


def display_name(upn: str) -> str:
    """The demo person's name as the sandbox's directory has it (sandbox/users.yaml)."""
    first, _, last = upn.split("@")[0].partition(".")
    return f"{first.title()} {last.title()}".strip()


def playground_config(you: str, others: list[str]) -> str:
    """The Playground's users, with the object ids the sandbox directory gives them."""
    from sandbox import sandbox_user_id

    def person(upn: str, n: int, indent: str) -> str:
        first, _, last = display_name(upn).partition(" ")
        return (
            f"{indent}id: user-{n}\n{indent}name: {first} {last}\n"
            f"{indent}userPrincipleName: {upn}\n{indent}aadObjectId: {sandbox_user_id(upn)}\n"
            f"{indent}givenName: {first}\n{indent}surname: {last}\n"
            f"{indent}email: {upn}\n"
        )

    users = "".join("  - " + person(upn, n, "    ")[4:] for n, upn in enumerate(others, 1))
    return (
        'version: "0.1.1"\n'
        "tenantId: 6d3b0f1e-5a8c-4a7e-9c11-2f1a0c0de001\n"
        "bot:\n  id: 00000000-0000-0000-0000-00000000000011\n  name: auditbot\n"
        f"currentUser:\n{person(you, 0, '  ')}"
        f"users:\n{users}"
        "personalChat:\n  id: __PERSONAL_CHAT_ID__\n"
        "groupChat:\n  id: __GROUP_CHAT_ID__\n  name: Group Chat\n"
        "team:\n  id: team-id\n  name: QA Team\n"
        "  aadGroupId: 00000000-0000-0000-0000-000000000031\n"
        "  channels:\n    - id: channel-general-id\n      name: General\n"
    )


def write_config(you: DemoPerson) -> Path:
    """The Playground's configuration with `you` as its current user."""
    others = [p.upn for p in DEMO_PEOPLE if p.upn != you.upn][:OTHERS_AT_MOST]
    PLAYGROUND.mkdir(parents=True, exist_ok=True)
    CONFIG.write_text(playground_config(you.upn, others))
    return CONFIG


@dataclass
class Playground:
    process: asyncio.subprocess.Process
    port: int
    _copying: asyncio.Task[None]

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    async def stop(self) -> None:
        await stop_group(self.process)
        self._copying.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._copying


async def stop_group(process: asyncio.subprocess.Process) -> None:
    """SIGTERM to the process's whole group (node and what it started), then SIGKILL to
    what is left after STOPS_WITHIN seconds."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), STOPS_WITHIN)
    # Whatever of the group is still there (the leader's children, or a leader that
    # ignored SIGTERM) goes now.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    await process.wait()


async def install_playground(npm: str) -> bool:
    """npm install of the Playground into var/playground, its progress shown as npm shows it."""
    print(
        f"Installing the Agents Playground ({PLAYGROUND_PACKAGE}, with npm, into "
        f"{PLAYGROUND}; first run only, a minute or two)...",
        flush=True,
    )
    install = await asyncio.create_subprocess_exec(
        npm, "install", "--prefix", str(PLAYGROUND), "--no-audit", "--no-fund", PLAYGROUND_PACKAGE
    )
    try:
        return await install.wait() == 0
    except BaseException:  # the demo stopped meanwhile (SIGTERM): so does npm
        with contextlib.suppress(ProcessLookupError):
            install.terminate()
        await install.wait()
        raise


async def start_playground(bot_url: str, port: int = PLAYGROUND_PORT) -> Playground | None:
    """Starts the Playground against the bot at `bot_url` where Node.js is present; None
    (having said why) where it is not, could not be installed or did not start."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        print("Node.js is not installed: the Agents Playground is skipped.")
        return None
    cli = PLAYGROUND / "node_modules" / PLAYGROUND_PACKAGE / "cli.js"
    if not cli.exists() and not await install_playground(npm):
        print("auditbot: could not install the Agents Playground: skipped.", file=sys.stderr)
        return None
    # On a machine without a desktop the Playground exits when it cannot open a browser.
    bin_dir = PLAYGROUND / "bin"
    bin_dir.mkdir(exist_ok=True)
    opener = bin_dir / "xdg-open"
    opener.write_text("#!/bin/sh\nexit 0\n")
    opener.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir.resolve()}{os.pathsep}{os.environ.get('PATH', '')}"}
    print(f"Starting the Agents Playground (asking for port {port})...", flush=True)
    process = await asyncio.create_subprocess_exec(
        node,
        str(cli.resolve()),
        "start",
        "-e",
        bot_url,
        "-c",
        "msteams",
        "-p",
        str(port),
        "--disable-telemetry",
        cwd=str(PLAYGROUND),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # its own process group, stopped whole (stop_group)
    )
    listening: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    log = LOG.open("w", encoding="utf-8")
    copying = asyncio.create_task(_copy_output(process, log, listening))
    try:
        bound = await asyncio.wait_for(listening, STARTS_WITHIN)
    except (TimeoutError, EOFError):
        await stop_group(process)
        copying.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await copying
        print(f"auditbot: the Agents Playground did not start: {_why(process)}", file=sys.stderr)
        return None
    except BaseException:
        await stop_group(process)
        copying.cancel()
        raise
    return Playground(process, bound, copying)


def _why(process: asyncio.subprocess.Process) -> str:
    try:
        last = [line for line in LOG.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError:
        last = []
    said = f" (it said: {last[-1][:200]})" if last else ""
    ended = (
        f"it ended with status {process.returncode}"
        if process.returncode is not None
        else f"it did not say within {STARTS_WITHIN:.0f} s which port it listens on"
    )
    return f"{ended}{said}; see {LOG}"


async def _copy_output(
    process: asyncio.subprocess.Process, log: IO[str], listening: asyncio.Future[int]
) -> None:
    """Copies the Playground's output to its log, and reports the port it listens on."""
    assert process.stdout is not None
    try:
        while line := await process.stdout.readline():
            text = line.decode("utf-8", "replace")
            log.write(text)
            log.flush()
            found = _LISTENING.search(text)
            if found and not listening.done():
                listening.set_result(int(found.group(1)))
        if not listening.done():
            listening.set_exception(EOFError("the Playground ended"))
    finally:
        log.close()
