"""Alert acknowledgement (issue 15): who acknowledged an alert and when. An acknowledged
alert stays open until its rule resolves it; the acknowledgement only says someone saw it.
The index serves GET /api/alerts (a tenant's alerts by status, newest first).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class RawTable(Table):
    """Only a handle for running raw SQL through the configured engine."""


ID = "2026-12-01T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "alert acknowledged_at/acknowledged_by; index by tenant, status, opened_at"

STATEMENTS = [
    "ALTER TABLE alert ADD COLUMN IF NOT EXISTS acknowledged_at timestamptz NULL",
    "ALTER TABLE alert ADD COLUMN IF NOT EXISTS acknowledged_by varchar(100) NOT NULL DEFAULT ''",
    "CREATE INDEX IF NOT EXISTS alert_tenant_status ON alert (tenant, status, opened_at DESC)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="switchboard", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement)

    manager.add_raw(run)
    return manager
