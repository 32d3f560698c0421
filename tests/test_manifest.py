"""The Teams app package: built by `auditbot manifest build`, checked against the official
schema (vendored from the npm package @microsoft/app-manifest), with the icons Teams wants,
and commands that the bot really answers."""

from __future__ import annotations

import io
import json
import re
import shutil
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest
from aiohttp import web
from PIL import Image

from auditbot.app import App
from auditbot.cli import main
from bot.handler import AuditBot
from bot.server import BotCredentials, create_web_app, make_adapter
from cards import words
from tests.support.apps import started_app
from tests.support.council import allocate_sample
from tests.support.fake_connector import FakeConnector
from tests.support.people import AUDITOR
from tests.support.teams import activity as teams_activity

MANIFEST = Path(__file__).parent.parent / "manifest"
SCHEMA = json.loads((MANIFEST / "schema" / "MicrosoftTeams.schema.json").read_text())
BOT_ID = "3f2b8c1e-9d4a-4b6e-8f0a-1c2d3e4f5a6b"
PRIVACY = "https://www.council.example/privacy/case-file-audits"
TERMS = "https://www.council.example/terms/case-file-audits"


@pytest.fixture
def urls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("AUDITBOT_PRIVACY_URL", PRIVACY)
    monkeypatch.setenv("AUDITBOT_TERMS_URL", TERMS)
    return tmp_path


def _build(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main(["manifest", "build", "--bot-id", BOT_ID, *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_built_package_validates_and_carries_the_icons(urls, capsys):
    out = urls / "dist" / "auditbot.zip"
    code, said, _ = _build(
        capsys, "--out", str(out), "--domain", "https://auditbot.council.example/api/messages"
    )
    assert code == 0, said
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        color = Image.open(io.BytesIO(package.read("color.png")))
        outline = Image.open(io.BytesIO(package.read("outline.png")))

    jsonschema.Draft4Validator(SCHEMA).validate(manifest)
    assert manifest["manifestVersion"] == SCHEMA["properties"]["manifestVersion"]["const"]
    assert float(manifest["manifestVersion"]) >= 1.17
    assert manifest["bots"][0]["botId"] == BOT_ID
    assert manifest["bots"][0]["scopes"] == ["personal"]
    assert uuid.UUID(manifest["id"]) and manifest["id"] != BOT_ID
    assert manifest["developer"]["privacyUrl"] == PRIVACY
    assert manifest["developer"]["termsOfUseUrl"] == TERMS
    assert manifest["validDomains"] == ["auditbot.council.example"]
    assert "{{" not in json.dumps(manifest)
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}

    assert color.format == "PNG" and color.size == (192, 192)
    assert outline.format == "PNG" and outline.size == (32, 32)
    raw = outline.convert("RGBA").tobytes()
    pixels = [tuple(raw[i : i + 4]) for i in range(0, len(raw), 4)]
    drawn = [p for p in pixels if p[3] > 0]
    assert drawn and len(drawn) < len(pixels) / 2  # a shape on a transparent ground
    assert {p[:3] for p in drawn} == {(255, 255, 255)}  # white only


def test_same_bot_gives_the_same_app_id_and_a_given_version(urls, capsys):
    ids = []
    for name in ("a.zip", "b.zip"):
        assert _build(capsys, "--out", name, "--version", "1.4.2")[0] == 0
        with zipfile.ZipFile(urls / name) as package:
            manifest = json.loads(package.read("manifest.json"))
        ids.append(manifest["id"])
        assert manifest["version"] == "1.4.2"
    assert ids[0] == ids[1]  # an upgrade replaces the app instead of adding a second one


def test_build_needs_https_privacy_and_terms_urls(urls, capsys, monkeypatch):
    monkeypatch.delenv("AUDITBOT_PRIVACY_URL")
    code, _, err = _build(capsys)
    assert code == 1 and err.count("\n") == 1 and "AUDITBOT_PRIVACY_URL" in err
    monkeypatch.setenv("AUDITBOT_PRIVACY_URL", "http://www.council.example/privacy")
    code, _, err = _build(capsys)
    assert code == 1 and "AUDITBOT_PRIVACY_URL" in err and "https://" in err
    assert not (urls / "auditbot.zip").exists()


def test_build_refuses_a_bot_id_that_is_not_a_guid(urls, capsys):
    code = main(["manifest", "build", "--bot-id", "my-bot"])
    _, err = capsys.readouterr()
    assert code == 1 and "--bot-id" in err


def test_schema_is_applied_to_the_template(urls, capsys):
    """A template Teams would refuse is refused here, naming the field."""
    broken = urls / "template"
    shutil.copytree(MANIFEST, broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["name"]["short"] = "Children's social care case file audits"  # over 30
    (broken / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = _build(capsys, "--template-dir", str(broken))
    assert code == 1 and "name.short" in err

    shutil.copy(broken / "color.png", broken / "outline.png")  # 192×192 where 32×32 belongs
    manifest["name"]["short"] = "Case file audits"
    (broken / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = _build(capsys, "--template-dir", str(broken))
    assert code == 1 and "outline.png" in err


def _template_commands() -> list[dict[str, str]]:
    manifest = json.loads((MANIFEST / "manifest.json").read_text())
    (bot,) = manifest["bots"]
    (command_list,) = bot["commandLists"]
    assert command_list["scopes"] == ["personal"]
    return list(command_list["commands"])


def _typed_word(help_entry: str) -> str:
    """ "status <child's ID>" → "status": what Teams puts in the box when it is picked."""
    return re.sub(r"\s*<[^>]*>", "", help_entry).strip()


def test_manifest_commands_are_the_help_cards_commands():
    titles = [c["title"] for c in _template_commands()]
    assert titles == [_typed_word(command) for command, _ in words.COMMANDS]


# ------------------------------------------------------- the bot answers each command


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    """The first sample child allocated; the directory knows its auditor."""
    async with started_app(tmp_path, known=[AUDITOR]) as running:
        await allocate_sample(running.service, 1)
        yield running


@pytest.fixture
async def bot_url(app: App) -> AsyncIterator[str]:
    adapter = make_adapter(BotCredentials())
    web_app = create_web_app(adapter, AuditBot(app.services, frozenset(), adapter))
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/api/messages"  # type: ignore[union-attr]
    await runner.cleanup()


async def _say(url: str, connector: FakeConnector, text: str, n: int) -> list[dict[str, Any]]:
    before = len(connector.sent)
    activity = teams_activity(AUDITOR, f"act-{n}", connector.url, type="message", text=text)
    async with aiohttp.ClientSession() as http, http.post(url, json=activity) as response:
        assert response.status in (200, 201)
    return [s.body for s in connector.sent[before:]]


async def test_the_bot_answers_every_manifest_command(app, bot_url, connector):
    audit = (await app.service.list())[0]
    replies = {}
    for n, command in enumerate(_template_commands()):
        # A command with an argument ("status") is picked, then the person types the ID.
        wants_argument = any(
            _typed_word(entry) == command["title"] and "<" in entry for entry, _ in words.COMMANDS
        )
        text = f"{command['title']} {audit.child_id}" if wants_argument else command["title"]
        replies[text] = await _say(bot_url, connector, text, n)
    for text, sent in replies.items():
        assert sent, f"no answer to {text!r}"
        assert all(words.UNKNOWN not in (body.get("text") or "") for body in sent), text
    # The control: a word the bot does not know gets the "did not understand" answer.
    unknown = await _say(bot_url, connector, "frobnicate", 99)
    assert any(words.UNKNOWN in (body.get("text") or "") for body in unknown)


def test_the_package_names_the_bot_as_its_web_application(urls, capsys):
    out = urls / "auditbot.zip"
    code, said, _ = _build(capsys, "--out", str(out), "--domain", "auditbot.council.example")
    assert code == 0, said
    with zipfile.ZipFile(out) as package:
        manifest = json.loads(package.read("manifest.json"))
    assert manifest["manifestVersion"] == "1.30"
    assert manifest["webApplicationInfo"] == {
        "id": BOT_ID,
        "resource": f"api://auditbot.council.example/{BOT_ID}",
    }
    # Without a domain there is no resource to name: the package leaves it out.
    code, said, _ = _build(capsys, "--out", str(out))
    assert code == 0, said
    with zipfile.ZipFile(out) as package:
        assert "webApplicationInfo" not in json.loads(package.read("manifest.json"))
