"""Field mappings: one current version per source, and where a restored version came from.

Each save of a source is a new version; `active` marks the one in force. The partial unique
index makes "one current version per (integration, source)" a rule the database keeps (two
concurrent saves cannot both win) and serves the worker's lookup of the current version.
Rows written before (several active versions of a source) keep only their newest active.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class RawTable(Table):
    """Only a handle for running raw SQL through the configured engine."""


ID = "2026-11-27T12:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "mapping versions: one current per source, restored_from"

FORWARDS = [
    "ALTER TABLE integration_mapping ADD COLUMN IF NOT EXISTS restored_from integer NULL",
    "UPDATE integration_mapping m SET active = false WHERE active AND EXISTS ("
    " SELECT 1 FROM integration_mapping n WHERE n.integration = m.integration"
    " AND n.source_type = m.source_type AND n.active AND n.version > m.version)",
    "CREATE UNIQUE INDEX IF NOT EXISTS integration_mapping_current"
    " ON integration_mapping (integration, source_type) WHERE active",
]
BACKWARDS = [
    "DROP INDEX IF EXISTS integration_mapping_current",
    "ALTER TABLE integration_mapping DROP COLUMN IF EXISTS restored_from",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="switchboard", description=DESCRIPTION)

    async def run(statements: list[str]) -> None:
        for statement in statements:
            await RawTable.raw(statement)

    async def run_forwards() -> None:
        await run(FORWARDS)

    async def run_backwards() -> None:
        await run(BACKWARDS)

    manager.add_raw(run_forwards)
    manager.add_raw_backwards(run_backwards)
    return manager
