"""How auditbot proves who it is to Microsoft Entra ID: a client secret, a certificate, a
managed identity, or a federated credential (a managed identity's token standing in for
the app registration's secret). Every kind goes through MSAL.

- certificate: MSAL signs a client assertion with the private key
  (https://learn.microsoft.com/entra/identity-platform/certificate-credentials).
- managed_identity: the Azure host's identity endpoint gives a Graph token for the
  user-assigned managed identity itself; Graph's app roles are assigned to it.
- federated: the managed identity's token for `api://AzureADTokenExchange` is the client
  assertion of the app registration, which trusts it through a federated identity
  credential (https://learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity).
  On Kubernetes workload identity the assertion is read from AZURE_FEDERATED_TOKEN_FILE.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msal
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from graph.settings import GraphSettings

CREDENTIALS = ("secret", "certificate", "managed_identity", "federated")
TOKEN_EXCHANGE = "api://AzureADTokenExchange"
FEDERATED_TOKEN_FILE = "AZURE_FEDERATED_TOKEN_FILE"


class CertificateError(ValueError):
    """The certificate file cannot be used: missing, unreadable, or without its key."""


@dataclass(frozen=True)
class Certificate:
    private_key_pem: str
    certificate_pem: str
    thumbprint: str  # SHA-1, hex, upper case: what Entra's portal shows
    not_after: dt.datetime


def load_certificate(path: str | Path, password: str | None = None) -> Certificate:
    """A PEM file holding the private key and the certificate (Key Vault's PEM export), or
    a PFX/PKCS#12 file (Key Vault's default, App Service's /var/ssl/private)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CertificateError(f"{path} cannot be read ({exc.strerror})") from None
    secret = password.encode() if password else None
    key: Any
    cert: Any
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, secret)
            cert = x509.load_pem_x509_certificate(data[data.index(b"-----BEGIN CERTIFICATE") :])
        else:
            key, cert, _ = pkcs12.load_key_and_certificates(data, secret)
    except (ValueError, TypeError) as exc:
        raise CertificateError(
            f"{path} is not a certificate with its private key, or its password is wrong "
            f"({str(exc).splitlines()[0][:80]})"
        ) from None
    if key is None or cert is None:
        raise CertificateError(f"{path} must hold both the certificate and its private key")
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return Certificate(
        private_key_pem=key_pem.decode(),
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        thumbprint=cert.fingerprint(hashes.SHA1()).hex().upper(),
        not_after=cert.not_valid_after_utc,
    )


def _session(settings: GraphSettings) -> requests.Session:
    session = requests.Session()
    # The machine's REQUESTS_CA_BUNDLE would override `verify` unless trust_env is off.
    session.trust_env = settings.ca_bundle is None
    if settings.ca_bundle:
        session.verify = settings.ca_bundle
    return session


class SignIn:
    """Tokens for Graph with the credential the settings name, cached by MSAL.

    Blocking: MSAL's HTTP goes through `requests`; call `acquire` off the event loop.
    """

    def __init__(self, settings: GraphSettings) -> None:
        self._settings = settings
        self._client: Any = None

    def acquire(self) -> dict[str, Any]:
        s = self._settings
        if self._client is None:
            self._client = self._build()
        if s.credential == "managed_identity":
            resource = s.scope.removesuffix("/.default")
            result: dict[str, Any] = self._client.acquire_token_for_client(resource=resource)
        else:
            result = self._client.acquire_token_for_client([s.scope])
        return result

    def _build(self) -> Any:
        s = self._settings
        session = _session(s)
        if s.credential == "managed_identity":
            return msal.ManagedIdentityClient(
                msal.UserAssignedManagedIdentity(client_id=s.managed_identity_client_id),
                http_client=session,
            )
        return msal.ConfidentialClientApplication(
            s.client_id,
            client_credential=self._client_credential(session),
            authority=s.authority,
            instance_discovery=False,
            http_client=session,
        )

    def _client_credential(self, session: requests.Session) -> Any:
        s = self._settings
        if s.credential == "certificate":
            assert s.certificate
            cert = load_certificate(s.certificate, s.certificate_password)
            # No thumbprint given: MSAL computes the SHA-256 one and signs with PS256.
            return {
                "private_key": cert.private_key_pem,
                "public_certificate": cert.certificate_pem,
            }
        if s.credential == "federated":
            identity = msal.ManagedIdentityClient(
                msal.UserAssignedManagedIdentity(client_id=s.managed_identity_client_id),
                http_client=session,
            )

            def assertion() -> str:
                token_file = os.environ.get(FEDERATED_TOKEN_FILE)
                if token_file:  # Kubernetes workload identity rotates this file
                    return Path(token_file).read_text().strip()
                result = identity.acquire_token_for_client(resource=TOKEN_EXCHANGE)
                if "access_token" not in result:
                    raise msal.ManagedIdentityError(str(result.get("error_description", result)))
                return str(result["access_token"])

            return {"client_assertion": assertion}
        return s.client_secret


def describe(settings: GraphSettings) -> str:
    """Which credential is in use, for `doctor`."""
    return {
        "secret": f"client secret of app {settings.client_id}",
        "certificate": f"certificate {settings.certificate} of app {settings.client_id}",
        "managed_identity": f"managed identity {settings.managed_identity_client_id}",
        "federated": f"app {settings.client_id} through managed identity "
        f"{settings.managed_identity_client_id} (federated credential)",
    }[settings.credential]
