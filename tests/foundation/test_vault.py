"""Envelope encryption: round trip, tamper, AAD binding, rotation keeps old data readable."""

from __future__ import annotations

import base64
import os

import pytest

from backend.lib.crypto import DataKeys, MasterKeyring, VaultError, key_version_of, new_data_key


def ring(*keys: bytes) -> MasterKeyring:
    return MasterKeyring.from_strings(tuple(base64.b64encode(k).decode() for k in keys))


def test_round_trip_and_version_header() -> None:
    keys = DataKeys("t1", {1: new_data_key()})
    sealed = keys.seal(b"xoxb-secret", "integration:1:credentials")
    assert b"xoxb-secret" not in sealed
    assert key_version_of(sealed) == 1
    assert keys.open(sealed, "integration:1:credentials") == b"xoxb-secret"


def test_tampered_ciphertext_is_rejected() -> None:
    keys = DataKeys("t1", {1: new_data_key()})
    sealed = bytearray(keys.seal(b"secret", "r"))
    sealed[-1] ^= 0x01
    with pytest.raises(VaultError, match="authentication"):
        keys.open(bytes(sealed), "r")


def test_other_record_or_tenant_does_not_decrypt() -> None:
    key = new_data_key()
    sealed = DataKeys("t1", {1: key}).seal(b"secret", "integration:1:credentials")
    with pytest.raises(VaultError):
        DataKeys("t1", {1: key}).open(sealed, "integration:2:credentials")
    with pytest.raises(VaultError):
        DataKeys("t2", {1: key}).open(sealed, "integration:1:credentials")


def test_data_key_rotation_keeps_old_ciphertexts() -> None:
    old, new = new_data_key(), new_data_key()
    sealed_old = DataKeys("t", {1: old}).seal(b"old", "r")
    both = DataKeys("t", {1: old, 2: new})
    sealed_new = both.seal(b"new", "r")
    assert key_version_of(sealed_new) == 2
    assert both.open(sealed_old, "r") == b"old"
    assert both.open(sealed_new, "r") == b"new"


def test_master_key_rotation_unwraps_old_wrapping() -> None:
    first, second = os.urandom(32), os.urandom(32)
    data_key = new_data_key()
    wrapped, key_id = ring(first).wrap(data_key, "t", 1)
    rotated = ring(second, first)
    assert rotated.unwrap(wrapped, key_id, "t", 1) == data_key
    rewrapped, new_id = rotated.wrap(data_key, "t", 1)
    assert new_id != key_id
    assert ring(second).unwrap(rewrapped, new_id, "t", 1) == data_key
    with pytest.raises(VaultError, match="not configured"):
        ring(second).unwrap(wrapped, key_id, "t", 1)


def test_wrapped_key_bound_to_tenant_and_version() -> None:
    r = ring(os.urandom(32))
    wrapped, key_id = r.wrap(new_data_key(), "t1", 1)
    with pytest.raises(VaultError):
        r.unwrap(wrapped, key_id, "t2", 1)
    with pytest.raises(VaultError):
        r.unwrap(wrapped, key_id, "t1", 2)


@pytest.mark.parametrize("bad", ["not base64!!", base64.b64encode(b"short").decode()])
def test_bad_master_keys_fail_clearly(bad: str) -> None:
    with pytest.raises(VaultError, match="master key #1"):
        MasterKeyring.from_strings((bad,))


def test_truncated_ciphertext() -> None:
    with pytest.raises(VaultError, match="truncated"):
        DataKeys("t", {1: new_data_key()}).open(b"SB1", "r")


async def test_online_rotation_with_database(client, make_tenant) -> None:
    """keys rotate: new master key first, old second → re-wrap; data stays readable and
    the old master key can then be dropped."""
    from backend.tenants import vault as vault_module
    from backend.tenants.tables import TenantKey

    tenant = await make_tenant("rotation")
    vault = vault_module.get_vault()
    sealed = await vault.seal(str(tenant.id), b"payload", "integration:x:credentials")

    old_keys = vault.keyring.keys
    new_master = os.urandom(32)
    vault_module._vault = vault_module.Vault(MasterKeyring((new_master, *old_keys)))
    try:
        assert await vault_module.get_vault().rewrap_all() >= 1
        rows = await TenantKey.select().where(TenantKey.tenant == tenant.id)
        assert {r["master_key_id"] for r in rows} == {vault_module.get_vault().keyring.current_id}
        new_version = await vault_module.get_vault().add_data_key(str(tenant.id))
        assert new_version == 2
        # Only the new master key now: old ciphertexts still open, new ones use version 2.
        vault_module._vault = vault_module.Vault(MasterKeyring((new_master,)))
        v = vault_module.get_vault()
        assert await v.open(str(tenant.id), sealed, "integration:x:credentials") == b"payload"
        assert key_version_of(await v.seal(str(tenant.id), b"n", "r")) == 2
    finally:
        # Leave a keyring that opens everything for the rest of the session.
        vault_module._vault = vault_module.Vault(MasterKeyring((new_master, *old_keys)))
