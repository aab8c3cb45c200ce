"""Sealing an integration's secrets: credentials, webhook path token, signing secrets and the
secret values in its config (a handshake's verify token).

Each kind is sealed under its own record name, so a ciphertext moved to another column,
integration or tenant fails authentication instead of decrypting.
"""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from typing import Any

import msgspec

from backend.connectors.spec import ConnectorSpec
from backend.lib.errors import validation_error
from backend.tenants.vault import get_vault

ROTATION_OVERLAP_SECONDS = 24 * 3600
#: The reserved config key holding secret config values, each sealed on its own and bound to
#: its key: `{"_sealed": {"verify_token": "<base64 ciphertext>"}}`. Tenants cannot write `_` keys.
SEALED_CONFIG = "_sealed"
#: What the API shows for a secret config value that is set. Sent back as it was read (a
#: client echoing the config into a PATCH), it keeps the sealed value.
MASK = "********"
_SECRET_CONFIG_MAX = 512


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
        return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    # Telegram's secret_token allows only A-Za-z0-9_- (1-256 chars): urlsafe fits everyone.
    return secrets.token_urlsafe(32)


# -- secret config values -----------------------------------------------------------------


def secret_config_keys(spec: ConnectorSpec | None) -> tuple[str, ...]:
    return spec.webhook.secret_config if spec is not None and spec.webhook is not None else ()


def _sealed_entries(config: dict[str, Any]) -> dict[str, str]:
    entries = config.get(SEALED_CONFIG)
    if not isinstance(entries, dict):
        return {}
    return {k: v for k, v in entries.items() if isinstance(v, str)}


def has_plaintext_secrets(spec: ConnectorSpec | None, config: dict[str, Any]) -> bool:
    """Whether config still holds a secret value in clear (stored before sealing existed)."""
    return any(key in config for key in secret_config_keys(spec))


def masked_config(spec: ConnectorSpec | None, config: dict[str, Any]) -> dict[str, Any]:
    """Config as the API shows it and a merge patch applies to: each secret value that is set
    (sealed, or still plaintext from before sealing) appears as MASK, never as itself."""
    shown = {k: v for k, v in config.items() if k != SEALED_CONFIG}
    set_keys = {k for k in secret_config_keys(spec) if k in config} | _sealed_entries(config).keys()
    return {**shown, **dict.fromkeys(set_keys, MASK)}


async def seal_config(
    tenant_id: uuid.UUID,
    integration_id: uuid.UUID,
    spec: ConnectorSpec,
    config: dict[str, Any],
    stored: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Config as stored: the spec's secret values sealed under SEALED_CONFIG, the rest as
    given. MASK keeps the value `stored` (the row's config before this change) holds; a
    secret key absent from `config` is removed."""
    stored = stored or {}
    previous = _sealed_entries(stored)
    keys = secret_config_keys(spec)
    kept = {k: v for k, v in config.items() if k not in keys and k != SEALED_CONFIG}
    entries: dict[str, str] = {}
    for key in keys:
        if key not in config:
            continue
        value = config[key]
        if value == MASK and key in previous:
            entries[key] = previous[key]
            continue
        if value == MASK and isinstance(stored.get(key), str):
            value = stored[key]  # echoed back while still plaintext: seal it now
        if value == MASK:
            raise validation_error(f"config.{key}", "is not set; send its value")
        if not isinstance(value, str) or not 1 <= len(value) <= _SECRET_CONFIG_MAX:
            raise validation_error(
                f"config.{key}", f"must be a string of 1 to {_SECRET_CONFIG_MAX} characters"
            )
        box = await get_vault().seal(
            str(tenant_id), value.encode(), record(integration_id, f"config:{key}")
        )
        entries[key] = base64.b64encode(box).decode()
    if entries:
        kept[SEALED_CONFIG] = entries
    return kept


async def open_config(
    tenant_id: uuid.UUID, integration_id: uuid.UUID, config: dict[str, Any]
) -> dict[str, Any]:
    """Config with its sealed values opened, for the handshake that checks them (a value still
    in plaintext from before sealing is left as it is)."""
    opened = {k: v for k, v in config.items() if k != SEALED_CONFIG}
    for key, box in _sealed_entries(config).items():
        raw = await get_vault().open(
            str(tenant_id), base64.b64decode(box), record(integration_id, f"config:{key}")
        )
        opened[key] = raw.decode()
    return opened
