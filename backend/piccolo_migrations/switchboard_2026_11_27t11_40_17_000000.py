"""Replay dedupe and a sweeper that pages: the signed-digest key and the unqueued index.

`signed_digest` is a second dedupe key for deliveries whose provider id is an unsigned
header (GitHub, Jira, Twilio, generic HMAC); the unique index is partial, so signed-id
providers pay nothing for it on insert. The sweeper pages lost rows by (received_at, id),
so its index holds both columns; it replaces the received_at-only one (same rows, same
cost per insert).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class RawTable(Table):
    """Only a handle for running raw SQL through the configured engine."""


ID = "2026-11-27T11:40:17:000000"
VERSION = "1.38.0"
DESCRIPTION = "signed-digest dedupe key; sweeper index by (received_at, id)"

STATEMENTS = [
    "ALTER TABLE integration_webhook ADD COLUMN IF NOT EXISTS signed_digest bytea NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS integration_webhook_signed_digest"
    " ON integration_webhook (integration, signed_digest) WHERE signed_digest IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS integration_webhook_unqueued"
    " ON integration_webhook (received_at, id) WHERE status = 'received'",
    "DROP INDEX IF EXISTS integration_webhook_pending",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="switchboard", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement)

    manager.add_raw(run)
    return manager
