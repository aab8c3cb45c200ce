"""The token-refresh index matches the refresh query.

`integration_token_expiry` covered only `status = 'connected'`, which the worker's query
(`status IN ('connected', 'error')`: a token in error is still refreshed) does not imply, so
the planner scanned the whole table every minute. The new partial index repeats the query's
predicate and serves its `ORDER BY token_expires_at LIMIT n` as an ordered index scan.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class RawTable(Table):
    """Only a handle for running raw SQL through the configured engine."""


ID = "2026-11-27T11:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "token refresh index serves the refresh query"

FORWARDS = [
    "DROP INDEX IF EXISTS integration_token_expiry",
    "CREATE INDEX IF NOT EXISTS integration_token_refresh ON integration (token_expires_at) "
    "WHERE status IN ('connected', 'error') AND credentials IS NOT NULL "
    "AND token_expires_at IS NOT NULL",
]
BACKWARDS = [
    "DROP INDEX IF EXISTS integration_token_refresh",
    "CREATE INDEX IF NOT EXISTS integration_token_expiry ON integration (token_expires_at) "
    "WHERE token_expires_at IS NOT NULL AND status = 'connected'",
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
