"""The sandbox app registration's certificates, and client assertions checked as Entra
checks them.

An app registration holds "key credentials": the public certificates an admin uploaded
(Entra ID > App registrations > Certificates & secrets > Certificates). A client signs a
JWT with the private key and sends it as `client_assertion`; Entra finds the certificate
by the header's thumbprint and checks the signature and claims.
https://learn.microsoft.com/entra/identity-platform/certificate-credentials

The sandbox makes one test certificate on first start (`client_certificate_path`: the
private key and the certificate in one PEM file, as Key Vault exports it) and registers
it; `register_certificate` uploads another, as an admin would.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from sandbox.tls import _write_atomically, pem_pair

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Entra takes RSA signatures only: RS256 with x5t (SHA-1 thumbprint), PS256 with x5t#S256.
ALGORITHMS = ("RS256", "PS256")
# Entra allows for a few minutes of clock difference between client and server.
CLOCK_SKEW_SECONDS = 300
_VALID_FOR = dt.timedelta(days=365)


def client_certificate_path(state_dir: Path) -> Path:
    """The test certificate with its private key (what the app's owner keeps)."""
    return (state_dir / "app" / "client-certificate.pem").resolve()


def _registered_dir(state_dir: Path) -> Path:
    return state_dir / "app" / "key-credentials"


def ensure_client_certificate(state_dir: Path) -> Path:
    """Make and register the test certificate on first use; reuse it after."""
    path = client_certificate_path(state_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key_pem, cert_pem = make_certificate("sandbox-client")
        _write_atomically(path, key_pem + cert_pem, mode=0o600)
        register_certificate(state_dir, cert_pem)
    return path


def make_certificate(
    subject: str, valid_from: dt.datetime | None = None, valid_for: dt.timedelta = _VALID_FOR
) -> tuple[bytes, bytes]:
    """A self-signed RSA certificate and its key, both PEM (Entra takes self-signed ones)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    start = valid_from or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + valid_for)
        .sign(key, hashes.SHA256())
    )
    return pem_pair(key, cert)


def register_certificate(state_dir: Path, cert_pem: bytes) -> str:
    """Upload a public certificate to the app registration; returns its SHA-1 thumbprint."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    thumbprint = cert.fingerprint(hashes.SHA1()).hex().upper()
    folder = _registered_dir(state_dir)
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomically(folder / f"{thumbprint}.pem", cert_pem, mode=0o644)
    return thumbprint


def _registered(state_dir: Path) -> list[x509.Certificate]:
    folder = _registered_dir(state_dir)
    if not folder.is_dir():
        return []
    return [x509.load_pem_x509_certificate(p.read_bytes()) for p in sorted(folder.glob("*.pem"))]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Refusal:
    """Entra's answer to a client assertion it does not take."""

    status: int
    error: str
    code: int
    description: str


def check_assertion(
    state_dir: Path, assertion: str, client_id: str, token_endpoints: tuple[str, ...]
) -> Refusal | None:
    """None when Entra would take this assertion for `client_id`; else its refusal.

    The codes are those the Microsoft identity platform answers with:
    https://learn.microsoft.com/entra/identity-platform/reference-error-codes
    (and, for the certificate credential's, the Azure SDK's troubleshooting page
    https://learn.microsoft.com/azure/developer/java/sdk/troubleshooting-authentication-service-principal).
    """
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return Refusal(400, "invalid_request", 50027, "Invalid JWT token. Token format not valid.")
    # iss and sub must both be the app's client id (certificate-credentials, "Claims").
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        return Refusal(
            401,
            "invalid_client",
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        )
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if not any(a in token_endpoints for a in audiences):
        return Refusal(
            401,
            "invalid_client",
            700023,
            "Client assertion audience claim does not match Realm issuer.",
        )
    now = time.time()
    expires, not_before = claims.get("exp"), claims.get("nbf")
    if (
        not isinstance(expires, int | float)
        or expires + CLOCK_SKEW_SECONDS < now
        or (isinstance(not_before, int | float) and not_before - CLOCK_SKEW_SECONDS > now)
    ):
        return Refusal(
            401,
            "invalid_client",
            700024,
            "Client assertion is not within its valid time range.",
        )
    certificate = _find_certificate(state_dir, header)
    if certificate is None:
        thumbprint = header.get("x5t#S256") or header.get("x5t") or ""
        return Refusal(
            401,
            "invalid_client",
            700027,
            "Client assertion failed signature validation. [Reason - The key was not found., "
            f"Thumbprint of key used by client: '{thumbprint}']",
        )
    if header.get("alg") not in ALGORITHMS:
        return Refusal(
            401,
            "invalid_client",
            700027,
            f"Client assertion failed signature validation. [Reason - The algorithm "
            f"'{header.get('alg')}' is not supported.]",
        )
    if certificate.not_valid_after_utc < dt.datetime.now(dt.UTC):
        return Refusal(
            401,
            "invalid_client",
            700027,
            "Client assertion failed signature validation. [Reason - The key used is expired.]",
        )
    try:
        jwt.decode(
            assertion,
            certificate.public_key(),  # type: ignore[arg-type]
            algorithms=[header["alg"]],
            options={"verify_aud": False, "verify_exp": False, "verify_nbf": False},
        )
    except jwt.PyJWTError:
        return Refusal(
            401,
            "invalid_client",
            700027,
            "Client assertion contains an invalid signature.",
        )
    return None


def _find_certificate(state_dir: Path, header: dict[str, object]) -> x509.Certificate | None:
    """The registered certificate the header names by its SHA-256 or SHA-1 thumbprint
    (base64url, with or without padding: the documentation's own example has it)."""
    sha256 = str(header.get("x5t#S256") or "").rstrip("=")
    sha1 = str(header.get("x5t") or "").rstrip("=")
    for cert in _registered(state_dir):
        der = cert.public_bytes(serialization.Encoding.DER)
        if sha256 and sha256 == _b64url(hashlib.sha256(der).digest()):
            return cert
        if sha1 and sha1 == _b64url(hashlib.sha1(der).digest()):
            return cert
    return None
