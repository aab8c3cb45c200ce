"""Time-partitioned event, log and metric tables (issue 16), with webhook dedupe kept in a
table of its own.

Each table becomes `PARTITION BY RANGE` on its time column: `integration_webhook` and
`integration_metric` by day, `integration_log` by month (docs/scaling.md says why). The
existing table is not copied: it is renamed and attached as the first partition, covering
everything before the first new partition (its indexes are reused, only the primary key,
which must now hold the partition key, is rebuilt). Retention then drops whole partitions.

A unique index on a partitioned table must contain the partition key, so the webhook's
dedupe keys (integration + provider event id, integration + signed digest) move to
`integration_webhook_key`, one narrow row per stored event inserted by the same statement
as the event (see backend/webhooks/store.py). A row trigger forgets an event's key when the
event is deleted (test-mode purge, an integration's cascade); dropping a partition fires no
trigger, so retention deletes the keys of what it drops itself. `switchboard.keep_keys`
set locally turns the trigger off while rows move between partitions.

Partitions ahead of now and the DEFAULT partition (the safety net that keeps an insert from
failing when the worker did not create a partition in time) are created here too; the
worker keeps creating them (backend/lib/partitions.py).
"""

import datetime as dt

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class RawTable(Table):
    """Only a handle for running raw SQL through the configured engine."""


ID = "2026-12-02T14:26:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "partition integration_webhook, integration_log, integration_metric by time"

# table, time column, unit, partitions created ahead, indexes of the old table reused by
# the partitioned one (renamed so the parent's can take their names), statements after.
_WEBHOOK_INDEXES = ("recent", "unqueued", "failed", "simulated")
_LOG_INDEXES = ("recent", "simulated", "level_age")
_METRIC_INDEXES = ("bucket", "tenant")

_KEY_TABLE = [
    """CREATE TABLE IF NOT EXISTS integration_webhook_key (
        integration uuid NOT NULL,
        provider_event_id varchar(255) NOT NULL,
        signed_digest bytea NULL,
        event_id uuid NOT NULL,
        received_at timestamptz NOT NULL
    )""",
    "INSERT INTO integration_webhook_key"
    " (integration, provider_event_id, signed_digest, event_id, received_at)"
    " SELECT integration, provider_event_id, signed_digest, id, received_at"
    " FROM integration_webhook_old",
    # The old table's unique dedupe indexes move to the key table, under the same names.
    "DROP INDEX IF EXISTS integration_webhook_dedupe",
    "DROP INDEX IF EXISTS integration_webhook_signed_digest",
    "CREATE UNIQUE INDEX integration_webhook_dedupe ON integration_webhook_key"
    " (integration, provider_event_id)",
    "CREATE UNIQUE INDEX integration_webhook_signed_digest ON integration_webhook_key"
    " (integration, signed_digest) WHERE signed_digest IS NOT NULL",
    # Serves the trigger's lookup by event and retention's range delete by age.
    "CREATE INDEX integration_webhook_key_age ON integration_webhook_key (received_at, event_id)",
]

_WEBHOOK_PARENT = [
    "ALTER TABLE integration_webhook ADD PRIMARY KEY (id, received_at)",
    "ALTER TABLE integration_webhook ADD FOREIGN KEY (tenant) REFERENCES tenant (id)"
    " ON DELETE CASCADE ON UPDATE CASCADE",
    "ALTER TABLE integration_webhook ADD FOREIGN KEY (integration) REFERENCES integration (id)"
    " ON DELETE CASCADE ON UPDATE CASCADE",
    "CREATE INDEX integration_webhook_recent ON integration_webhook"
    " (integration, received_at DESC, id DESC)",
    "CREATE INDEX integration_webhook_unqueued ON integration_webhook (received_at, id)"
    " WHERE status = 'received'",
    "CREATE INDEX integration_webhook_failed ON integration_webhook (integration)"
    " WHERE status IN ('failed', 'dead')",
    "CREATE INDEX integration_webhook_simulated ON integration_webhook (integration)"
    " WHERE simulated",
    """CREATE OR REPLACE FUNCTION integration_webhook_forget_key() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF current_setting('switchboard.keep_keys', true) = 'on' THEN
            RETURN NULL;
        END IF;
        DELETE FROM integration_webhook_key
        WHERE received_at = OLD.received_at AND event_id = OLD.id;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER integration_webhook_forget_key AFTER DELETE ON integration_webhook"
    " FOR EACH ROW EXECUTE FUNCTION integration_webhook_forget_key()",
]

_LOG_PARENT = [
    "ALTER TABLE integration_log ADD PRIMARY KEY (id, created_at)",
    "ALTER TABLE integration_log ADD FOREIGN KEY (tenant) REFERENCES tenant (id)"
    " ON DELETE CASCADE ON UPDATE CASCADE",
    "ALTER TABLE integration_log ADD FOREIGN KEY (integration) REFERENCES integration (id)"
    " ON DELETE CASCADE ON UPDATE CASCADE",
    "CREATE INDEX integration_log_recent ON integration_log"
    " (integration, created_at DESC, id DESC)",
    "CREATE INDEX integration_log_simulated ON integration_log (integration) WHERE simulated",
    "CREATE INDEX integration_log_level_age ON integration_log (level, created_at)",
]

_METRIC_PARENT = [
    "ALTER TABLE integration_metric ADD PRIMARY KEY (id, bucket_start)",
    "ALTER TABLE integration_metric ADD FOREIGN KEY (tenant) REFERENCES tenant (id)"
    " ON DELETE CASCADE ON UPDATE CASCADE",
    "ALTER TABLE integration_metric ADD FOREIGN KEY (integration) REFERENCES integration (id)"
    " ON DELETE CASCADE ON UPDATE CASCADE",
    "CREATE UNIQUE INDEX integration_metric_bucket ON integration_metric"
    " (integration, bucket_start, name, reason)",
    "CREATE INDEX integration_metric_tenant ON integration_metric (tenant, bucket_start)",
    # The id sequence belonged to the old table, which retention will drop one day.
    "ALTER SEQUENCE integration_metric_id_seq OWNED BY integration_metric.id",
]


def _day(at: dt.datetime) -> dt.datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def _month(at: dt.datetime) -> dt.datetime:
    return _day(at).replace(day=1)


def _next(start: dt.datetime, unit: str) -> dt.datetime:
    if unit == "day":
        return start + dt.timedelta(days=1)
    return (start + dt.timedelta(days=32)).replace(day=1)


def _name(table: str, start: dt.datetime, unit: str) -> str:
    return f"{table}_p{start:%Y%m%d}" if unit == "day" else f"{table}_p{start:%Y%m}"


def _literal(at: dt.datetime) -> str:
    return f"'{at.isoformat()}'"


def _convert(
    table: str,
    column: str,
    unit: str,
    ahead: int,
    old_indexes: tuple[str, ...],
    key_statements: list[str],
    parent: list[str],
) -> list[str]:
    now = dt.datetime.now(dt.UTC)
    first = _next(_day(now) if unit == "day" else _month(now), unit)  # the first new partition
    old = f"{table}_old"
    statements = [
        f"ALTER TABLE {table} RENAME TO {old}",
        *(f"ALTER INDEX {table}_{index} RENAME TO {old}_{index}" for index in old_indexes),
        f"ALTER TABLE {old} DROP CONSTRAINT {table}_pkey",
        f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
        f" INCLUDING STORAGE INCLUDING COMPRESSION) PARTITION BY RANGE ({column})",
        # Its own foreign keys go: the parent's apply to it once attached.
        f"ALTER TABLE {old} DROP CONSTRAINT IF EXISTS {table}_tenant_fkey",
        f"ALTER TABLE {old} DROP CONSTRAINT IF EXISTS {table}_integration_fkey",
        *key_statements,
        *parent,
        # Matching indexes of the old table are attached, not rebuilt.
        f"ALTER TABLE {table} ATTACH PARTITION {old}"
        f" FOR VALUES FROM (MINVALUE) TO ({_literal(first)})",
        f"ALTER TABLE {old} RENAME TO {table}_until_{first:%Y%m%d}",
        f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT",
    ]
    start = first
    for _ in range(ahead):
        end = _next(start, unit)
        statements.append(
            f"CREATE TABLE {_name(table, start, unit)} PARTITION OF {table}"
            f" FOR VALUES FROM ({_literal(start)}) TO ({_literal(end)})"
        )
        start = end
    return statements


def statements() -> list[str]:
    return [
        *_convert(
            "integration_webhook",
            "received_at",
            "day",
            7,
            _WEBHOOK_INDEXES,
            _KEY_TABLE,
            _WEBHOOK_PARENT,
        ),
        *_convert("integration_log", "created_at", "month", 2, _LOG_INDEXES, [], _LOG_PARENT),
        *_convert(
            "integration_metric", "bucket_start", "day", 7, _METRIC_INDEXES, [], _METRIC_PARENT
        ),
    ]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="switchboard", description=DESCRIPTION)

    async def run() -> None:
        for statement in statements():
            await RawTable.raw(statement)

    manager.add_raw(run)
    return manager
