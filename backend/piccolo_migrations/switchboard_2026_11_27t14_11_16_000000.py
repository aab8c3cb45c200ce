"""Sync engine (issue 12): jobs carry their backfill window, counters, resume position and
lease; records carry deletion, mapping version, first/last change and the job that last
read them. One live job per (integration, stream) is a partial unique index, so two
triggers racing each other cannot both start one.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class RawTable(Table):
    """Only a handle for running raw SQL through the configured engine."""


ID = "2026-11-27T14:11:16:000000"
VERSION = "1.38.0"
DESCRIPTION = "sync engine: job lease, position and counters; record deletion and mapping"

STATEMENTS = [
    "ALTER TABLE integration_sync_job DROP COLUMN IF EXISTS records_seen",
    "ALTER TABLE integration_sync_job ADD COLUMN IF NOT EXISTS since timestamptz NULL",
    'ALTER TABLE integration_sync_job ADD COLUMN IF NOT EXISTS "until" timestamptz NULL',
    "ALTER TABLE integration_sync_job ADD COLUMN IF NOT EXISTS pages integer NOT NULL DEFAULT 0",
    "ALTER TABLE integration_sync_job ADD COLUMN IF NOT EXISTS records_deleted integer NOT NULL DEFAULT 0",
    "ALTER TABLE integration_sync_job ADD COLUMN IF NOT EXISTS position jsonb NULL",
    "ALTER TABLE integration_sync_job ADD COLUMN IF NOT EXISTS lease uuid NULL",
    "ALTER TABLE integration_sync_job ADD COLUMN IF NOT EXISTS heartbeat_at timestamptz NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS sync_job_live ON integration_sync_job (integration, stream) WHERE status IN ('queued', 'running')",
    "CREATE INDEX IF NOT EXISTS sync_job_running ON integration_sync_job (heartbeat_at) WHERE status = 'running'",
    "CREATE INDEX IF NOT EXISTS sync_job_stream_recent ON integration_sync_job (integration, stream, created_at DESC, id DESC)",
    "ALTER TABLE synced_record ADD COLUMN IF NOT EXISTS mapping_version integer NULL",
    "ALTER TABLE synced_record ADD COLUMN IF NOT EXISTS deleted boolean NOT NULL DEFAULT false",
    "ALTER TABLE synced_record ADD COLUMN IF NOT EXISTS simulated boolean NOT NULL DEFAULT false",
    "ALTER TABLE synced_record ADD COLUMN IF NOT EXISTS first_seen_at timestamptz NOT NULL DEFAULT now()",
    "ALTER TABLE synced_record ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now()",
    "ALTER TABLE synced_record ADD COLUMN IF NOT EXISTS last_seen_job uuid NULL",
    # Both exist since the first constraints migration; stated here because the engine's
    # ON CONFLICT targets rely on them.
    "CREATE UNIQUE INDEX IF NOT EXISTS sync_cursor_stream ON sync_cursor (integration, stream)",
    "CREATE UNIQUE INDEX IF NOT EXISTS synced_record_identity ON synced_record (integration, stream, external_id)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="switchboard", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement)

    manager.add_raw(run)
    return manager
