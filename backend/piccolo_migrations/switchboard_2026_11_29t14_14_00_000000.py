"""The `simulated` flag on received events and integration log entries (issue 14).

Test mode sends simulated deliveries through the real webhook path, live integrations
included; the flag lets the events API filter them out and lets purge remove exactly what
simulation left. Partial indexes: purge and the filter look up the (few) flagged rows of
one integration without touching the rest.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class RawTable(Table):
    """Only a handle for running raw SQL through the configured engine."""


ID = "2026-11-29T14:14:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "simulated flag on integration_webhook and integration_log"

STATEMENTS = [
    "ALTER TABLE integration_webhook ADD COLUMN IF NOT EXISTS simulated boolean NOT NULL"
    " DEFAULT false",
    "ALTER TABLE integration_log ADD COLUMN IF NOT EXISTS simulated boolean NOT NULL DEFAULT false",
    "CREATE INDEX IF NOT EXISTS integration_webhook_simulated ON integration_webhook"
    " (integration) WHERE simulated",
    "CREATE INDEX IF NOT EXISTS integration_log_simulated ON integration_log (integration)"
    " WHERE simulated",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="switchboard", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement)

    manager.add_raw(run)
    return manager
