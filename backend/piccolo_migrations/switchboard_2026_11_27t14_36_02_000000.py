"""Sync jobs stay cheap to update: a running job's row is updated once per page (position,
counters, heartbeat). An index on heartbeat_at made each of those updates a non-HOT one,
adding an entry to every index of the table per page, so a long run slowed down page after
page. The sweeper's index now names only columns a run never changes, and the table keeps
room on each page for HOT updates.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class RawTable(Table):
    """Only a handle for running raw SQL through the configured engine."""


ID = "2026-11-27T14:36:02:000000"
VERSION = "1.38.0"
DESCRIPTION = "sync jobs: HOT updates per page (no index on heartbeat_at, fillfactor 80)"

STATEMENTS = [
    "DROP INDEX IF EXISTS sync_job_running",
    "CREATE INDEX IF NOT EXISTS sync_job_live_age ON integration_sync_job (created_at) WHERE status IN ('queued', 'running')",
    "ALTER TABLE integration_sync_job SET (fillfactor = 80)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="switchboard", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement)

    manager.add_raw(run)
    return manager
