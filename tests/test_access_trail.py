"""The access trail: every way of opening an audit records who, when, which audit and
from where; `auditbot show --access` lists it, as text, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from auditbot.app import App
from auditbot.cli import main
from auditbot.serve import BotServer, serving
from cards.actions import Verb
from store import access_log
from tests.support.council import allocate_sample
from tests.support.fake_connector import FakeConnector
from tests.support.people import AUDITOR, IRO, QA_MANAGER, STRANGER
from tests.support.teams import Teams

README = Path(__file__).parent.parent / "README.md"


@pytest.fixture
async def server(app: App) -> AsyncIterator[BotServer]:
    async with serving(app, "127.0.0.1", 0) as running:
        yield running


@pytest.fixture
def teams(server: BotServer, connector: FakeConnector) -> Teams:
    return Teams(server, connector)


async def _trail(app: App, audit_id: str) -> list[tuple[str, str]]:
    async with app.db.reading() as conn:
        return [(a.person, a.via) for a in await access_log.accesses(conn, audit_id)]


async def test_opening_from_a_card_status_resume_and_details_is_recorded(teams, app):
    [audit] = await allocate_sample(app.service, 1)
    for who in (AUDITOR, IRO, QA_MANAGER, STRANGER):
        await teams.install(who)
    assert await _trail(app, audit.id) == []

    await teams.execute(AUDITOR, {"verb": Verb.OPEN_AUDIT, "audit_id": audit.id})
    assert await _trail(app, audit.id) == [(AUDITOR, "card")]

    await teams.say(IRO, f"status {audit.child_id}")
    assert (await _trail(app, audit.id))[-1] == (IRO, "chat")

    await teams.say(AUDITOR, "resume")
    assert (await _trail(app, audit.id))[-1] == (AUDITOR, "chat")

    await teams.execute(QA_MANAGER, {"verb": Verb.AUDIT_DETAILS, "audit_id": audit.id})
    assert (await _trail(app, audit.id))[-1] == (QA_MANAGER, "card")

    # A refused opening shows nothing, so it is a refusal (recorded there), not an access.
    await teams.execute(STRANGER, {"verb": Verb.OPEN_AUDIT, "audit_id": audit.id})
    await teams.say(STRANGER, f"status {audit.child_id}")
    assert len(await _trail(app, audit.id)) == 4
    assert STRANGER not in {who for who, _ in await _trail(app, audit.id)}


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUDITBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("AUDITBOT_ROLES_FILE", raising=False)
    monkeypatch.delenv("AUDITBOT_OPERATOR", raising=False)
    return tmp_path


def _readme_sample() -> str:
    match = re.search(r"```csv\n(.*?)```", README.read_text(), re.S)
    assert match
    return match.group(1)


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_show_is_recorded_and_the_trail_exported(env, capsys, monkeypatch):
    (env / "sample.csv").write_text(_readme_sample())
    code, out, err = _run(capsys, "allocate", "sample.csv")
    assert code == 0, err
    audit_id = out.split()[0]

    code, out, err = _run(capsys, "show", "--access", audit_id)
    assert code == 0, err
    assert "Nobody has opened" in out

    assert _run(capsys, "show", audit_id, "--by", "quinn@council.example")[0] == 0
    monkeypatch.setenv("AUDITBOT_OPERATOR", "maya@council.example")
    assert _run(capsys, "show", audit_id, "--json")[0] == 0
    monkeypatch.delenv("AUDITBOT_OPERATOR")
    assert _run(capsys, "show", audit_id)[0] == 0

    code, out, _ = _run(capsys, "show", "--access", audit_id, "--json")
    rows = json.loads(out)
    assert [(r["person"], r["via"]) for r in rows[:2]] == [
        ("quinn@council.example", "cli"),
        ("maya@council.example", "cli"),
    ]
    assert rows[2]["person"].startswith("local account") and rows[2]["via"] == "cli"
    # Listing the trail is not an opening of the audit.
    assert len(rows) == 3

    code, out, _ = _run(capsys, "show", "--access", audit_id, "--csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert [r["person"] for r in table] == [r["person"] for r in rows]
    assert set(table[0]) == {"at", "person", "audit_id", "via"}

    code, out, _ = _run(capsys, "show", "--access", audit_id)
    assert "quinn@council.example" in out and "cli" in out

    code, _, err = _run(capsys, "show", "--access", "209901-999")
    assert code == 1 and "There is no audit 209901-999" in err
    code, _, err = _run(capsys, "show", audit_id, "--csv")
    assert code == 1 and "--csv goes with --access" in err
