"""The App Service managed-identity endpoint, and the app registration's federated
identity credential that trusts the identity's tokens.

App Service gives a process `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`; a GET to the endpoint
with `resource`, `api-version=2019-08-01`, the user-assigned identity's `client_id` and the
header `X-IDENTITY-HEADER` answers a token for that resource
(https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference).
`managed_identity_env` gives those two variables for a sandbox.

A token for `api://AzureADTokenExchange` is a signed JWT whose issuer is the tenant and
whose subject is the identity's principal id; the app registration takes it as its client
assertion when a federated credential names that issuer, subject and audience
(https://learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.constants import TENANT, TOKEN_LIFETIME_SECONDS
from sandbox.context import context_of
from sandbox.credentials import CLOCK_SKEW_SECONDS, Refusal
from sandbox.tls import _write_atomically

IDENTITY_PATH = "/msi/token"
API_VERSION = "2019-08-01"
TOKEN_EXCHANGE = "api://AzureADTokenExchange"
# The user-assigned identity the sandbox's App Service has: its client id and principal
# (object) id, fixed so tests and demo data can name it.
IDENTITY_CLIENT_ID = "7c1e9a52-4b8d-4f1e-9a63-5d2f0c8b1a10"
IDENTITY_PRINCIPAL_ID = "0b7e3f4a-2c19-4d8e-b5a6-9e1f2d3c4b5a"
GRAPH_RESOURCE = "https://graph.microsoft.com"


def register(app: web.Application) -> None:
    app.router.add_get(IDENTITY_PATH, identity_token)


def identity_header(state_dir: Path) -> str:
    """The secret App Service gives the process in IDENTITY_HEADER: made once per sandbox."""
    path = state_dir / "app" / "identity-header"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, uuid.uuid4().hex.encode(), mode=0o600)
    return path.read_text().strip()


def managed_identity_env(base_url: str, state_dir: Path) -> dict[str, str]:
    """What App Service puts in a process's environment (read by MSAL, not by auditbot)."""
    return {
        "IDENTITY_ENDPOINT": f"{base_url}{IDENTITY_PATH}",
        "IDENTITY_HEADER": identity_header(state_dir),
    }


def _signing_key(state_dir: Path) -> rsa.RSAPrivateKey:
    path = state_dir / "app" / "identity-signing-key.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_atomically(path, pem, mode=0o600)
    loaded = serialization.load_pem_private_key(path.read_bytes(), None)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    return loaded


def issuer(base_url: str) -> str:
    return f"{base_url}/{TENANT}/v2.0"


async def identity_token(request: web.Request) -> web.Response:
    context = context_of(request)
    if request.headers.get("X-IDENTITY-HEADER") != identity_header(context.state_dir):
        # The endpoint answers only the process App Service gave the header to.
        return _refused(401, "The X-IDENTITY-HEADER header is missing or wrong.")
    if request.query.get("api-version") != API_VERSION:
        return _refused(400, f"The api-version must be {API_VERSION}.")
    if request.query.get("client_id", IDENTITY_CLIENT_ID) != IDENTITY_CLIENT_ID:
        return _refused(
            400,
            "No User Assigned or Delegated Managed Identity found for specified"
            " ClientId/ResourceId/PrincipalId.",
        )
    if not request.query.get("client_id"):
        # The sandbox's App Service has no system-assigned identity, only the user-assigned one.
        return _refused(400, "No system-assigned managed identity is enabled for this app.")
    resource = request.query.get("resource", "").rstrip("/")
    expires_on = int(time.time()) + TOKEN_LIFETIME_SECONDS
    if resource == GRAPH_RESOURCE:
        token = context.store.issue_token(IDENTITY_CLIENT_ID)
    elif resource == TOKEN_EXCHANGE:
        now = int(time.time())
        token = jwt.encode(
            {
                "iss": issuer(context.base_url),
                "sub": IDENTITY_PRINCIPAL_ID,
                "aud": TOKEN_EXCHANGE,
                "oid": IDENTITY_PRINCIPAL_ID,
                "appid": IDENTITY_CLIENT_ID,
                "tid": TENANT,
                "iat": now,
                "nbf": now,
                "exp": expires_on,
            },
            _signing_key(context.state_dir),
            algorithm="RS256",
        )
    else:
        # App Service answers an unknown resource with a vague 500 (MSAL says as much).
        return _refused(500, f"The resource '{resource}' is not one the sandbox knows.")
    return web.json_response(
        {
            "access_token": token,
            "expires_on": str(expires_on),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": IDENTITY_CLIENT_ID,
        }
    )


def _refused(status: int, message: str) -> web.Response:
    return web.json_response({"statusCode": status, "message": message}, status=status)


def is_federated(header: dict[str, Any], claims: dict[str, Any], client_id: str) -> bool:
    """An assertion that is another issuer's token, not one the app signed itself."""
    return "x5t" not in header and "x5t#S256" not in header and claims.get("iss") != client_id


def check_federated(state_dir: Path, base_url: str, assertion: str) -> Refusal | None:
    """None when the app registration's federated credential trusts this token; else
    Entra's refusal (https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
    The app's one federated credential names the sandbox's identity: issuer the tenant,
    subject its principal id, audience api://AzureADTokenExchange."""
    claims = jwt.decode(assertion, options={"verify_signature": False})
    if claims.get("iss") != issuer(base_url):
        return Refusal(
            401,
            "invalid_client",
            700211,
            f"No matching federated identity record found for presented assertion issuer "
            f"'{claims.get('iss')}'.",
        )
    if claims.get("sub") != IDENTITY_PRINCIPAL_ID:
        return Refusal(
            401,
            "invalid_client",
            700213,
            f"No matching federated identity record found for presented assertion subject "
            f"'{claims.get('sub')}'.",
        )
    if claims.get("aud") != TOKEN_EXCHANGE:
        return Refusal(
            401,
            "invalid_client",
            700212,
            f"No matching federated identity record found for presented assertion audience "
            f"'{claims.get('aud')}'.",
        )
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or expires + CLOCK_SKEW_SECONDS < time.time():
        return Refusal(
            400,
            "invalid_client",
            700024,
            "Client assertion is not within its valid time range.",
        )
    try:
        jwt.decode(
            assertion,
            _signing_key(state_dir).public_key(),
            algorithms=["RS256"],
            options={"verify_aud": False, "verify_exp": False},
        )
    except jwt.PyJWTError:
        return Refusal(
            401,
            "invalid_client",
            5002738,
            "Invalid JWT token. The token signature could not be validated by the issuer's keys.",
        )
    return None
