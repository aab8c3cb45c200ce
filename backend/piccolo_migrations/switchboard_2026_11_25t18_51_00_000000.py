"""Constraints and indexes the flows rely on, which Piccolo's auto migrations can't express
(composite uniques, partial and descending indexes, cascading foreign keys stay as generated)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class RawTable(Table):
    """Only a handle for running raw SQL through the configured engine."""


ID = "2026-11-25T18:51:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite uniques and query indexes"

STATEMENTS = [
    # Webhook dedupe: one row per provider event id per integration (ingest's ON CONFLICT).
    "CREATE UNIQUE INDEX IF NOT EXISTS integration_webhook_dedupe ON integration_webhook (integration, provider_event_id)",
    "CREATE INDEX IF NOT EXISTS integration_webhook_recent ON integration_webhook (integration, received_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS integration_webhook_pending ON integration_webhook (received_at) WHERE status = 'received'",
    "CREATE INDEX IF NOT EXISTS integration_webhook_failed ON integration_webhook (integration) WHERE status IN ('failed', 'dead')",
    "CREATE UNIQUE INDEX IF NOT EXISTS tenant_key_version ON tenant_key (tenant, version)",
    "CREATE INDEX IF NOT EXISTS integration_tenant_recent ON integration (tenant, created_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS integration_token_expiry ON integration (token_expires_at) WHERE token_expires_at IS NOT NULL AND status = 'connected'",
    "CREATE INDEX IF NOT EXISTS oauth_state_expiry ON oauth_state (expires_at)",
    "CREATE UNIQUE INDEX IF NOT EXISTS sync_cursor_stream ON sync_cursor (integration, stream)",
    "CREATE UNIQUE INDEX IF NOT EXISTS synced_record_identity ON synced_record (integration, stream, external_id)",
    "CREATE INDEX IF NOT EXISTS sync_job_recent ON integration_sync_job (integration, created_at DESC, id DESC)",
    "CREATE UNIQUE INDEX IF NOT EXISTS integration_mapping_version ON integration_mapping (integration, source_type, version)",
    "CREATE INDEX IF NOT EXISTS integration_log_recent ON integration_log (integration, created_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS audit_log_recent ON audit_log (tenant, created_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS alert_open ON alert (integration, kind) WHERE status = 'open'",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="switchboard", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement)

    manager.add_raw(run)
    return manager
