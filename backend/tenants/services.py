"""Tenants and their API keys: creation, lookup by key, listing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from backend.lib import tokens
from backend.lib.clock import utc_now
from backend.lib.db import pool
from backend.tenants.tables import ApiKey, Tenant
from backend.tenants.vault import get_vault


@dataclass(frozen=True, slots=True)
class TenantContext:
    """The caller, resolved once per request from its API key."""

    tenant_id: uuid.UUID
    tenant_name: str
    key_prefix: str

    @property
    def actor(self) -> str:
        return f"api_key:{self.key_prefix}"


async def create_tenant(name: str) -> tuple[uuid.UUID, str]:
    """Create a tenant with its first data key and API key; the key is returned once."""
    tenant_id = uuid.uuid4()
    async with Tenant._meta.db.transaction():
        await Tenant.insert(Tenant(id=tenant_id, name=name, created_at=utc_now()))
        await get_vault().add_data_key(str(tenant_id))
        key = await create_api_key(tenant_id)
    return tenant_id, key


async def create_api_key(tenant_id: uuid.UUID, name: str = "default") -> str:
    key, prefix, key_hash = tokens.new_api_key()
    await ApiKey.insert(
        ApiKey(tenant=tenant_id, name=name, prefix=prefix, key_hash=key_hash, created_at=utc_now())
    )
    return key


async def revoke_api_key(prefix: str) -> bool:
    rows = (
        await ApiKey.update({ApiKey.revoked_at: utc_now()})
        .where((ApiKey.prefix == prefix) & ApiKey.revoked_at.is_null())
        .returning(ApiKey.id)
    )
    return bool(rows)


async def list_tenants() -> list[dict[str, object]]:
    return await Tenant.select(Tenant.id, Tenant.name, Tenant.created_at).order_by(
        Tenant.created_at
    )


_LOOKUP = """
SELECT k.key_hash, k.tenant, t.name
FROM api_key k JOIN tenant t ON t.id = k.tenant
WHERE k.prefix = $1 AND k.revoked_at IS NULL
"""


async def authenticate(api_key: str) -> TenantContext | None:
    """Resolve a presented key to its tenant; constant-time on the secret part."""
    prefix = tokens.split_api_key(api_key)
    if prefix is None:
        # Still hash, so malformed and unknown keys cost the same.
        tokens.tokens_match(tokens.hash_token(api_key), "0" * 64)
        return None
    row = await pool().fetchrow(_LOOKUP, prefix)
    expected = row["key_hash"] if row else "0" * 64
    if not tokens.tokens_match(tokens.hash_token(api_key), expected) or row is None:
        return None
    return TenantContext(tenant_id=row["tenant"], tenant_name=row["name"], key_prefix=prefix)
