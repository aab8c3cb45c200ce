"""Sync schedules (issue 12): per integration, which streams sync on their own and how often,
and whether its automatic syncs are paused; records are listed newest first by when each
was first seen.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class RawTable(Table):
    """Only a handle for running raw SQL through the configured engine."""


ID = "2026-11-27T14:13:19:000000"
VERSION = "1.38.0"
DESCRIPTION = "sync_schedule table; synced_record listing index"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS sync_schedule (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant uuid NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
        integration uuid NOT NULL UNIQUE REFERENCES integration (id) ON DELETE CASCADE,
        streams jsonb NULL DEFAULT NULL,
        paused boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX IF NOT EXISTS synced_record_listing ON synced_record"
    " (integration, first_seen_at DESC, id DESC)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="switchboard", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement)

    manager.add_raw(run)
    return manager
