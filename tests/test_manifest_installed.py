"""`auditbot manifest build` from an installed package, not from the checkout.

The build copies what an install would (setuptools' `build_py`, from pyproject.toml's
packages and package data, as `pip install .` in the Docker image does from a copy
with no git) into a folder outside the checkout, and runs the command there with only
that folder on the path ahead of the editable install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

from auditbot.cli_manifest import ICONS, png_size, template_folder

ROOT = Path(__file__).resolve().parent.parent
BOT_ID = "3f2b8c1e-9d4a-4b6e-8f0a-1c2d3e4f5a6b"
# What the Docker image copies into its build stage (every package pyproject.toml names).
SOURCES = ["pyproject.toml", "README.md"]
PACKAGES = ["auditbot", "application", "audits", "store", "cards", "bot", "graph"]
PACKAGES += ["scheduling", "reports", "sandbox", "manifest"]


def test_the_template_and_icons_are_read_as_package_data() -> None:
    folder = template_folder()
    assert folder == resources.files("manifest")
    assert json.loads((folder / "manifest.json").read_text("utf-8"))["bots"]
    assert (folder / "schema" / "MicrosoftTeams.schema.json").is_file()
    for icon, size in ICONS.items():
        assert png_size(folder / icon) == size


def test_the_docker_image_copies_every_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in PACKAGES:
        assert f"COPY {package} {package}\n" in dockerfile, package


def test_manifest_build_works_from_an_installed_package(tmp_path: Path) -> None:
    source, lib, elsewhere = tmp_path / "src", tmp_path / "lib", tmp_path / "run"
    source.mkdir()
    elsewhere.mkdir()
    for name in SOURCES:
        shutil.copy(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    build = ["build_py", "--build-lib", str(lib)]
    subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "-q", *build],
        cwd=source,
        check=True,
        capture_output=True,
        timeout=120,
    )
    shutil.rmtree(source)  # nothing of a source tree is left to fall back on
    run = (
        "import sys, auditbot, manifest; from auditbot.cli import main; "
        "print(auditbot.__file__); print(manifest.__file__); "
        f"sys.exit(main(['manifest', 'build', '--bot-id', '{BOT_ID}', '--out', 'app.zip']))"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(lib),
        "AUDITBOT_PRIVACY_URL": "https://www.council.example/privacy",
        "AUDITBOT_TERMS_URL": "https://www.council.example/terms",
    }
    done = subprocess.run(
        [sys.executable, "-c", run],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    auditbot_file, manifest_file, said = done.stdout.splitlines()
    assert Path(auditbot_file).is_relative_to(lib)
    assert Path(manifest_file).is_relative_to(lib)
    assert said.startswith("app.zip: Teams app ") and said.endswith(f"for bot {BOT_ID}")
    with zipfile.ZipFile(elsewhere / "app.zip") as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert json.loads(package.read("manifest.json"))["bots"][0]["botId"] == BOT_ID
        assert package.read("color.png") == (ROOT / "manifest" / "color.png").read_bytes()
