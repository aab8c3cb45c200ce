"""Shared test helpers: fixture bytes, request and secret builders, local signing keys."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import importlib
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from backend.connectors.base import WebhookHandler, WebhookRequest, WebhookSecrets
from backend.connectors.registry import providers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# Every provider with a webhook handler: a new folder is fuzzed without being listed here.
KEYS = tuple(key for key, provider in providers().items() if provider.webhook is not None)

NOW = 1_750_000_000.0  # a fixed "received at" so timestamp checks are deterministic


def fixture(provider: str, name: str) -> bytes:
    """The exact bytes of tests/fixtures/<provider>/<name>."""
    return (FIXTURES / provider / name).read_bytes()


def fixture_names(provider: str) -> list[str]:
    return sorted(p.name for p in (FIXTURES / provider).iterdir() if p.is_file())


def handler(key: str) -> WebhookHandler:
    module = importlib.import_module(f"backend.connectors.providers.{key}.webhook")
    return module.HANDLER


def request(
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    url: str = "https://switchboard.example.com/api/webhooks/x/tok",
    method: str = "POST",
    query: dict[str, str] | None = None,
    received_at: float = NOW,
) -> WebhookRequest:
    return WebhookRequest(
        method=method,
        url=url,
        headers={k.lower(): v for k, v in (headers or {}).items()},
        query=query or {},
        body=body,
        received_at=received_at,
    )


def secrets(
    *signing: str,
    credentials: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
) -> WebhookSecrets:
    return WebhookSecrets(
        signing_secrets=tuple(signing), credentials=credentials or {}, config=config or {}
    )


def hub_signature(secret: str, body: bytes, prefix: str = "sha256=") -> str:
    return prefix + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@functools.cache
def rsa_key(name: str = "default") -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key per name, generated once per test session."""
    del name
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def self_signed_certificate(
    key: rsa.RSAPrivateKey,
    *,
    not_before: float = NOW - 86400,
    not_after: float = NOW + 86400 * 365,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime.fromtimestamp(not_before, dt.UTC))
        .not_valid_after(dt.datetime.fromtimestamp(not_after, dt.UTC))
        .sign(key, hashes.SHA256())
    )


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)
