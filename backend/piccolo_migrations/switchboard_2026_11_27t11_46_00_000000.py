"""Secret config values stored in clear before they were sealed (WhatsApp's verify_token) are
sealed with the tenant's data key, like every other integration secret.

This needs the vault, so the master key: `switchboard migrate` reads it from the environment
(`up` passes the one it uses). A database with nothing to seal migrates without one.
"""

import json
import uuid

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

from backend.connectors.registry import providers
from backend.integrations.secrets import seal_config, secret_config_keys
from backend.lib.crypto import VaultError
from backend.settings import get_settings
from backend.tenants.vault import get_vault, init_vault


class RawTable(Table):
    """Only a handle for running raw SQL through the configured engine."""


ID = "2026-11-27T11:46:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "seal secret config values stored in clear"

_FIND = (
    "SELECT id, tenant, connector, config::text AS config FROM integration "
    "WHERE connector = {} AND config ? {}"
)
_STORE = "UPDATE integration SET config = {}::jsonb WHERE id = {}"


def _ensure_vault() -> None:
    try:
        get_vault()
    except VaultError:
        keys = get_settings().master_keys
        if not keys:
            raise VaultError(
                "integrations hold secret config values in clear; set SWITCHBOARD_MASTER_KEY "
                "and run `switchboard migrate` again to seal them"
            ) from None
        init_vault(keys)


async def seal_plaintext_secret_config() -> int:
    """Seal every secret config value still in clear; returns how many rows changed."""
    sealed = 0
    for key, provider in providers().items():
        for secret_key in secret_config_keys(provider.spec):
            rows = await RawTable.raw(_FIND, key, secret_key)
            for row in rows:
                _ensure_vault()
                config = json.loads(row["config"])
                integration_id = uuid.UUID(str(row["id"]))
                stored = await seal_config(
                    uuid.UUID(str(row["tenant"])), integration_id, provider.spec, config, config
                )
                await RawTable.raw(_STORE, json.dumps(stored), integration_id)
                sealed += 1
    return sealed


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="switchboard", description=DESCRIPTION)
    manager.add_raw(seal_plaintext_secret_config)
    return manager
