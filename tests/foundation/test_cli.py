"""The operator commands, run as an operator would: as processes against the database."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )


async def test_tenants_create_and_list(client) -> None:
    created = json.loads(run("tenants", "create", "acme-cli").stdout)
    assert set(created) == {"tenant_id", "api_key"} and created["api_key"].startswith("sb_")
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {created['api_key']}"})
    assert me.status_code == 200 and me.json()["tenant_name"] == "acme-cli"
    listed = json.loads(run("tenants", "list").stdout)
    assert created["tenant_id"] in [t["tenant_id"] for t in listed]
    assert created["api_key"] not in run("tenants", "list").stdout


async def test_keys_rotate_rewraps_under_the_new_master_key(client, make_tenant, raw_rows) -> None:
    from backend.lib.crypto import MasterKeyring
    from backend.settings import get_settings
    from backend.tenants import vault as vault_module

    tenant = await make_tenant("cli-rotation")
    vault = vault_module.get_vault()
    sealed = await vault.seal(str(tenant.id), b"still readable", "r")
    old = os.environ["SWITCHBOARD_MASTER_KEY"]
    new_key = base64.b64encode(os.urandom(32)).decode()
    try:
        out = json.loads(
            run(
                "keys", "rotate", "--data-keys", env={"SWITCHBOARD_MASTER_KEY": f"{new_key},{old}"}
            ).stdout
        )
    finally:
        # Every tenant key is now wrapped by the new master key: this process and the
        # processes later tests start keep both.
        vault_module._vault = vault_module.Vault(MasterKeyring.from_strings((new_key, old)))
        os.environ["SWITCHBOARD_MASTER_KEY"] = f"{new_key},{old}"
        # Apps started later in this process (their lifespan re-inits the vault from the
        # settings) must see both keys too, not the settings cached before the rotation.
        get_settings.cache_clear()
    assert out["rewrapped"] >= 1 and out["new_data_keys"] >= 1
    ids = {
        r["master_key_id"] for r in await raw_rows("SELECT DISTINCT master_key_id FROM tenant_key")
    }
    only_new = MasterKeyring.from_strings((new_key,))
    assert ids == {only_new.current_id}
    vault_module._vault = vault_module.Vault(only_new)
    try:
        assert await vault_module.get_vault().open(str(tenant.id), sealed, "r") == b"still readable"
    finally:
        vault_module._vault = vault_module.Vault(MasterKeyring.from_strings((new_key, old)))


def test_up_help_lists_every_setting() -> None:
    from dataclasses import fields

    from backend.settings import Settings

    text = run("up", "--help").stdout
    for f in fields(Settings):
        assert f.metadata["env"] in text


@pytest.mark.parametrize("argv", [["tenants"], ["keys"], ["nope"]])
def test_bad_usage_exits_nonzero(argv: list[str]) -> None:
    with pytest.raises(subprocess.CalledProcessError):
        run(*argv)
