"""Credentials without long-lived secrets: the Graph app signs in with a certificate (MSAL's
certificate credential, a client assertion the sandbox checks as Entra does), the bot with
botbuilder's certificate credentials, and `doctor` says which is in use and when it runs out."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import io
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from botframework.connector.auth import CertificateServiceClientCredentialsFactory
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from auditbot.app import bot_credentials
from auditbot.cli import main
from auditbot.cli_doctor import _bot_check, bot_credential_check, graph_credential_check
from bot.server import _credentials_factory
from sandbox import CLIENT_ID, TENANT, RunningSandbox
from sandbox.credentials import (
    ASSERTION_TYPE,
    ensure_client_certificate,
    make_certificate,
    register_certificate,
)
from sandbox.managed_identity import IDENTITY_CLIENT_ID, identity_header
from tests.support.apps import settings, started_app
from tests.support.council import ROLES_FILE, allocate_sample
from tests.support.people import AUDITOR, IRO

BOT_ID = "3f2b8c1e-9d4a-4b6e-8f0a-1c2d3e4f5a6b"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"


async def _send_all(app: Any) -> None:
    for _ in range(20):
        if not await app.dispatcher.drain():
            return


async def test_the_bot_runs_an_allocation_with_a_certificate_credential(
    sandbox: RunningSandbox, tmp_path: Path
):
    env = sandbox.certificate_env()
    assert "AUDITBOT_CLIENT_SECRET" not in env
    async with started_app(tmp_path, env) as app:
        assert app.graph is not None and app.graph.settings.credential == "certificate"
        await allocate_sample(app.service, 1)
        await _send_all(app)
        assert app.graph is not None
        events = await app.graph.client.users.by_user_id(IRO).events.get()
        assert events is not None and [e.subject for e in events.value or []] == [
            "Audit 1234567 – IRO/CP chair comments due"
        ]
        mine = await app.graph.client.users.by_user_id(AUDITOR).events.get()
        assert mine is not None and len(mine.value or []) == 1


def _assertion(
    sandbox: RunningSandbox,
    key_pem: bytes,
    cert_pem: bytes,
    *,
    iss: str = CLIENT_ID,
    aud: str | None = None,
    exp: float | None = None,
    sha256: bool = True,
) -> str:
    der = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    digest = hashlib.sha256(der).digest() if sha256 else hashlib.sha1(der).digest()
    thumb = jwt.utils.base64url_encode(digest).decode()
    header = {"x5t#S256": thumb} if sha256 else {"x5t": thumb}
    now = time.time()
    claims = {
        "aud": aud or f"{sandbox.authority}/oauth2/v2.0/token",
        "iss": iss,
        "sub": iss,
        "jti": str(uuid.uuid4()),
        "nbf": int(now) - 10,
        "exp": int(exp if exp is not None else now + 600),
    }
    key = serialization.load_pem_private_key(key_pem, None)
    return jwt.encode(
        claims,
        key,  # type: ignore[arg-type]
        algorithm="PS256" if sha256 else "RS256",
        headers=header,
    )


async def _token(sandbox: RunningSandbox, assertion: str, **extra: str) -> tuple[int, dict]:
    form = {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "scope": "https://graph.microsoft.com/.default",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        **extra,
    }
    async with httpx.AsyncClient(verify=str(sandbox.ca_file)) as http:
        response = await http.post(f"{sandbox.authority}/oauth2/v2.0/token", data=form)
    return response.status_code, response.json()


def _registered_pair(sandbox: RunningSandbox) -> tuple[bytes, bytes]:
    pem = ensure_client_certificate(sandbox.state_dir).read_bytes()
    start = pem.index(b"-----BEGIN CERTIFICATE")
    return pem[:start], pem[start:]


@pytest.mark.parametrize("sha256", [True, False], ids=["x5t#S256 PS256", "x5t RS256"])
async def test_the_token_endpoint_takes_a_good_assertion(sandbox, sha256):
    key, cert = _registered_pair(sandbox)
    status, body = await _token(sandbox, _assertion(sandbox, key, cert, sha256=sha256))
    assert status == 200, body
    assert body["token_type"] == "Bearer" and body["access_token"]


async def test_the_token_endpoint_refuses_bad_assertions_with_entras_codes(sandbox):
    key, cert = _registered_pair(sandbox)
    other_key, other_cert = make_certificate("not-uploaded")
    cases = {
        "not a JWT": ("not.a.jwt", 400, 50027),
        "other app": (_assertion(sandbox, key, cert, iss="another-app"), 401, 700021),
        "other audience": (
            _assertion(sandbox, key, cert, aud="https://login.microsoftonline.com/x/v2.0"),
            401,
            700023,
        ),
        "expired": (_assertion(sandbox, key, cert, exp=time.time() - 3600), 401, 700024),
        "unregistered certificate": (
            _assertion(sandbox, other_key, other_cert),
            401,
            700027,
        ),
        # The registered certificate's thumbprint, signed by another key.
        "forged signature": (
            _assertion(sandbox, other_key, cert),
            401,
            700027,
        ),
    }
    for name, (assertion, status, code) in cases.items():
        got, body = await _token(sandbox, assertion)
        assert (got, body.get("error_codes")) == (status, [code]), (name, body)
        assert body["error_description"].startswith(f"AADSTS{code}:"), name
    got, body = await _token(sandbox, _assertion(sandbox, key, cert), client_assertion_type="x")
    assert (got, body["error_codes"]) == (400, [7000216])


async def test_an_expired_registered_certificate_is_refused(sandbox):
    key, cert = make_certificate(
        "expired",
        valid_from=dt.datetime.now(dt.UTC) - dt.timedelta(days=3),
        valid_for=dt.timedelta(days=1),
    )
    register_certificate(sandbox.state_dir, cert)
    got, body = await _token(sandbox, _assertion(sandbox, key, cert))
    assert (got, body["error_codes"]) == (401, [700027])
    assert "expired" in body["error_description"]


async def test_an_unregistered_certificate_stops_graph_with_its_reason(
    sandbox, tmp_path, monkeypatch
):
    """The bot's Graph sign-in with a certificate the app registration does not have
    fails, and doctor names the setting and the fix."""
    key, cert = make_certificate("not-uploaded")
    path = tmp_path / "wrong.pem"
    path.write_bytes(key + cert)
    env = {**sandbox.certificate_env(), "AUDITBOT_CLIENT_CERTIFICATE": str(path)}
    code, lines = await _doctor(env, tmp_path, monkeypatch)
    assert code == 1
    assert lines["graph token"].startswith("FAIL ")
    assert "AUDITBOT_CLIENT_CERTIFICATE" in lines["graph token"]
    assert "AADSTS700027" in lines["graph token"]


async def _doctor(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, dict[str, str]]:
    for key, value in {
        **env,
        "AUDITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'doctor.db'}",
        "AUDITBOT_ROLES_FILE": str(ROLES_FILE),
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        # The sandbox serves on this loop; the CLI runs its own loop in a thread.
        code = await asyncio.to_thread(main, ["doctor"])
    lines = {}
    for line in out.getvalue().splitlines():
        mark, rest = line.split(maxsplit=1)
        name, _, detail = rest.partition("  ")
        lines[name.strip()] = f"{mark} {detail.strip()}"
    return code, lines


async def test_doctor_signs_in_with_the_certificate_and_says_so(sandbox, tmp_path, monkeypatch):
    _, lines = await _doctor(sandbox.certificate_env(), tmp_path, monkeypatch)
    assert lines["graph credential"].startswith("ok certificate "), lines
    assert "valid until" in lines["graph credential"]
    assert lines["graph token"].startswith("ok certificate "), lines
    assert lines["graph token"].endswith(f"signed in at {sandbox.authority}")


def test_doctor_warns_of_a_certificate_close_to_expiry(tmp_path):
    key, cert = make_certificate("soon", valid_for=dt.timedelta(days=10))
    path = tmp_path / "soon.pem"
    path.write_bytes(key + cert)
    s = settings(tmp_path, {"AUDITBOT_CLIENT_CERTIFICATE": str(path), "AUDITBOT_CLIENT_ID": "a"})
    check = graph_credential_check(s)
    assert check.ok and check.warn and check.line().startswith("warn ")
    assert "expires in 9 days" in check.detail or "expires in 10 days" in check.detail
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=11)
    expired = graph_credential_check(s, now=later)
    assert expired.ok is False and "expired on" in expired.detail


def test_doctor_warns_of_a_secret_close_to_expiry_when_told_its_date(tmp_path):
    soon = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    s = settings(
        tmp_path,
        {
            "AUDITBOT_CLIENT_ID": "a",
            "AUDITBOT_CLIENT_SECRET": "x",
            "AUDITBOT_CLIENT_SECRET_EXPIRES": soon,
            "MicrosoftAppId": BOT_ID,
            "MicrosoftAppTenantId": TENANT_ID,
            "MicrosoftAppPassword": "y",
        },
    )
    graph = graph_credential_check(s)
    assert graph.ok and graph.warn and "client secret of app a" in graph.detail
    bot = bot_credential_check(s)
    assert bot.ok and not bot.warn and "AUDITBOT_BOT_SECRET_EXPIRES" in bot.detail
    identity = settings(
        tmp_path,
        {
            "MicrosoftAppId": BOT_ID,
            "MicrosoftAppTenantId": TENANT_ID,
            "MicrosoftAppType": "UserAssignedMSI",
        },
    )
    assert "managed identity" in bot_credential_check(identity).detail


def test_a_missing_certificate_is_a_setting_problem(tmp_path):
    s = settings(
        tmp_path,
        {
            "AUDITBOT_GRAPH_URL": "https://graph.microsoft.com/v1.0",
            "AUDITBOT_AUTHORITY": "https://login.microsoftonline.com/x",
            "AUDITBOT_CLIENT_ID": "a",
            "AUDITBOT_SHAREPOINT_SITE": "s",
            "AUDITBOT_CLIENT_CERTIFICATE": str(tmp_path / "nowhere.pem"),
        },
    )
    assert s.graph_credential_kind == "certificate"
    assert any("AUDITBOT_CLIENT_CERTIFICATE: there is no file" in p for p in s.problems())
    federated = settings(
        tmp_path,
        {
            "AUDITBOT_GRAPH_URL": "https://graph.microsoft.com/v1.0",
            "AUDITBOT_AUTHORITY": "https://login.microsoftonline.com/x",
            "AUDITBOT_CLIENT_ID": "a",
            "AUDITBOT_SHAREPOINT_SITE": "s",
            "AUDITBOT_GRAPH_CREDENTIAL": "federated",
        },
    )
    assert federated.problems() == [
        "AUDITBOT_MANAGED_IDENTITY_CLIENT_ID: AUDITBOT_GRAPH_URL is set but "
        "AUDITBOT_MANAGED_IDENTITY_CLIENT_ID is not"
    ]


async def test_the_bot_gets_a_connector_token_with_its_certificate(sandbox, tmp_path):
    """AUDITBOT_BOT_CERTIFICATE in place of MicrosoftAppPassword: botbuilder's certificate
    credentials carry it, and doctor signs in with it (a client assertion, RS256 with the
    SHA-1 thumbprint, as botbuilder's MSAL client makes it) at the identity platform."""
    cert_file = ensure_client_certificate(sandbox.state_dir)
    production = settings(
        tmp_path,
        {
            "MicrosoftAppId": BOT_ID,
            "MicrosoftAppTenantId": TENANT_ID,
            "AUDITBOT_BOT_CERTIFICATE": str(cert_file),
        },
    )
    assert production.problems() == []  # no MicrosoftAppPassword needed
    credentials = bot_credentials(production)
    assert credentials.APP_PASSWORD == "" and credentials.CERTIFICATE_THUMBPRINT
    factory = _credentials_factory(credentials)
    assert isinstance(factory, CertificateServiceClientCredentialsFactory)
    assert factory.certificate_thumbprint == credentials.CERTIFICATE_THUMBPRINT
    assert factory.tenant_id == TENANT_ID
    assert _credentials_factory(bot_credentials(settings(tmp_path))) is None

    # The sandbox tenant's one app registration stands for the bot's.
    as_sandbox = settings(
        tmp_path,
        {
            "MicrosoftAppId": CLIENT_ID,
            "MicrosoftAppTenantId": TENANT,
            "AUDITBOT_BOT_CERTIFICATE": str(cert_file),
        },
    )
    check = await _bot_check(as_sandbox, sandbox.base_url, str(sandbox.ca_file))
    assert check.ok, check
    assert check.detail.endswith("got a Bot Framework token with its certificate")
    key, cert = make_certificate("not-uploaded")
    wrong = tmp_path / "wrong.pem"
    wrong.write_bytes(key + cert)
    refused = await _bot_check(
        as_sandbox.model_copy(update={"bot_certificate": wrong}),
        sandbox.base_url,
        str(sandbox.ca_file),
    )
    assert refused.ok is False
    assert "AUDITBOT_BOT_CERTIFICATE" in refused.detail and "AADSTS700027" in refused.detail


# ---------------------------------------------------------------- managed identity, federated

_APP_SERVICE_VARIABLES = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER")


def _on_app_service(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """App Service's two variables go to the process's environment (MSAL reads them
    there); the rest are auditbot's settings."""
    for name in _APP_SERVICE_VARIABLES:
        monkeypatch.setenv(name, env[name])
    return {k: v for k, v in env.items() if k not in _APP_SERVICE_VARIABLES}


@pytest.mark.parametrize("federated", [False, True], ids=["managed_identity", "federated"])
async def test_the_bot_runs_an_allocation_signed_in_without_a_secret(
    sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, federated: bool
):
    env = _on_app_service(sandbox.managed_identity_env(federated=federated), monkeypatch)
    assert "AUDITBOT_CLIENT_SECRET" not in env
    before = len(sandbox.token_clients())
    async with started_app(tmp_path, env) as app:
        assert app.graph is not None
        assert app.graph.settings.credential == ("federated" if federated else "managed_identity")
        await allocate_sample(app.service, 1)
        await _send_all(app)
        events = await app.graph.client.users.by_user_id(IRO).events.get()
        assert events is not None and [e.subject for e in events.value or []] == [
            "Audit 1234567 – IRO/CP chair comments due"
        ]
    # Graph's tokens went to the identity itself, or to the app through its federated
    # credential: never to a secret, which the settings do not hold.
    issued = sandbox.token_clients()[before:]
    wanted = CLIENT_ID if federated else IDENTITY_CLIENT_ID
    assert issued and set(issued) == {wanted}, issued


async def test_the_identity_endpoint_refuses_as_app_service_does(sandbox: RunningSandbox):
    url = f"{sandbox.base_url}/msi/token"
    good = {
        "api-version": "2019-08-01",
        "resource": "https://graph.microsoft.com",
        "client_id": IDENTITY_CLIENT_ID,
    }
    header = {"X-IDENTITY-HEADER": identity_header(sandbox.state_dir)}
    cases = {
        "no header": (good, {}, 401),
        "wrong header": (good, {"X-IDENTITY-HEADER": "guess"}, 401),
        "old api version": ({**good, "api-version": "2017-09-01"}, header, 400),
        "another identity": ({**good, "client_id": str(uuid.uuid4())}, header, 400),
        "no identity named": ({k: v for k, v in good.items() if k != "client_id"}, header, 400),
        "unknown resource": ({**good, "resource": "https://vault.azure.net"}, header, 500),
    }
    async with httpx.AsyncClient(verify=str(sandbox.ca_file)) as http:
        for name, (params, headers, status) in cases.items():
            answer = await http.get(url, params=params, headers=headers)
            assert answer.status_code == status, name
            assert "access_token" not in answer.json(), name
        answer = await http.get(url, params=good, headers=header)
        assert answer.status_code == 200
        assert answer.json()["client_id"] == IDENTITY_CLIENT_ID


async def test_the_token_endpoint_refuses_federated_assertions_it_does_not_trust(
    sandbox: RunningSandbox,
):
    """An assertion from another issuer, for another subject or audience, expired, or signed
    by another key: refused with Entra's codes, however well-formed."""
    from sandbox import managed_identity as mi

    key = mi._signing_key(sandbox.state_dir)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    good = {
        "iss": mi.issuer(sandbox.base_url),
        "sub": mi.IDENTITY_PRINCIPAL_ID,
        "aud": mi.TOKEN_EXCHANGE,
        "iat": now,
        "exp": now + 600,
    }
    cases = {
        "other issuer": (
            {**good, "iss": "https://token.actions.githubusercontent.com"},
            key,
            700211,
        ),
        "other subject": ({**good, "sub": str(uuid.uuid4())}, key, 700213),
        "other audience": ({**good, "aud": "api://somewhere-else"}, key, 700212),
        "expired": ({**good, "exp": now - 3600}, key, 700024),
        "another key": (good, other_key, 5002738),
    }
    for name, (claims, signer, code) in cases.items():
        got, body = await _token(sandbox, jwt.encode(claims, signer, algorithm="RS256"))
        assert got in (400, 401) and body["error_codes"] == [code], (name, body)
        assert "access_token" not in body, name
    got, body = await _token(sandbox, jwt.encode(good, key, algorithm="RS256"))
    assert got == 200 and body["access_token"], body


@pytest.mark.parametrize("federated", [False, True], ids=["managed_identity", "federated"])
async def test_doctor_signs_in_with_the_managed_identity_and_says_so(
    sandbox, tmp_path, monkeypatch, federated
):
    _, lines = await _doctor(
        sandbox.managed_identity_env(federated=federated), tmp_path, monkeypatch
    )
    assert IDENTITY_CLIENT_ID in lines["graph credential"], lines
    assert lines["graph credential"].startswith("ok "), lines
    assert lines["graph token"].startswith("ok "), lines
    assert ("federated" in lines["graph credential"]) is federated
