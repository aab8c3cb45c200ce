"""What verifying a delivery needs, cached in process by webhook path-token hash.

The cache saves a database round trip per delivery (it costs as much as the insert). It is
safe because the insert re-checks, in the same statement, that the integration still owns
that token and is not revoked, and answers that store nothing (handshakes) re-check with
`still_owned`; a signature that fails against cached secrets is retried once against
freshly loaded ones, so a rotated secret is picked up at once (while a flood of forged
deliveries has used up the integration's rejection budget, within the TTL instead).

Misses are cached too, briefly: a provider still delivering to a deleted endpoint, or
anyone posting to a made-up token, costs one lookup per token every few seconds, not one
per request. Tokens are random, so a miss never hides an integration created later.
Concurrent lookups of one token share a single query.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec

from backend.connectors.base import WebhookSecrets
from backend.integrations.secrets import (
    live_secrets,
    open_config,
    open_credentials,
    open_signing_secrets,
)
from backend.lib.db import pool

TTL_SECONDS = 30.0
MISS_TTL_SECONDS = 5.0
_MAX_ENTRIES = 50_000
_MAX_MISSES = 10_000

_LOAD = """
SELECT id, tenant, connector, status, test_mode, credentials, webhook_secrets, config,
       account_id
FROM integration
WHERE webhook_token_hash = $1 AND revoked_at IS NULL
"""
_OWNED = """
SELECT EXISTS (
  SELECT 1 FROM integration
  WHERE id = $1 AND webhook_token_hash = $2 AND revoked_at IS NULL
)
"""


@dataclass(frozen=True, slots=True)
class Material:
    integration_id: uuid.UUID
    tenant_id: uuid.UUID
    connector: str
    test_mode: bool
    secrets: WebhookSecrets
    loaded_at: float
    account_id: str = ""  # the provider account it is connected to ("" while unknown)


_cache: dict[str, Material] = {}
_misses: dict[str, float] = {}  # token hash → when the lookup found nothing
_inflight: dict[str, asyncio.Future[Material | None]] = {}


async def load(token_hash: str) -> Material | None:
    """Read the integration behind a token from the database, and cache the answer."""
    row = await pool().fetchrow(_LOAD, token_hash)
    if row is None:
        _cache.pop(token_hash, None)
        _remember_miss(token_hash)
        return None
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
            test_mode=row["test_mode"],
        ),
        loaded_at=time.monotonic(),
        account_id=row["account_id"],
    )
    if len(_cache) >= _MAX_ENTRIES:
        _cache.clear()
    _cache[token_hash] = material
    _misses.pop(token_hash, None)
    return material


async def get(token_hash: str) -> Material | None:
    """The cached answer while fresh (a miss included), else one shared `load`."""
    now = time.monotonic()
    material = _cache.get(token_hash)
    if material is not None and now - material.loaded_at < TTL_SECONDS:
        return material
    missed_at = _misses.get(token_hash)
    if missed_at is not None and now - missed_at < MISS_TTL_SECONDS:
        return None
    pending = _inflight.get(token_hash)
    if pending is not None:
        try:
            return await asyncio.shield(pending)
        except asyncio.CancelledError:
            if not pending.cancelled():
                raise  # this request was cancelled
            return await load(token_hash)  # the one asking was: ask again
    future: asyncio.Future[Material | None] = asyncio.get_running_loop().create_future()
    _inflight[token_hash] = future
    try:
        found = await load(token_hash)
    except asyncio.CancelledError:
        future.cancel()
        raise
    except Exception as exc:
        future.set_exception(exc)
        future.exception()  # retrieved: no "never retrieved" warning when nobody waited
        raise
    finally:
        _inflight.pop(token_hash, None)
    future.set_result(found)
    return found


async def still_owned(m: Material, token_hash: str) -> bool:
    """Whether the integration still owns the token and is not revoked, asked of the
    database: for answers no insert re-checks (handshakes). Forgets the token if not."""
    owned = bool(await pool().fetchval(_OWNED, m.integration_id, token_hash))
    if not owned:
        forget(token_hash)
    return owned


def forget(token_hash: str) -> None:
    """The token no longer leads anywhere (rotated, revoked): drop it and remember the miss."""
    _cache.pop(token_hash, None)
    _remember_miss(token_hash)


def forget_all() -> None:
    _cache.clear()
    _misses.clear()


def _remember_miss(token_hash: str) -> None:
    if len(_misses) >= _MAX_MISSES:
        now = time.monotonic()
        for stale in [t for t, at in _misses.items() if now - at >= MISS_TTL_SECONDS]:
            del _misses[stale]
        if len(_misses) >= _MAX_MISSES:
            _misses.clear()
    _misses[token_hash] = time.monotonic()
