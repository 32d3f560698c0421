"""`auditbot doctor`: every setting and connection checked, each failure with its fix.

The Graph token is asked for through the same MSAL client the bot uses
(`graph.client.msal_app`), so a pass here means the bot's own sign-in works.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import ssl
import sys
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audits.errors import AuditError

if TYPE_CHECKING:
    from auditbot.app import App
    from auditbot.settings import Settings

BOT_LOGIN_URL = "https://login.microsoftonline.com"
BOT_SCOPE = "https://api.botframework.com/.default"
CHECK_TIMEOUT = 20.0  # seconds for any one doctor check


def add_parsers(sub: Any) -> None:
    """Adds `doctor` to the `auditbot` parser."""
    p = sub.add_parser(
        "doctor", help="check every setting and connection; explain each failure and its fix"
    )
    p.add_argument(
        "--mailbox",
        help="a staff mailbox to check calendar access with "
        "(default: the first QA officer in AUDITBOT_ROLES_FILE, else AUDITBOT_MAIL_SENDER)",
    )


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: not applicable here, not a failure
    detail: str
    warn: bool = False  # passes, but needs doing soon (e.g. a certificate near expiry)

    def line(self) -> str:
        mark = (
            "warn" if self.warn and self.ok else {True: "ok", False: "FAIL", None: "skip"}[self.ok]
        )
        return f"{mark:<5} {self.name:<18} {self.detail}"


def _doctor(args: argparse.Namespace) -> int:
    checks = asyncio.run(
        run_doctor(Path(".env") if Path(".env").is_file() else None, mailbox=args.mailbox)
    )
    for check in checks:
        print(check.line(), flush=True)
    failed = [c for c in checks if c.ok is False]
    if failed:
        print(f"{len(failed)} check{'s' if len(failed) != 1 else ''} failed", file=sys.stderr)
        return 1
    return 0


async def run_doctor(
    env_file: Path | None = None,
    mailbox: str | None = None,
    bot_login_url: str = BOT_LOGIN_URL,
    bot_ca_bundle: str | None = None,
) -> list[Check]:
    """Every check, in order. Later checks are skipped when what they need is missing."""
    from pydantic import ValidationError

    from auditbot.settings import Settings, validation_problems

    checks: list[Check] = []
    try:
        settings = Settings(_env_file=env_file)
    except ValidationError as exc:
        return [Check("settings", False, p + _SETTING_FIX) for p in validation_problems(exc)]
    problems = settings.problems()
    checks += [Check("settings", False, p) for p in problems]
    if not problems:
        checks.append(Check("settings", True, _settings_summary(settings)))
    checks.append(_catalog_check(settings))
    roles, roles_check = _roles_check(settings)
    checks.append(roles_check)
    checks.append(await _timed("database", _database_check(settings)))
    if not settings.graph_url:
        checks.append(
            Check(
                "microsoft 365",
                None,
                "AUDITBOT_GRAPH_URL is not set: no calendars, SharePoint filing or e-mail "
                "(set the AUDITBOT_GRAPH_* settings to turn them on)",
            )
        )
    elif not any("AUDITBOT_GRAPH_URL is set" in p for p in problems):
        mailbox = mailbox or (roles[0] if roles else None) or settings.mail_sender
        checks.append(graph_credential_check(settings))
        checks += await _graph_checks(settings, mailbox)
    if settings.app_id:
        checks.append(bot_credential_check(settings))
    checks.append(
        await _timed("bot credentials", _bot_check(settings, bot_login_url, bot_ca_bundle))
    )
    return checks


_SETTING_FIX = " (fix it in the environment or .env; see docs/deploy.md)"


def _settings_summary(settings: Settings) -> str:
    database = "SQLite" if settings.database_url.startswith("sqlite") else "PostgreSQL"
    graph = "Microsoft Graph" if settings.graph_url else "no Microsoft 365"
    bot = f"bot {settings.app_type}" if settings.app_id else "bot anonymous"
    tenants = ", ".join(sorted(settings.tenants)) or "any tenant"
    return f"all well formed: {database}, {graph}, {bot}, serving {tenants}"


def _catalog_check(settings: Settings) -> Check:
    from audits.catalog import load_catalog

    try:
        catalog = load_catalog(settings.config_dir, settings.default_policy)
    except AuditError as exc:
        return Check("templates", False, f"{exc} (fix the file, or AUDITBOT_CONFIG_DIR)")
    if settings.default_policy not in catalog.policies:
        return Check(
            "templates",
            False,
            f"AUDITBOT_DEFAULT_POLICY '{settings.default_policy}' is not a policy "
            f"(known: {', '.join(sorted(catalog.policies))})",
        )
    return Check(
        "templates",
        True,
        f"{_count(catalog.templates, 'audit tool')}, {_count(catalog.policies, 'policy', 'policies')}, "
        f"default policy {settings.default_policy}",
    )


def _roles_check(settings: Settings) -> tuple[list[str], Check]:
    from audits.roles import load_standing_roles

    if settings.roles_file is None:
        return [], Check(
            "standing roles",
            False,
            "AUDITBOT_ROLES_FILE is not set: nobody is QA officer or QA manager, so "
            "escalations reach no one. Point it at a YAML file like auditbot/demo/roles.yaml",
        )
    try:
        roles = load_standing_roles(settings.roles_file)
    except (AuditError, OSError) as exc:
        return [], Check("standing roles", False, f"AUDITBOT_ROLES_FILE: {exc}")
    if not roles.qa_officers or not roles.qa_managers:
        return list(roles.qa_officers), Check(
            "standing roles",
            False,
            f"{settings.roles_file} names no QA "
            f"{'officer' if not roles.qa_officers else 'manager'}: escalations would reach "
            "no one; add them to the file",
        )
    return list(roles.qa_officers), Check(
        "standing roles",
        True,
        f"{_count(roles.qa_officers, 'QA officer')}, {_count(roles.qa_managers, 'QA manager')}, "
        f"{_count(roles.heads_of_service, 'service area')} with a head of service",
    )


def _count(items: Any, one: str, many: str | None = None) -> str:
    return f"{len(items)} {one if len(items) == 1 else (many or one + 's')}"


async def _timed(name: str, check: Awaitable[Check]) -> Check:
    try:
        return await asyncio.wait_for(check, CHECK_TIMEOUT)
    except TimeoutError:
        return Check(name, False, f"no answer within {CHECK_TIMEOUT:g} seconds: {_NETWORK_FIX}")


_NETWORK_FIX = "check the address, DNS, firewall and any outbound proxy from this machine"


async def _database_check(settings: Settings) -> Check:
    from sqlalchemy.exc import SQLAlchemyError

    from store.db import Database, head_revision

    try:
        db = Database(settings.database_url)
    except AuditError as exc:
        return Check("database", False, str(exc))
    try:
        current = await db.current_revision()
    except (OSError, SQLAlchemyError) as exc:
        text = str(getattr(exc, "orig", None) or exc).splitlines()[0][:160]
        return Check(
            "database",
            False,
            f"cannot reach AUDITBOT_DATABASE_URL ({text}): check the host, port, user, "
            "password and database name; on Azure allow this app through the server's firewall",
        )
    finally:
        await db.dispose()
    head = head_revision()
    where = "SQLite file" if db.is_sqlite else f"PostgreSQL at {db.url.host}"
    if current == head:
        return Check("database", True, f"{where}, schema {current} (up to date)")
    if db.is_sqlite:
        return Check(
            "database", True, f"{where}, schema {current or 'none'}: upgraded to {head} at start"
        )
    return Check(
        "database",
        False,
        f"{where} has schema {current or 'none'} but this version needs {head}: "
        "run `auditbot db upgrade`",
    )


# Entra ID's error codes (AADSTS…) and what an admin should change for each.
_TOKEN_FIXES = {
    7000215: "{secret} was refused: it is wrong or is the secret's ID. Make a new client "
    "secret (Entra ID > App registrations > Certificates & secrets) and copy its Value",
    7000222: "{secret} has expired: make a new client secret and set it",
    700016: "{client} is not an app in this tenant: copy the Application (client) ID "
    "from the app registration, and check the tenant",
    90002: "the tenant in {authority} does not exist: use your Directory (tenant) ID",
    900023: "the tenant in {authority} is not a valid tenant id or domain",
    1002012: "the scope was refused (this is a bug in auditbot: please report it)",
    7000216: "no credential was sent: set {secret} (or a certificate)",
    700027: "the certificate {certificate} is not on the app registration, or has expired "
    "there: upload its public part (App registrations > Certificates & secrets > "
    "Certificates) and check the thumbprint",
    700024: "the signed assertion was outside its valid time: check this machine's clock",
    700021: "the assertion names another app than {client}",
    700023: "the assertion was made for another tenant than {authority}'s",
    70021: "no federated credential on app {client} trusts this managed identity: add one "
    "(App registrations > Certificates & secrets > Federated credentials > Managed identity)",
}

EXPIRY_WARNING_DAYS = 30


def _expiry(what: str, expires: dt.datetime | None, today: dt.datetime) -> tuple[bool, bool, str]:
    """(ok, warn, text) for a credential that expires then."""
    if expires is None:
        return True, False, ""
    days = (expires - today).days
    if expires <= today:
        return False, False, f"{what} expired on {expires:%d %B %Y}: renew it now"
    if days <= EXPIRY_WARNING_DAYS:
        return True, True, f"{what} expires in {days} days ({expires:%d %B %Y}): renew it soon"
    return True, False, f"{what} valid until {expires:%d %B %Y}"


def _midnight(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) if day else None


def graph_credential_check(settings: Settings, now: dt.datetime | None = None) -> Check:
    """Which credential Graph is signed in with, and when it runs out where that can be read."""
    return _credential_check(
        "graph credential",
        settings.graph_credential_kind,
        settings.client_id or "",
        settings.client_certificate,
        settings.client_certificate_password,
        _midnight(settings.client_secret_expires),
        "AUDITBOT_CLIENT_SECRET_EXPIRES",
        settings.managed_identity_client_id,
        now,
    )


def bot_credential_check(settings: Settings, now: dt.datetime | None = None) -> Check:
    kind = (
        "managed_identity"
        if settings.app_type == "UserAssignedMSI"
        else ("certificate" if settings.bot_certificate else "secret")
    )
    return _credential_check(
        "bot credential",
        kind,
        settings.app_id or "",
        settings.bot_certificate,
        settings.bot_certificate_password,
        _midnight(settings.bot_secret_expires),
        "AUDITBOT_BOT_SECRET_EXPIRES",
        settings.app_id,
        now,
    )


def _credential_check(
    name: str,
    kind: str,
    app_id: str,
    certificate: Path | None,
    password: str | None,
    secret_expires: dt.datetime | None,
    expires_setting: str,
    identity: str | None,
    now: dt.datetime | None,
) -> Check:
    today = now or dt.datetime.now(dt.UTC)
    if kind == "certificate":
        from graph.credentials import CertificateError, load_certificate

        assert certificate is not None
        try:
            cert = load_certificate(certificate, password)
        except CertificateError as exc:
            return Check(name, False, str(exc))
        ok, warn, text = _expiry("it is", cert.not_after, today)
        return Check(
            name, ok, f"certificate {cert.thumbprint} of app {app_id} ({certificate}): {text}", warn
        )
    if kind == "managed_identity":
        return Check(name, True, f"managed identity {identity}: no secret to expire")
    if kind == "federated":
        return Check(
            name,
            True,
            f"app {app_id} through managed identity {identity} (federated credential): "
            "no secret to expire",
        )
    if secret_expires is None:
        return Check(
            name,
            True,
            f"client secret of app {app_id}: its expiry cannot be read with auditbot's "
            f"permissions; set {expires_setting} to be warned, or use a certificate or the "
            "managed identity (docs/deploy.md)",
        )
    ok, warn, text = _expiry("it is", secret_expires, today)
    return Check(name, ok, f"client secret of app {app_id}: {text}", warn)


def _token_problem(result: dict[str, Any], names: dict[str, str]) -> str:
    codes = result.get("error_codes") or []
    for code in codes:
        if code in _TOKEN_FIXES:
            return _TOKEN_FIXES[code].format(**names) + f" (AADSTS{code})"
    description = str(result.get("error_description") or "").splitlines()
    return f"token refused: {result.get('error')}: {description[0][:160] if description else ''}"


def _acquire_graph_token(settings: Settings) -> dict[str, Any]:
    from graph.credentials import SignIn

    return SignIn(settings.graph_settings()).acquire()


async def _graph_token_check(settings: Settings) -> Check:
    import requests

    from graph.credentials import CertificateError, describe

    names = {
        "secret": "AUDITBOT_CLIENT_SECRET",
        "client": "AUDITBOT_CLIENT_ID",
        "authority": "AUDITBOT_AUTHORITY",
        "certificate": "AUDITBOT_CLIENT_CERTIFICATE",
    }
    try:
        result = await asyncio.to_thread(_acquire_graph_token, settings)
    except CertificateError as exc:
        return Check("graph token", False, f"AUDITBOT_CLIENT_CERTIFICATE: {exc}")
    except requests.RequestException as exc:
        return Check(
            "graph token",
            False,
            f"cannot reach AUDITBOT_AUTHORITY {settings.authority} ({type(exc).__name__}): "
            + _NETWORK_FIX,
        )
    except ValueError as exc:  # MSAL: the authority's metadata could not be read
        return Check(
            "graph token",
            False,
            f"AUDITBOT_AUTHORITY {settings.authority} is not a tenant's sign-in address "
            f"({str(exc).splitlines()[0][:120]}): use "
            "https://login.microsoftonline.com/<Directory (tenant) ID>",
        )
    if "access_token" not in result:
        return Check("graph token", False, _token_problem(result, names))
    return Check(
        "graph token",
        True,
        f"{describe(settings.graph_settings())} signed in at {settings.authority}",
    )


async def _graph_checks(settings: Settings, mailbox: str | None) -> list[Check]:
    token = await _timed("graph token", _graph_token_check(settings))
    if not token.ok:
        return [token]
    from graph.client import MsGraph

    graph = MsGraph(settings.graph_settings())
    checks = [token]
    try:
        for name, probe in _graph_probes(graph, mailbox):
            if name == "tracker list" and checks[-1].ok is False:
                probe.close()  # the list cannot be found on a site that cannot be reached
                checks.append(Check(name, None, "not checked: the site above failed"))
                continue
            checks.append(await _timed(name, probe))
    finally:
        await graph.close()
    return checks


def _graph_probes(graph: Any, mailbox: str | None) -> list[tuple[str, Coroutine[Any, Any, Check]]]:
    s = graph.settings
    client = graph.client
    site = client.sites.by_site_id(s.site_id)
    probes: list[tuple[str, Coroutine[Any, Any, Check]]] = [
        (
            "sharepoint site",
            _probe(
                "sharepoint site",
                lambda: site.drive.get(),
                f"site {s.site_id}: document library found",
                {
                    404: f"AUDITBOT_SHAREPOINT_SITE '{s.site_id}' was not found: use the site id "
                    "from GET https://graph.microsoft.com/v1.0/sites/<host>:/sites/<site name>",
                    403: f"the app may not use site {s.site_id}: grant it Sites.Selected "
                    "with a write permission on this site (docs/deploy.md)",
                },
            ),
        ),
        ("tracker list", _tracker_check(graph)),
    ]
    if mailbox:
        probes += [
            ("directory", _directory_check(graph, mailbox)),
            ("calendar", _calendar_check(graph, mailbox)),
        ]
    else:
        probes.append(("calendar", _skipped("calendar", "no mailbox to try: give --mailbox")))
    if s.mail_sender:
        probes.append(("mail sender", _mail_sender_check(graph, s.mail_sender)))
    else:
        probes.append(
            (
                "mail sender",
                _failed(
                    "mail sender",
                    "AUDITBOT_MAIL_SENDER is not set: case-of-concern e-mails cannot be sent; "
                    "set it to the shared mailbox they come from",
                ),
            )
        )
    # The Teams app's catalog id (AUDITBOT_TEAMS_APP_ID) is checked here too, once the
    # app is looked up in the catalog (issue 18, "reaching people").
    return probes


async def _tracker_check(graph: Any) -> Check:
    """The list, every column auditbot writes (internal name and type) and the index on
    AuditId, as `auditbot setup sharepoint` makes them."""
    from application.ports import GraphError
    from application.tracker_list import TRACKER_COLUMNS
    from graph.provisioning import check_tracker

    s = graph.settings
    try:
        state = await check_tracker(graph)
    except GraphError as exc:
        if exc.status == 403:
            return Check(
                "tracker list",
                False,
                f"the app may not read the lists of site {s.site_id}: grant it Sites.Selected "
                f"with the 'write' role on the site (docs/deploy.md) (HTTP 403 {exc.code or ''})",
            )
        return Check("tracker list", False, f"cannot read the tracker list: {exc}")
    setup = "run `auditbot setup sharepoint` to make it"
    if state.list_id is None:
        return Check(
            "tracker list",
            False,
            f"there is no list '{s.tracker_list}' on the site (AUDITBOT_TRACKER_LIST): {setup}",
        )
    problems = list(state.wrong)
    if state.missing:
        names = ", ".join(c.name for c in state.missing)
        problems.append(f"it has no column {names}: {setup.replace(' it', ' them')}")
    for column, _ in state.not_indexed:
        problems.append(
            f"column {column.name} is not indexed, so SharePoint refuses to find an audit's "
            f"item by it: {setup.replace('make it', 'index it')}"
        )
    if problems:
        return Check("tracker list", False, f"list '{s.tracker_list}': " + "; ".join(problems))
    indexed = ", ".join(c.name for c in TRACKER_COLUMNS if c.indexed)
    return Check(
        "tracker list",
        True,
        f"list '{s.tracker_list}': all {len(TRACKER_COLUMNS)} columns of the right types, "
        f"{indexed} indexed",
    )


async def _directory_check(graph: Any, mailbox: str) -> Check:
    """Looked up as the bot looks people up: by UPN, then by mail address or alias."""
    from application.ports import GraphError

    try:
        found = (await graph.resolve([mailbox])).get(mailbox)
    except GraphError as exc:
        fix = "grant User.Read.All and admin consent" if exc.status == 403 else str(exc)
        return Check("directory", False, f"cannot look {mailbox} up: {fix}")
    if found is None:
        return Check(
            "directory",
            False,
            f"{mailbox} is not in the directory (neither a UPN nor a mail address or alias): "
            "check the address (--mailbox, AUDITBOT_ROLES_FILE or AUDITBOT_MAIL_SENDER)",
        )
    also = "" if found.upn == mailbox.lower() else f" (UPN {found.upn})"
    return Check("directory", True, f"{mailbox} found in the directory{also}")


async def _calendar_check(graph: Any, mailbox: str) -> Check:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.users.item.events.events_request_builder import EventsRequestBuilder

    query = EventsRequestBuilder.EventsRequestBuilderGetQueryParameters(top=1, select=["id"])
    user = graph.client.users.by_user_id(await _user_ref(graph, mailbox))
    return await _probe(
        "calendar",
        lambda: user.events.get(RequestConfiguration(query_parameters=query)),
        f"{mailbox}'s calendar can be read and written",
        {
            404: f"{mailbox} has no mailbox: give them an Exchange Online licence",
            403: f"the app may not use {mailbox}'s calendar: grant Calendars.ReadWrite, "
            "and include the mailbox in its Exchange RBAC scope or application "
            "access policy",
        },
    )


async def _mail_sender_check(graph: Any, sender: str) -> Check:
    """The sender must be a mailbox, not only an account: its mailbox settings answer
    404 MailboxNotEnabledForRESTAPI where Exchange Online has no mailbox for it."""
    user = graph.client.users.by_user_id(sender)
    check = await _probe(
        "mail sender",
        lambda: user.mailbox_settings.get(),
        f"{sender} has a mailbox the app may send from",
        {
            404: f"AUDITBOT_MAIL_SENDER '{sender}' is not a mailbox the app can find: use "
            "the shared mailbox's UPN, and check that it has an Exchange Online mailbox",
            403: f"the app may not use {sender}'s mailbox: grant Mail.Send, and include "
            "the mailbox in the app's Exchange RBAC scope or application access policy",
        },
    )
    if not check.ok and "MailboxNotEnabledForRESTAPI" in check.detail:
        return Check(
            "mail sender",
            False,
            f"AUDITBOT_MAIL_SENDER '{sender}' is an account without an Exchange Online "
            "mailbox, so no e-mail can be sent from it: use a shared mailbox (Exchange "
            "admin centre > Recipients > Mailboxes) and set its address "
            "(HTTP 404 MailboxNotEnabledForRESTAPI)",
        )
    return check


async def _user_ref(graph: Any, address: str) -> str:
    """The person's object id where the directory knows the address, else the address."""
    from application.ports import GraphError

    try:
        found = (await graph.resolve([address])).get(address)
    except GraphError:
        return address
    return found.id if found is not None else address


async def _skipped(name: str, detail: str) -> Check:
    return Check(name, None, detail)


async def _failed(name: str, detail: str) -> Check:
    return Check(name, False, detail)


async def _probe(
    name: str, call: Callable[[], Awaitable[Any]], ok: str, fixes: dict[int, str]
) -> Check:
    import httpx
    from kiota_abstractions.api_error import APIError

    from application.ports import GraphError

    try:
        await call()
    except APIError as exc:
        status = exc.response_status_code or 0
        code = getattr(getattr(exc, "error", None), "code", None)
        fix = fixes.get(status) or (
            f"Graph answered {status}: the app's permissions are missing or not consented"
            if status in (401, 403)
            else f"Graph answered {status}: try again later; if it stays, see docs/deploy.md"
        )
        return Check(name, False, f"{fix} (HTTP {status}{' ' + code if code else ''})")
    except GraphError as exc:
        return Check(name, False, str(exc))
    except httpx.HTTPError as exc:
        return Check(
            name, False, f"cannot reach AUDITBOT_GRAPH_URL ({type(exc).__name__}): {_NETWORK_FIX}"
        )
    return Check(name, True, ok)


async def _bot_check(settings: Settings, login_url: str, ca_bundle: str | None) -> Check:
    if not settings.app_id:
        return Check(
            "bot credentials",
            None,
            "MicrosoftAppId is not set: the bot accepts unauthenticated requests, which is "
            "only for a local client such as the Agents Playground ('serve' listens only "
            "on 127.0.0.1 then, unless told --dangerously-allow-unauthenticated)",
        )
    if settings.app_type == "UserAssignedMSI":
        return Check(
            "bot credentials", None, "a managed identity: only Azure can check it, at run time"
        )
    tenant = (
        settings.app_tenant_id
        if settings.app_type == "SingleTenant" and settings.app_tenant_id
        else "botframework.com"
    )
    if settings.bot_certificate:
        return await _bot_certificate_check(settings, tenant, login_url, ca_bundle)
    return await check_bot_credentials(
        settings.app_id, settings.app_password or "", tenant, login_url, ca_bundle
    )


async def _bot_certificate_check(
    settings: Settings, tenant: str, login_url: str, ca_bundle: str | None
) -> Check:
    """A Bot Framework token signed for with the bot's certificate, through MSAL as
    botbuilder's certificate credentials ask for it."""
    import msal
    import requests

    from graph.credentials import CertificateError, load_certificate

    names = {
        "secret": "MicrosoftAppPassword",
        "client": "MicrosoftAppId",
        "authority": "MicrosoftAppTenantId",
        "certificate": "AUDITBOT_BOT_CERTIFICATE",
    }
    assert settings.bot_certificate and settings.app_id

    def acquire() -> dict[str, Any]:
        cert = load_certificate(settings.bot_certificate or "", settings.bot_certificate_password)
        session = requests.Session()
        session.trust_env = ca_bundle is None
        if ca_bundle:
            session.verify = ca_bundle
        app = msal.ConfidentialClientApplication(
            settings.app_id,
            client_credential={
                "thumbprint": cert.thumbprint,
                "private_key": cert.private_key_pem,
            },
            authority=f"{login_url.rstrip('/')}/{tenant}",
            instance_discovery=False,
            http_client=session,
        )
        result: dict[str, Any] = app.acquire_token_for_client([BOT_SCOPE])
        return result

    try:
        result = await asyncio.to_thread(acquire)
    except CertificateError as exc:
        return Check("bot credentials", False, f"AUDITBOT_BOT_CERTIFICATE: {exc}")
    except (requests.RequestException, ValueError) as exc:
        return Check(
            "bot credentials",
            False,
            f"cannot reach {login_url} ({type(exc).__name__}): {_NETWORK_FIX}",
        )
    if "access_token" in result:
        return Check(
            "bot credentials",
            True,
            f"bot {settings.app_id} got a Bot Framework token with its certificate",
        )
    return Check("bot credentials", False, _token_problem(result, names))


async def check_bot_credentials(
    app_id: str,
    password: str,
    tenant: str,
    login_url: str = BOT_LOGIN_URL,
    ca_bundle: str | None = None,
) -> Check:
    """Asks the identity platform for a Bot Framework token, as the bot does to reply."""
    import aiohttp

    url = f"{login_url.rstrip('/')}/{tenant}/oauth2/v2.0/token"
    form = {
        "grant_type": "client_credentials",
        "client_id": app_id,
        "client_secret": password,
        "scope": BOT_SCOPE,
    }
    tls: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
    names = {
        "secret": "MicrosoftAppPassword",
        "client": "MicrosoftAppId",
        "authority": "MicrosoftAppTenantId",
        "certificate": "AUDITBOT_BOT_CERTIFICATE",
    }
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=CHECK_TIMEOUT)) as http,
            http.post(url, data=form, ssl=tls) as response,
        ):
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        return Check(
            "bot credentials",
            False,
            f"cannot reach {login_url} ({type(exc).__name__}): {_NETWORK_FIX}",
        )
    if isinstance(body, dict) and "access_token" in body:
        return Check("bot credentials", True, f"bot {app_id} got a Bot Framework token")
    result = body if isinstance(body, dict) else {}
    return Check("bot credentials", False, _token_problem(result, names))


COMMANDS: dict[str, Callable[[App, argparse.Namespace], Awaitable[int]]] = {}
PLAIN_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"doctor": _doctor}
