"""Per-integration metric buckets (issue 15): one row per integration, minute, counter and
reason, incremented by upserts from a per-process buffer, so a busy integration costs a
few rows a minute and never a row per event. Latency histograms are counters too: the
reason names the bucket's upper bound (`le_25` = at most 25 ms).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class RawTable(Table):
    """Only a handle for running raw SQL through the configured engine."""


ID = "2026-11-30T10:15:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "integration_metric: per-minute counter buckets per integration"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS integration_metric (
        id bigserial PRIMARY KEY,
        tenant uuid NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
        integration uuid NOT NULL REFERENCES integration (id) ON DELETE CASCADE,
        bucket_start timestamptz NOT NULL,
        name varchar(32) NOT NULL,
        reason varchar(32) NOT NULL DEFAULT '',
        value bigint NOT NULL DEFAULT 0
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS integration_metric_bucket ON integration_metric"
    " (integration, bucket_start, name, reason)",
    "CREATE INDEX IF NOT EXISTS integration_metric_tenant ON integration_metric"
    " (tenant, bucket_start)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="switchboard", description=DESCRIPTION)

    async def run() -> None:
        for statement in STATEMENTS:
            await RawTable.raw(statement)

    manager.add_raw(run)
    return manager
