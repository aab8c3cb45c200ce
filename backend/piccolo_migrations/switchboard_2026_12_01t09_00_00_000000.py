"""action_run: every outbound action call (issue 17), with the unique index that makes an
idempotency key answer its first call, and the index the runs list pages over."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class RawTable(Table):
    """Only a handle for running raw SQL through the configured engine."""


ID = "2026-12-01T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "action_run table, idempotency and listing indexes"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS action_run (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant uuid NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
        integration uuid NOT NULL REFERENCES integration (id) ON DELETE CASCADE,
        connector varchar(64) NOT NULL DEFAULT '',
        action varchar(64) NOT NULL DEFAULT '',
        status varchar(16) NOT NULL DEFAULT 'queued',
        idempotency_key varchar(255) NULL DEFAULT NULL,
        request_hash varchar(64) NOT NULL DEFAULT '',
        input jsonb NOT NULL DEFAULT jsonb_build_object(),
        input_sealed bytea NULL DEFAULT NULL,
        result jsonb NOT NULL DEFAULT jsonb_build_object(),
        provider_response jsonb NOT NULL DEFAULT jsonb_build_object(),
        error text NOT NULL DEFAULT '',
        error_kind varchar(32) NOT NULL DEFAULT '',
        attempts integer NOT NULL DEFAULT 0,
        duration_ms integer NOT NULL DEFAULT 0,
        actor varchar(255) NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz NULL DEFAULT NULL
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS action_run_idempotency ON action_run"
    " (integration, idempotency_key)",
    "CREATE INDEX IF NOT EXISTS action_run_recent ON action_run"
    " (integration, created_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS action_run_tenant ON action_run (tenant)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="switchboard", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement)

    manager.add_raw(run)
    return manager
