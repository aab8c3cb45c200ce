"""What verifying a delivery needs, cached in process by webhook path-token hash.

The cache saves a database round trip per delivery (it costs as much as the insert). It is
safe because the insert re-checks, in the same statement, that the integration still owns
that token and is not revoked; a signature that fails against cached secrets is retried
once against freshly loaded ones, so a rotated secret is picked up at once (while a flood of
forged deliveries has used up the integration's rejection budget, within the TTL instead).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from backend.connectors.base import WebhookSecrets
from backend.integrations.secrets import (
    live_secrets,
    open_config,
    open_credentials,
    open_signing_secrets,
)
from backend.lib.db import pool

_TTL_SECONDS = 30.0
_MAX_ENTRIES = 50_000

_LOAD = """
SELECT id, tenant, connector, status, test_mode, credentials, webhook_secrets, config
FROM integration
WHERE webhook_token_hash = $1 AND revoked_at IS NULL
"""


@dataclass(frozen=True, slots=True)
class Material:
    integration_id: uuid.UUID
    tenant_id: uuid.UUID
    connector: str
    test_mode: bool
    secrets: WebhookSecrets
    loaded_at: float


_cache: dict[str, Material] = {}


async def load(token_hash: str) -> Material | None:
    row = await pool().fetchrow(_LOAD, token_hash)
    if row is None:
        _cache.pop(token_hash, None)
        return None
    import msgspec

    config: dict[str, Any] = (
        msgspec.json.decode(row["config"])
        if isinstance(row["config"], str)
        else dict(row["config"] or {})
    )
    signing = await open_signing_secrets(row["tenant"], row["id"], row["webhook_secrets"])
    material = Material(
        integration_id=row["id"],
        tenant_id=row["tenant"],
        connector=row["connector"],
        test_mode=row["test_mode"],
        secrets=WebhookSecrets(
            signing_secrets=live_secrets(signing),
            credentials=await open_credentials(row["tenant"], row["id"], row["credentials"]),
            config=await open_config(row["tenant"], row["id"], config),
        ),
        loaded_at=time.monotonic(),
    )
    if len(_cache) >= _MAX_ENTRIES:
        _cache.clear()
    _cache[token_hash] = material
    return material


async def get(token_hash: str) -> Material | None:
    material = _cache.get(token_hash)
    if material is not None and time.monotonic() - material.loaded_at < _TTL_SECONDS:
        return material
    return await load(token_hash)


def forget_all() -> None:
    _cache.clear()
