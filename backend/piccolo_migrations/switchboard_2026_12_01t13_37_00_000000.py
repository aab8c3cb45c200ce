"""Log retention per level (issue 15): the worker deletes a level's entries older than its
retention in bounded batches; this index lets each batch find them without scanning the
whole log.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class RawTable(Table):
    """Only a handle for running raw SQL through the configured engine."""


ID = "2026-12-01T13:37:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "index integration_log by level and created_at for retention"

STATEMENTS = [
    "CREATE INDEX IF NOT EXISTS integration_log_level_age ON integration_log (level, created_at)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="switchboard", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement)

    manager.add_raw(run)
    return manager
