"""The Microsoft identity platform, as far as a confidential client needs it: OpenID
discovery and the client-credentials token endpoint. Tokens are opaque random strings
remembered by the sandbox; clients never look inside an app-only Graph token."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

import jwt
from aiohttp import web

from sandbox.constants import CLIENT_ID, CLIENT_SECRET, TENANT, TOKEN_LIFETIME_SECONDS
from sandbox.context import context_of
from sandbox.credentials import ASSERTION_TYPE, check_assertion
from sandbox.managed_identity import check_federated, is_federated
from sandbox.state import now_iso


def register(app: web.Application) -> None:
    app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", openid_configuration)
    app.router.add_post("/{tenant}/oauth2/v2.0/token", token)


async def openid_configuration(request: web.Request) -> web.Response:
    tenant = request.match_info["tenant"]
    if tenant != TENANT:
        return _tenant_not_found(tenant)
    base = f"{context_of(request).base_url}/{TENANT}"
    return web.json_response(
        {
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "request_uri_parameter_supported": False,
            "tenant_region_scope": "EU",
            "cloud_instance_name": "sandbox",
        }
    )


async def token(request: web.Request) -> web.Response:
    tenant = request.match_info["tenant"]
    if tenant != TENANT:
        return _tenant_not_found(tenant)
    form = await request.post()
    client_id, secret = _client_credentials(request, {k: str(v) for k, v in form.items()})
    if form.get("grant_type") != "client_credentials":
        return _error(
            400,
            "unsupported_grant_type",
            70003,
            "The sandbox supports only the client_credentials grant.",
        )
    assertion = str(form.get("client_assertion") or "")
    if assertion or form.get("client_assertion_type"):
        refused = _assertion_refused(request, form, assertion)
        if refused is not None:
            return refused
    elif not secret:
        # https://learn.microsoft.com/entra/identity-platform/reference-error-codes
        return _error(
            401,
            "invalid_client",
            7000216,
            "'client_assertion', 'client_secret' or 'request' is required for the"
            " 'client_credentials' grant type.",
        )
    elif client_id != CLIENT_ID or secret != CLIENT_SECRET:
        return _error(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is"
            f" the client secret value, not the client secret ID, for app '{client_id}'.",
        )
    scope = str(form.get("scope") or "")
    if not scope.endswith("/.default"):
        return _error(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not valid. Client credential flows"
            " must have a scope value with /.default suffixed to the resource identifier.",
        )
    access_token = context_of(request).store.issue_token(client_id)
    return web.json_response(
        {
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_SECONDS,
            "ext_expires_in": TOKEN_LIFETIME_SECONDS,
            "access_token": access_token,
        }
    )


def _assertion_refused(request: web.Request, form: Any, assertion: str) -> web.Response | None:
    """A certificate credential (private_key_jwt), checked like Entra checks it."""
    client_id = str(form.get("client_id") or "")
    if form.get("client_assertion_type") != ASSERTION_TYPE or not assertion:
        return _error(
            400,
            "invalid_request",
            7000216,
            "'client_assertion', 'client_secret' or 'request' is required for the"
            " 'client_credentials' grant type.",
        )
    if client_id != CLIENT_ID:
        return _error(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory '{TENANT}'.",
        )
    try:
        federated = is_federated(
            jwt.get_unverified_header(assertion),
            jwt.decode(assertion, options={"verify_signature": False}),
            client_id,
        )
    except jwt.PyJWTError:
        federated = False  # check_assertion refuses it as Entra does
    if federated:
        refusal = check_federated(
            context_of(request).state_dir, context_of(request).base_url, assertion
        )
        if refusal is None:
            return None
        return _error(refusal.status, refusal.error, refusal.code, refusal.description)
    base = f"{context_of(request).base_url}/{TENANT}"
    # The documented audience is the token endpoint; Entra also takes the tenant's v2.0
    # issuer, as older guidance had it.
    refusal = check_assertion(
        context_of(request).state_dir,
        assertion,
        client_id,
        (f"{base}/oauth2/v2.0/token", f"{base}/v2.0"),
    )
    if refusal is None:
        return None
    return _error(refusal.status, refusal.error, refusal.code, refusal.description)


def _client_credentials(request: web.Request, form: dict[str, str]) -> tuple[str, str]:
    """client_secret_post (MSAL's default) or client_secret_basic."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        return user, password
    return form.get("client_id", ""), form.get("client_secret", "")


def _tenant_not_found(tenant: str) -> web.Response:
    return _error(
        400,
        "invalid_tenant",
        90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID.",
    )


def _error(status: int, error: str, code: int, description: str) -> web.Response:
    trace_id = str(uuid.uuid4())
    body: dict[str, Any] = {
        "error": error,
        "error_description": f"AADSTS{code}: {description} Trace ID: {trace_id}",
        "error_codes": [code],
        "timestamp": now_iso(),
        "trace_id": trace_id,
        "correlation_id": str(uuid.uuid4()),
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    return web.json_response(body, status=status)
