"""The provider account an integration is connected to, and the index app-level routing uses.

`account_id`/`account_name` are learned from the provider's answer at connect (Slack team,
HubSpot portal, Gmail address, ...). App-level deliveries find every integration of an
account by (connector, account_id) inside their insert, so that lookup is an index probe.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class RawTable(Table):
    """Only a handle for running raw SQL through the configured engine."""


ID = "2026-11-28T09:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "integration account (id, name); routing index by (connector, account_id)"

STATEMENTS = [
    "ALTER TABLE integration ADD COLUMN IF NOT EXISTS account_id varchar(255) NOT NULL DEFAULT ''",
    "ALTER TABLE integration ADD COLUMN IF NOT EXISTS account_name varchar(255) NOT NULL"
    " DEFAULT ''",
    "CREATE INDEX IF NOT EXISTS integration_account ON integration (connector, account_id)"
    " WHERE revoked_at IS NULL",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="switchboard", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement)

    manager.add_raw(run)
    return manager
