"""The Agents Toolkit project: the app package `auditbot manifest build` makes is validated
by the Toolkit CLI and the official schema; m365agents.yml follows the Toolkit's schema and
every variable it uses is given by the env templates, an earlier step or the Bicep."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

from auditbot.cli import main
from tests.support.toolkit import ROOT, app_manifest_schemas, atk, project_schema

BOT_ID = "3f2b8c1e-9d4a-4b6e-8f0a-1c2d3e4f5a6b"
APP_ID = "a0c4f1d2-7b3e-4c5d-9e6f-0a1b2c3d4e5f"
VENDORED = ROOT / "manifest" / "schema" / "MicrosoftTeams.schema.json"


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> tuple[Path, Path]:
    """The app package and its files unpacked, as provision's script step builds them."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUDITBOT_PRIVACY_URL", "https://www.council.example/privacy")
    monkeypatch.setenv("AUDITBOT_TERMS_URL", "https://www.council.example/terms")
    out, unpacked = tmp_path / "appPackage.dev.zip", tmp_path / "unpacked"
    code = main(
        [
            "manifest",
            "build",
            "--bot-id",
            BOT_ID,
            "--app-id",
            APP_ID,
            "--domain",
            "auditbot-dev.azurewebsites.net",
            "--version",
            "1.0.0",
            "--out",
            str(out),
            "--unpacked",
            str(unpacked),
        ]
    )
    assert code == 0, capsys.readouterr()
    return out, unpacked


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(n) for n in name.removeprefix("v").split("."))


def test_the_built_package_passes_the_toolkit_and_the_official_schema(package, tmp_path):
    out, unpacked = package
    with zipfile.ZipFile(out) as zipped:
        assert sorted(zipped.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(zipped.read("manifest.json"))
        assert json.loads((unpacked / "manifest.json").read_text()) == manifest
        extracted = tmp_path / "from-zip"
        zipped.extractall(extracted)

    # The official schema: the newest Teams one in @microsoft/app-manifest, which is
    # the one manifest/ vendors.
    teams = app_manifest_schemas() / "teams"
    newest = max(
        (p.name for p in teams.iterdir() if re.fullmatch(r"v\d+\.\d+", p.name)), key=_version
    )
    assert manifest["manifestVersion"] == newest.removeprefix("v")
    official = json.loads((teams / newest / "MicrosoftTeams.schema.json").read_text())
    assert json.loads(VENDORED.read_text()) == official
    jsonschema.Draft4Validator(official).validate(manifest)

    # The Toolkit CLI on the package's own manifest (with its icons beside it).
    done = atk("validate", "--manifest-file", str(extracted / "manifest.json"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All passed" in done.stdout


def test_the_toolkit_refuses_a_manifest_teams_would_refuse(package, tmp_path):
    _, unpacked = package
    manifest = json.loads((unpacked / "manifest.json").read_text())
    manifest["bots"][0]["botId"] = "not-a-guid"
    (unpacked / "manifest.json").write_text(json.dumps(manifest))
    done = atk("validate", "--manifest-file", str(unpacked / "manifest.json"), cwd=tmp_path)
    assert done.returncode != 0
    assert "botId" in done.stdout + done.stderr


def _project() -> dict:
    return yaml.safe_load((ROOT / "m365agents.yml").read_text())


def _env_keys(path: Path) -> set[str]:
    return {
        line.split("=", 1)[0].strip()
        for line in path.read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }


def test_the_project_file_follows_the_toolkit_schema():
    project = _project()
    schema = json.loads(project_schema(project["version"]).read_text())
    jsonschema.Draft7Validator(schema).validate(project)
    for stage in ("provision", "deploy", "publish"):
        assert project[stage], stage
    uses = {stage: [a["uses"] for a in project[stage]] for stage in ("provision", "publish")}
    assert "teamsApp/create" in uses["provision"] and "arm/deploy" in uses["provision"]
    assert uses["publish"][-2:] == ["teamsApp/publishAppPackage", "script"]
    publish = project["publish"][-2]
    assert publish["writeToEnvironmentFile"] == {"publishedAppId": "TEAMS_APP_PUBLISHED_APP_ID"}
    assert "AUDITBOT_TEAMS_APP_ID=${{TEAMS_APP_PUBLISHED_APP_ID}}" in project["publish"][-1][
        "with"
    ]["run"].replace("\n", " ")


def test_every_variable_the_project_uses_is_given():
    text = (ROOT / "m365agents.yml").read_text()
    project = _project()
    written = {
        name
        for stage in ("provision", "deploy", "publish")
        for action in project[stage]
        for name in (action.get("writeToEnvironmentFile") or {}).values()
    }
    # arm/deploy writes each Bicep output to the environment under its own name.
    bicep = (ROOT / "infra" / "main.bicep").read_text()
    outputs = set(re.findall(r"^output\s+(\w+)\s", bicep, flags=re.M))
    builtin = {"TEAMSFX_ENV"}
    for env in ("dev", "prod"):
        given = _env_keys(ROOT / "env" / f".env.{env}")
        used = set(re.findall(r"\$\{\{(\w+)\}\}", text))
        assert used - given - written - outputs - builtin == set(), env
        assert "TEAMSFX_ENV" in given
        # Nothing secret in the templates: the Bicep keeps secrets in Key Vault.
        assert not [k for k in given if re.search("SECRET|PASSWORD", k)], env
    parameters = json.loads((ROOT / "infra" / "main.parameters.json").read_text())
    for name in re.findall(r"\$\{\{(\w+)\}\}", json.dumps(parameters)):
        # SECRET_ variables live in env/.env.<name>.user (the Toolkit's, never committed).
        assert (
            name.startswith("SECRET_") or name in _env_keys(ROOT / "env" / ".env.dev") | written
        ), name
    for path in re.findall(r"(?:manifestPath|path|parameters|ignoreFile): (\./\S+)", text):
        if "${{" not in path and "/build/" not in path:
            assert (ROOT / path).exists(), path
