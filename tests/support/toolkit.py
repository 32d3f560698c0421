"""The Microsoft 365 Agents Toolkit CLI (`atk`), installed from npm once into .venv, as the
tests and `make toolkit` use it to validate the Teams app package offline."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "@microsoft/m365agentstoolkit-cli"
VERSION = "1.1.17"
CACHE = ROOT / ".venv" / "m365agentstoolkit"
INSTALL_TIMEOUT = 900  # seconds: 550 npm packages, a minute or two from a warm cache


def toolkit_dir() -> Path:
    """The CLI's install folder, installing it first if it is not there (the npm client,
    with install scripts off: the optional keychain module would compile C++ otherwise)."""
    atk = CACHE / "node_modules" / ".bin" / "atk"
    if atk.exists():
        return CACHE
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not installed: the Agents Toolkit CLI comes from the npm registry")
    CACHE.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            npm,
            "install",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(CACHE),
            f"{PACKAGE}@{VERSION}",
        ],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    if done.returncode != 0 or not atk.exists():
        pytest.fail(f"could not install {PACKAGE}@{VERSION}: {done.stderr[-2000:]}")
    return CACHE


def atk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Runs the Toolkit CLI offline: no telemetry, no prompts."""
    env = {**os.environ, "TEAMSFX_TELEMETRY_TEST": "1", "CI": "true"}
    return subprocess.run(
        [str(toolkit_dir() / "node_modules" / ".bin" / "atk"), *args, "--telemetry", "false"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def app_manifest_schemas() -> Path:
    """The official Teams manifest schemas in @microsoft/app-manifest, as the CLI carries them."""
    return toolkit_dir() / "node_modules" / "@microsoft" / "app-manifest" / "build" / "json-schemas"


def project_schema(version: str) -> Path:
    """The Toolkit's own JSON schema of m365agents.yml for that version (e.g. v1.13)."""
    return (
        toolkit_dir()
        / "node_modules"
        / PACKAGE
        / "resource"
        / "yaml-schema"
        / version
        / "yaml.schema.json"
    )
