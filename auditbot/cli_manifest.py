"""`auditbot manifest build`: the Teams app package, from the template and icons in `manifest`.

The template, icons and schema are package data of the `manifest` package, read through
importlib.resources, so the command works from an installed package as from a checkout.
"""

from __future__ import annotations

import argparse
import json
import struct
import uuid
import zipfile
from collections.abc import Awaitable, Callable
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from audits.errors import ConfigError

if TYPE_CHECKING:
    from auditbot.app import App
    from auditbot.settings import Settings

ICONS = {"color.png": (192, 192), "outline.png": (32, 32)}


def template_folder() -> Traversable:
    """The installed `manifest` package: manifest.json, the two icons, schema/."""
    return resources.files("manifest")


def add_parsers(sub: Any) -> None:
    """Adds `manifest` to the `auditbot` parser."""
    p = sub.add_parser("manifest", help="the Teams app package")
    p.add_argument("action", choices=["build"])
    p.add_argument("--bot-id", required=True, help="the Azure Bot's MicrosoftAppId (a GUID)")
    p.add_argument("--out", type=Path, default=Path("auditbot.zip"))
    p.add_argument(
        "--app-id", help="the Teams app's id (a GUID); default: derived from the bot id, stable"
    )
    p.add_argument("--version", dest="app_version", help="the app's version, e.g. 1.2.0")
    p.add_argument("--domain", help="the bot's host name (default: AUDITBOT_BOT_DOMAIN)")
    p.add_argument(
        "--unpacked",
        type=Path,
        help="also write the package's files (manifest.json, icons) into this folder, "
        "for the Agents Toolkit's validateManifest",
    )
    p.add_argument("--template-dir", type=Path, default=None, help=argparse.SUPPRESS)


def _manifest(args: argparse.Namespace) -> int:
    from auditbot.settings import load_settings

    settings = load_settings(Path(".env") if Path(".env").is_file() else None)
    manifest = build_manifest(
        settings,
        bot_id=args.bot_id,
        app_id=args.app_id,
        version=args.app_version,
        domain=args.domain,
        template_dir=args.template_dir,
    )
    folder = args.template_dir or template_folder()
    write_package(manifest, args.out, folder)
    if args.unpacked:
        args.unpacked.mkdir(parents=True, exist_ok=True)
        (args.unpacked / "manifest.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        for icon in ICONS:
            (args.unpacked / icon).write_bytes((folder / icon).read_bytes())
    print(
        f"{args.out}: Teams app {manifest['id']} version {manifest['version']} "
        f"for bot {args.bot_id}"
    )
    return 0


def build_manifest(
    settings: Settings,
    bot_id: str,
    app_id: str | None = None,
    version: str | None = None,
    domain: str | None = None,
    template_dir: Traversable | None = None,
) -> dict[str, Any]:
    """The template with its placeholders filled, checked against the official schema."""
    from auditbot.settings import is_guid

    folder = template_dir or template_folder()
    if not is_guid(bot_id):
        raise ConfigError(f"--bot-id '{bot_id}' is not a GUID: use the Azure Bot's MicrosoftAppId")
    if app_id is not None and not is_guid(app_id):
        raise ConfigError(f"--app-id '{app_id}' is not a GUID")
    for name, value in (
        ("AUDITBOT_PRIVACY_URL", settings.privacy_url),
        ("AUDITBOT_TERMS_URL", settings.terms_url),
    ):
        if not value:
            raise ConfigError(
                f"{name} is not set: the Teams app package must link to the council's "
                "page for it (an https:// address)"
            )
    values = {
        "BOT_ID": bot_id.lower(),
        "APP_ID": (app_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"auditbot:{bot_id.lower()}"))),
        "VERSION": version or metadata.version("auditbot"),
        "DEVELOPER_NAME": settings.developer_name,
        "WEBSITE_URL": settings.website_url or str(settings.privacy_url),
        "PRIVACY_URL": str(settings.privacy_url),
        "TERMS_URL": str(settings.terms_url),
        "BOT_DOMAIN": _host(domain or settings.bot_domain or ""),
    }
    try:
        text = (folder / "manifest.json").read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{folder / 'manifest.json'}: cannot be read ({exc.strerror})") from None
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", json.dumps(value)[1:-1])
    manifest: dict[str, Any] = json.loads(text)
    manifest["validDomains"] = [d for d in manifest.get("validDomains", []) if d]
    if not values["BOT_DOMAIN"]:
        # Its resource is api://<domain>/<bot id>: without the domain there is none to give.
        manifest.pop("webApplicationInfo", None)
    if "{{" in json.dumps(manifest):
        raise ConfigError(f"{folder / 'manifest.json'} has a placeholder that nothing fills")
    problems = manifest_problems(manifest, folder)
    if problems:
        raise ConfigError(f"the Teams app manifest is not valid: {problems[0]}")
    return manifest


def manifest_problems(manifest: dict[str, Any], folder: Traversable | None = None) -> list[str]:
    """What Teams would refuse: the official schema, plus https links and the icons' sizes."""
    import jsonschema

    folder = folder or template_folder()
    schema = json.loads((folder / "schema" / "MicrosoftTeams.schema.json").read_text("utf-8"))
    validator = jsonschema.Draft4Validator(schema)
    problems = [
        f"{'.'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}"
        for e in sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
    ]
    developer = manifest.get("developer", {})
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        if not str(developer.get(key, "")).lower().startswith("https://"):
            problems.append(f"developer.{key}: Teams needs an https:// address")
    for icon, size in ICONS.items():
        found = png_size(folder / icon)
        if found != size:
            problems.append(f"{icon}: must be a {size[0]}×{size[1]} PNG (found {found})")
    return problems


def write_package(manifest: dict[str, Any], out: Path, folder: Traversable) -> None:
    """The zip Teams takes: manifest.json and the two icons, at the root."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        for icon in ICONS:
            package.writestr(icon, (folder / icon).read_bytes())


def png_size(path: Traversable) -> tuple[int, int] | None:
    """Width and height from a PNG's header; None when the file is missing or no PNG.

    Read by hand: 24 bytes of a fixed header, where Pillow is only a dev dependency."""
    try:
        with path.open("rb") as f:
            head = f.read(24)
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def _host(domain: str) -> str:
    """A host name, also from a pasted URL such as https://bot.example/api/messages."""
    domain = domain.strip()
    if "://" in domain:
        domain = urlsplit(domain).hostname or ""
    return domain.strip("/")


COMMANDS: dict[str, Callable[[App, argparse.Namespace], Awaitable[int]]] = {}
PLAIN_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"manifest": _manifest}
