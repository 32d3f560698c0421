"""`auditbot demo` as a newcomer meets it (issue 20): a story that ends today, who has
what to do, acting as another role, the Agents Playground's real address and its
process group, the README's /dev/clock example. The demo runs as a subprocess where
it serves (the real clock, real ports), in-process where it only loads."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pytest

from auditbot.cli import main
from auditbot.demo import STORY_OVERDUE
from auditbot.demo.playground import DEMO_PEOPLE, PLAYGROUND_PACKAGE, display_name
from audits.workdays import UK

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
AUDITBOT = Path(sys.executable).parent / "auditbot"
WAIT = 60.0  # seconds for a demo subprocess to say what it prints


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("AUDITBOT_", "Microsoft")):
            monkeypatch.delenv(name)
    return tmp_path


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _on_demo_db(monkeypatch: pytest.MonkeyPatch, env: Path) -> None:
    monkeypatch.setenv("AUDITBOT_DATABASE_URL", f"sqlite+aiosqlite:///{env / 'var/demo.db'}")
    monkeypatch.setenv("AUDITBOT_ROLES_FILE", str(ROOT / "auditbot/demo/roles.yaml"))


def test_the_demo_story_ends_today(env, capsys, monkeypatch):
    """Item 1: loaded with the real clock, the latest record is today's, and no open
    deadline is in the past unless the story leaves it overdue on purpose."""
    code, out, err = _cli(capsys, "demo", "--exit", "--port", "0")
    assert code == 0, err
    began = datetime.now(UTC)
    today = began.astimezone(UK).date()
    _on_demo_db(monkeypatch, env)
    _, out, _ = _cli(capsys, "audits", "--json")
    listed = json.loads(out)
    latest = []
    for row in listed:
        _, shown, _ = _cli(capsys, "show", row["id"], "--json")
        audit = json.loads(shown)
        history = audit["history"]
        latest.append(max(datetime.fromisoformat(h["at"]) for h in history))
        for step, d in audit["audit"]["deadlines"].items():
            if d["done_at"] is None:
                due = datetime.fromisoformat(d["due_at"])
                if (row["child_id"], step) in STORY_OVERDUE:
                    assert due < began, (row["child_id"], step)
                else:
                    assert due > began, (row["child_id"], step, due)
    assert max(latest).astimezone(UK).date() == today
    assert max(latest) <= datetime.now(UTC)  # nothing recorded in the future
    # The commands the demo prints (the real clock) agree with the story.
    _, out, _ = _cli(capsys, "audits", "--overdue", "--json")
    assert {(a["child_id"], a["next_deadline"]["step"]) for a in json.loads(out)} == set(
        STORY_OVERDUE
    )
    # The monthly report of this month is as at today.
    code, out, err = _cli(capsys, "report", "--month", f"{today:%Y-%m}", "--out", str(env))
    assert code == 0, err


def test_acting_as_another_demo_person(env, capsys):
    """Item 13: --as writes the Playground's configuration for that person, and the demo
    says, one line per demo person, what waits for them now."""
    code, out, err = _cli(capsys, "demo", "--exit", "--port", "0", "--as", "moderator")
    assert code == 0, err
    config = (env / "var/playground/.m365agentsplayground.yml").read_text()
    current = config.split("currentUser:", 1)[1].split("users:", 1)[0]
    assert "userPrincipleName: mona.mod@council.example" in current
    assert "name: Mona Mod" in current
    others = config.split("users:", 1)[1].split("personalChat:", 1)[0]
    assert others.count("userPrincipleName:") == 5  # the Playground's limit
    assert "mona.mod@council.example" not in others
    lines = {
        p.alias: next(line for line in out.splitlines() if f"AS={p.alias} " in line)
        for p in DEMO_PEOPLE
    }
    assert lines["moderator"].startswith(" *Mona Mod")
    assert re.search(r"auditor: child's ID 4567890: audit due \d+ \w+ \d{4}", lines["auditor"])
    assert "IRO/CP chair comments due" in lines["iro"] and "(overdue)" not in lines["iro"]
    assert "child's ID 2345678: QA panel" in lines["qa_officer"]
    for person in DEMO_PEOPLE:
        assert lines[person.alias].lstrip(" *").startswith(display_name(person.upn))
    # Someone who is not in the demo is refused before anything is loaded.
    code, out, err = _cli(capsys, "demo", "--exit", "--port", "0", "--as", "nobody")
    assert code == 2 and out == "" and "'nobody' is not a demo person" in err


def test_make_demo_takes_the_person_and_says_what_it_installs():
    """Items 11 and 13: `make demo AS=moderator` runs `auditbot demo --as moderator`, and
    the first install says what is being installed rather than staying quiet."""
    dry = subprocess.run(
        ["make", "-n", "-B", "demo", "AS=moderator", "VENV=/nonexistent-venv"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "/nonexistent-venv/bin/auditbot demo --as moderator" in dry
    install = dry[: dry.index("auditbot demo")]
    assert "Installing auditbot's Python packages" in install
    assert "pip install --quiet -e" not in install  # pip says what it collects


# -- the demo served, as a subprocess -----------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to read its status is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _read_until(stream: IO[str], pattern: str, seen: list[str]) -> re.Match[str]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        if found := re.search(pattern, line):
            return found
    raise AssertionError(f"the demo never printed {pattern!r}:\n{''.join(seen)}")


@pytest.fixture
def demo_env(env: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AUDITBOT_", "Microsoft"))},
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def fake_node(env: Path, demo_env: dict[str, str]) -> Path:
    """`node` and `npm` stand-ins on PATH: npm "installs" the Playground (the file the demo
    looks for); node plays the Playground's `start`: asked for a port with -p, it takes
    another when that one is busy and says "Listening on N", as the real one does
    (`agentsplayground start --help`: "default: 56150, fallback to random if occupied").
    It starts a child that ignores SIGTERM, as a stuck helper would."""
    bin_dir = env / "fakebin"
    bin_dir.mkdir()
    pids = env / "playground.pids"
    node = bin_dir / "node"
    node.write_text(
        f"#!{sys.executable}\n"
        "import os, signal, socket, subprocess, sys, time\n"
        "args = sys.argv[1:]\n"
        "port = int(args[args.index('-p') + 1])\n"
        "s = socket.socket()\n"
        "try:\n"
        "    s.bind(('127.0.0.1', port))\n"
        "except OSError:\n"
        "    s.bind(('127.0.0.1', 0))\n"
        "s.listen()\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import signal, time; "
        "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "print(f'Listening on {s.getsockname()[1]}', flush=True)\n"
        "time.sleep(600)\n"
    )
    npm = bin_dir / "npm"
    npm.write_text(
        f"#!{sys.executable}\n"
        "import pathlib, sys\n"
        "prefix = pathlib.Path(sys.argv[sys.argv.index('--prefix') + 1])\n"
        f"cli = prefix / 'node_modules' / {PLAYGROUND_PACKAGE!r} / 'cli.js'\n"
        "cli.parent.mkdir(parents=True, exist_ok=True)\n"
        "cli.write_text('')\n"
        "print('added 1 package in 1s', flush=True)\n"
    )
    for script in (node, npm):
        script.chmod(0o755)
    demo_env["PATH"] = f"{bin_dir}{os.pathsep}{demo_env['PATH']}"
    return pids


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def _start_demo(env: Path, demo_env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    command = [str(AUDITBOT), "demo", "--port", "0", "--bot-port", str(_free_port()), *extra]
    return subprocess.Popen(
        command,
        cwd=env,
        env=demo_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(demo: subprocess.Popen[str]) -> None:
    if demo.poll() is None:
        demo.kill()
    demo.wait(30)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_the_playground_address_is_the_one_it_took_and_stopping_stops_its_group(
    env, demo_env, fake_node, busy_port, stop
):
    """Item 12: with its port busy the Playground takes another, and the demo prints that
    one; SIGTERM or Ctrl-C to the demo stops the Playground's whole process group.
    Item 11: the install and each start are announced, with their addresses."""
    demo = _start_demo(env, demo_env, "--playground-port", str(busy_port))
    seen: list[str] = []
    try:
        assert demo.stdout is not None
        found = _read_until(demo.stdout, r"Agents Playground: http://localhost:(\d+)", seen)
        port = int(found.group(1))
        assert port != busy_port and f"port {busy_port} was busy" in seen[-1]
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # the printed address is where the Playground listens
        node, helper = (int(pid) for pid in fake_node.read_text().split())
        assert _alive(node) and _alive(helper)
        said = "".join(seen)
        for first, then in (
            ("Starting the Microsoft 365 sandbox", "Microsoft 365 sandbox: https://127.0.0.1:"),
            ("Starting the bot", "Bot: http://127.0.0.1:"),
            (f"Installing the Agents Playground ({PLAYGROUND_PACKAGE}", "added 1 package"),
            ("Starting the Agents Playground", "Agents Playground: http://localhost:"),
        ):
            assert first in said and said.index(first) < said.index(then), first

        demo.send_signal(stop)
        assert demo.wait(30) == 0
        rest = demo.stdout.read()
        assert "Demo stopped." in rest
        assert not _alive(node) and not _alive(helper)
    finally:
        _stop(demo)


def test_a_playground_that_does_not_start_is_said_clearly(env, demo_env, fake_node):
    """Item 12: a Playground that ends without listening is reported, with its last words
    and its log, and no address is printed."""
    node = Path(demo_env["PATH"].split(os.pathsep)[0]) / "node"
    node.write_text(
        f"#!{sys.executable}\nprint('Error: EACCES', flush=True)\nraise SystemExit(3)\n"
    )
    demo = _start_demo(env, demo_env)
    seen: list[str] = []
    try:
        assert demo.stdout is not None
        _read_until(demo.stdout, r"Everything keeps running", seen)
        said = "".join(seen)
        assert (
            "auditbot: the Agents Playground did not start: it ended with status 3 "
            "(it said: Error: EACCES); see var/playground/playground.log"
        ) in said
        assert "Agents Playground: http" not in said
    finally:
        demo.send_signal(signal.SIGTERM)
        _stop(demo)


def test_the_readme_clock_example_brings_a_nudge_and_an_escalation(env, demo_env):
    """Item 14: the README's /dev/clock command, with the hours the demo prints, makes the
    just-allocated audit's IRO/CP chair nudged and the QA officer told it is late."""
    readme = README.read_text()
    form = r"curl -X POST http://127\.0\.0\.1:(\d+)/dev/clock -d '\{\"advance\": \"PT(\d+)H\"\}'"
    assert re.search(form, readme), "the README shows the /dev/clock command"
    demo = _start_demo(env, demo_env, "--no-playground")
    seen: list[str] = []
    try:
        assert demo.stdout is not None
        found = _read_until(demo.stdout, form, seen)
        _read_until(demo.stdout, r"Everything keeps running", seen)
        command = found.group(0)
        moved = subprocess.run(
            ["sh", "-c", command], capture_output=True, text=True, check=True, timeout=30
        )
        assert '"now"' in moved.stdout, moved
        listed = {
            **demo_env,
            "AUDITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{env / 'var/demo.db'}",
        }
        iro, qa_officer = "ian.chair@council.example", "quinn.qa@council.example"
        deadline = time.monotonic() + WAIT
        kinds: set[tuple[str, str]] = set()
        while time.monotonic() < deadline:
            out = subprocess.run(
                [str(AUDITBOT), "outbox", "--json"],
                cwd=env,
                env=listed,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            kinds = {(r["kind"], r["recipient"]) for r in json.loads(out)}
            if {("nudge", iro), ("escalation", qa_officer)} <= kinds:
                break
            time.sleep(0.2)
        assert ("nudge", iro) in kinds and ("escalation", qa_officer) in kinds, kinds
    finally:
        demo.send_signal(signal.SIGTERM)
        _stop(demo)


def test_keep_carries_on_with_the_last_runs_data_as_another_person(env, capsys, monkeypatch):
    """Item 13: `make demo AS=iro KEEP=1` restarts as another person without loading the
    story afresh, so what the last person did is still there."""
    assert _cli(capsys, "demo", "--exit", "--port", "0")[0] == 0
    _on_demo_db(monkeypatch, env)
    _, out, _ = _cli(capsys, "audits", "--json")
    waiting = next(a["id"] for a in json.loads(out) if a["child_id"] == "4567890")
    code, _, err = _cli(
        capsys,
        "reassign",
        waiting,
        "moderator",
        "mo.moderator@council.example",
        "--reason",
        "Mona is away",
        "--by",
        "quinn.qa@council.example",
    )
    assert code == 0, err
    monkeypatch.delenv("AUDITBOT_DATABASE_URL")
    monkeypatch.delenv("AUDITBOT_ROLES_FILE")
    code, out, err = _cli(capsys, "demo", "--exit", "--port", "0", "--keep", "--as", "iro")
    assert code == 0, err
    assert "Carrying on with the demo data" in out and "Loading the demo month" not in out
    assert (
        "userPrincipleName: ian.chair@council.example"
        in ((env / "var/playground/.m365agentsplayground.yml").read_text().split("users:")[0])
    )
    _on_demo_db(monkeypatch, env)
    _, out, _ = _cli(capsys, "show", waiting, "--json")
    assert json.loads(out)["audit"]["participants"]["moderator"] == "mo.moderator@council.example"


class _Served:
    """The port of the demo's bot, as the Teams player wants it."""

    def __init__(self, port: int) -> None:
        self.port = port


async def test_what_is_done_in_chat_after_the_demo_loads_is_recorded_today(
    env, demo_env, connector
):
    """Item 1, through the demo's real endpoint: the IRO/CP chair of the audit just
    allocated opens the chat and adds comments; they are recorded today, in time, and
    the CLI (the real clock) and the bot agree."""
    import asyncio

    from cards import words
    from tests.support.teams import Teams, until

    iro = "ian.chair@council.example"
    bot_port = _free_port()
    command = [str(AUDITBOT), "demo", "--port", "0", "--bot-port", str(bot_port), "--no-playground"]
    demo = await asyncio.to_thread(
        subprocess.Popen,
        command,
        cwd=env,
        env=demo_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    try:
        assert demo.stdout is not None
        await asyncio.to_thread(_read_until, demo.stdout, r"Everything keeps running", seen)
        teams = Teams(_Served(bot_port), connector)  # type: ignore[arg-type]
        await teams.install(iro)

        async def asked() -> bool:
            try:
                teams.last_card(iro, words.ADD_COMMENTS)
            except AssertionError:
                return False
            return True

        await until(asked, seconds=30)
        await teams.press(iro, words.ADD_COMMENTS, {"comments": "Plan reviewed last week."})
    finally:
        demo.send_signal(signal.SIGTERM)
        await asyncio.to_thread(_stop, demo)
    listed = {**demo_env, "AUDITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{env / 'var/demo.db'}"}

    def cli(*argv: str) -> str:
        return subprocess.run(
            [str(AUDITBOT), *argv], cwd=env, env=listed, capture_output=True, text=True, check=True
        ).stdout

    waiting = next(a for a in json.loads(cli("audits", "--json")) if a["child_id"] == "4567890")
    shown = json.loads(cli("show", waiting["id"], "--json"))
    [comment] = shown["audit"]["iro_comments"]
    today = datetime.now(UTC).astimezone(UK).date()
    assert datetime.fromisoformat(comment["at"]).astimezone(UK).date() == today
    assert comment["late"] is False
    done = shown["audit"]["deadlines"]["iro_comments"]["done_at"]
    assert datetime.fromisoformat(done).astimezone(UK).date() == today
    assert waiting["next_deadline"]["step"] != "iro_comments" and not waiting["overdue"]
