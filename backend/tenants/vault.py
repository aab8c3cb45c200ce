"""The vault: seal and open tenant secrets with the tenant's data keys (see lib/crypto.py).

Unwrapped data keys are cached in process memory for a short while so the webhook path
does not hit the database for keys; a version the cache does not know triggers a reload,
so a data-key rotation in another process is picked up at once.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import msgspec

from backend.lib.crypto import (
    DataKeys,
    MasterKeyring,
    VaultError,
    key_version_of,
    new_data_key,
)
from backend.tenants.tables import TenantKey

_CACHE_SECONDS = 300.0


class Vault:
    def __init__(self, keyring: MasterKeyring) -> None:
        self.keyring = keyring
        self._cache: dict[str, tuple[float, DataKeys]] = {}

    async def _load(self, tenant_id: str) -> DataKeys:
        rows = await TenantKey.select().where(TenantKey.tenant == uuid.UUID(tenant_id))
        if not rows:
            raise VaultError("the tenant has no data key")
        keys = {
            r["version"]: self.keyring.unwrap(
                bytes(r["wrapped_key"]), r["master_key_id"], tenant_id, r["version"]
            )
            for r in rows
        }
        data_keys = DataKeys(tenant_id, keys)
        self._cache[tenant_id] = (time.monotonic() + _CACHE_SECONDS, data_keys)
        return data_keys

    async def data_keys(self, tenant_id: str, need_version: int | None = None) -> DataKeys:
        cached = self._cache.get(tenant_id)
        fresh = cached is not None and cached[0] > time.monotonic()
        if fresh and cached and (need_version is None or need_version in cached[1].keys):
            return cached[1]
        return await self._load(tenant_id)

    def forget(self, tenant_id: str | None = None) -> None:
        if tenant_id is None:
            self._cache.clear()
        else:
            self._cache.pop(tenant_id, None)

    async def seal(self, tenant_id: str, plaintext: bytes, record: str) -> bytes:
        return (await self.data_keys(tenant_id)).seal(plaintext, record)

    async def open(self, tenant_id: str, sealed: bytes, record: str) -> bytes:
        keys = await self.data_keys(tenant_id, need_version=key_version_of(sealed))
        return keys.open(sealed, record)

    async def seal_json(self, tenant_id: str, value: Any, record: str) -> bytes:
        return await self.seal(tenant_id, msgspec.json.encode(value), record)

    async def open_json(self, tenant_id: str, sealed: bytes, record: str) -> Any:
        return msgspec.json.decode(await self.open(tenant_id, sealed, record))

    # -- key management ----------------------------------------------------------------
    async def add_data_key(self, tenant_id: str) -> int:
        """Create the tenant's next data-key version; new secrets are sealed with it."""
        rows = await TenantKey.select(TenantKey.version).where(
            TenantKey.tenant == uuid.UUID(tenant_id)
        )
        version = max((r["version"] for r in rows), default=0) + 1
        wrapped, key_id = self.keyring.wrap(new_data_key(), tenant_id, version)
        await TenantKey.insert(
            TenantKey(
                tenant=uuid.UUID(tenant_id),
                version=version,
                wrapped_key=wrapped,
                master_key_id=key_id,
                created_at=dt.datetime.now(dt.UTC),
            )
        )
        self.forget(tenant_id)
        return version

    async def rewrap_all(self) -> int:
        """Re-wrap every data key under the current master key (online master-key rotation)."""
        count = 0
        rows = await TenantKey.select()
        for r in rows:
            if r["master_key_id"] == self.keyring.current_id:
                continue
            tenant_id = str(r["tenant"])
            key = self.keyring.unwrap(
                bytes(r["wrapped_key"]), r["master_key_id"], tenant_id, r["version"]
            )
            wrapped, key_id = self.keyring.wrap(key, tenant_id, r["version"])
            await TenantKey.update(
                {TenantKey.wrapped_key: wrapped, TenantKey.master_key_id: key_id}
            ).where((TenantKey.id == r["id"]) & (TenantKey.master_key_id == r["master_key_id"]))
            count += 1
        self.forget()
        return count


_vault: Vault | None = None


def init_vault(master_keys: tuple[str, ...]) -> Vault:
    global _vault
    _vault = Vault(MasterKeyring.from_strings(master_keys))
    return _vault


def get_vault() -> Vault:
    if _vault is None:
        raise VaultError("the vault is not initialised")
    return _vault
