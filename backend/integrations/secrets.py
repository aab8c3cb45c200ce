"""Sealing an integration's secrets: credentials, webhook path token, signing secrets.

Each kind is sealed under its own record name, so a ciphertext moved to another column,
integration or tenant fails authentication instead of decrypting.
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

import msgspec

from backend.connectors.spec import ConnectorSpec
from backend.tenants.vault import get_vault

ROTATION_OVERLAP_SECONDS = 24 * 3600


def record(integration_id: uuid.UUID | str, kind: str) -> str:
    return f"integration:{integration_id}:{kind}"


class SigningSecret(msgspec.Struct):
    secret: str
    # None for the current secret; a unix time for a rotated one still accepted until then.
    expires_at: float | None = None


async def seal_credentials(
    tenant_id: uuid.UUID, integration_id: uuid.UUID, creds: dict[str, Any]
) -> bytes:
    return await get_vault().seal_json(str(tenant_id), creds, record(integration_id, "credentials"))


async def open_credentials(
    tenant_id: uuid.UUID, integration_id: uuid.UUID, sealed: bytes | None
) -> dict[str, Any]:
    if not sealed:
        return {}
    value = await get_vault().open_json(
        str(tenant_id), bytes(sealed), record(integration_id, "credentials")
    )
    return value if isinstance(value, dict) else {}


async def seal_token(tenant_id: uuid.UUID, integration_id: uuid.UUID, token: str) -> bytes:
    return await get_vault().seal(
        str(tenant_id), token.encode(), record(integration_id, "webhook_token")
    )


async def open_token(
    tenant_id: uuid.UUID, integration_id: uuid.UUID, sealed: bytes | None
) -> str | None:
    if not sealed:
        return None
    raw = await get_vault().open(
        str(tenant_id), bytes(sealed), record(integration_id, "webhook_token")
    )
    return raw.decode()


async def seal_signing_secrets(
    tenant_id: uuid.UUID, integration_id: uuid.UUID, items: list[SigningSecret]
) -> bytes | None:
    if not items:
        return None
    return await get_vault().seal_json(
        str(tenant_id), items, record(integration_id, "signing_secrets")
    )


async def open_signing_secrets(
    tenant_id: uuid.UUID, integration_id: uuid.UUID, sealed: bytes | None
) -> list[SigningSecret]:
    if not sealed:
        return []
    raw = await get_vault().open(
        str(tenant_id), bytes(sealed), record(integration_id, "signing_secrets")
    )
    return msgspec.json.decode(raw, type=list[SigningSecret])


def live_secrets(items: list[SigningSecret], now: float | None = None) -> tuple[str, ...]:
    """Current secret first, then rotated ones still inside their overlap window."""
    now = time.time() if now is None else now
    current = [s.secret for s in items if s.expires_at is None]
    overlap = [s.secret for s in items if s.expires_at is not None and s.expires_at > now]
    return tuple(current + overlap)


def rotate(
    items: list[SigningSecret], new_secret: str, now: float | None = None
) -> list[SigningSecret]:
    """Make `new_secret` current; the old current one keeps verifying for the overlap window."""
    now = time.time() if now is None else now
    kept = [
        SigningSecret(s.secret, now + ROTATION_OVERLAP_SECONDS) if s.expires_at is None else s
        for s in items
        if s.expires_at is None or s.expires_at > now
    ]
    return [SigningSecret(new_secret), *kept]


def generate_signing_secret(spec: ConnectorSpec) -> str:
    """A secret in the format the provider accepts (Standard Webhooks wants `whsec_` + base64)."""
    if spec.webhook is not None and spec.webhook.scheme.startswith("standard"):
        import base64

        return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    # Telegram's secret_token allows only A-Za-z0-9_- (1-256 chars): urlsafe fits everyone.
    return secrets.token_urlsafe(32)
