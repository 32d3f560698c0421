"""The sandbox's own TLS certificate.

MSAL and the msgraph-sdk only speak HTTPS, so the sandbox needs a certificate that clients
can trust by pointing at one file. A self-signed certificate marked as a CA (so OpenSSL
accepts it as a trust anchor) and naming both `localhost` and `127.0.0.1` does that.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CERT_NAME = "sandbox-cert.pem"
KEY_NAME = "sandbox-key.pem"
_VALID_FOR = dt.timedelta(days=3650)
# Renew well before expiry so a long-lived state directory never serves an expired cert.
_RENEW_WITHIN = dt.timedelta(days=30)


def cert_path(state_dir: Path) -> Path:
    """Where the certificate (the file clients use as their CA bundle) lives."""
    return (state_dir / "tls" / CERT_NAME).resolve()


def ensure_certificate(state_dir: Path) -> tuple[Path, Path]:
    """Return (certificate, key) paths, creating them on first use and reusing them after,
    so clients configured with the CA file keep working across restarts."""
    cert_file = cert_path(state_dir)
    key_file = cert_file.with_name(KEY_NAME)
    if not (_usable(cert_file) and key_file.exists()):
        cert_file.parent.mkdir(parents=True, exist_ok=True)
        key_pem, cert_pem = _generate()
        _write_atomically(key_file, key_pem, mode=0o600)
        _write_atomically(cert_file, cert_pem, mode=0o644)
    return cert_file, key_file


def server_ssl_context(state_dir: Path) -> ssl.SSLContext:
    cert_file, key_file = ensure_certificate(state_dir)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


def _usable(cert_file: Path) -> bool:
    if not cert_file.exists():
        return False
    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    except ValueError:
        return False
    return cert.not_valid_after_utc - _RENEW_WITHIN > dt.datetime.now(dt.UTC)


def _generate() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "auditbot sandbox"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "auditbot sandbox (not for production)"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    public_key = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + _VALID_FOR)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return pem_pair(key, cert)


def pem_pair(key: CertificateIssuerPrivateKeyTypes, cert: x509.Certificate) -> tuple[bytes, bytes]:
    """A private key (PKCS#8, unencrypted) and its certificate, both as PEM."""
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
