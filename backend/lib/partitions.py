"""Time partitions of the event, log and metric tables: created ahead, dropped past retention.

The tables are `PARTITION BY RANGE` on their time column (see the partitioning migration
and docs/scaling.md). The worker runs `maintain_partitions` at startup and every hour: it
creates the partitions of the next few days or months, so an insert never meets a missing
one (and if the worker was down that long, the DEFAULT partition takes the rows: the next
run moves them into the partition it creates), then drops whole partitions older than the
retention, which costs a catalog update instead of a DELETE of every row.

Table and column names in the SQL come from `TABLES`, never from input.

DDL takes locks an insert waits behind: each statement gives up after `LOCK_TIMEOUT`
rather than queue the ingest path behind a long query, and the next run tries again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg

from backend.lib.db import pool
from backend.settings import Settings, get_settings

log = logging.getLogger("switchboard.partitions")

Unit = Literal["day", "month"]
LOCK_TIMEOUT = "5s"
# Dedupe keys of dropped events go in batches, so one run never holds a huge transaction.
KEY_BATCH = 10_000


def _longest_log_retention(settings: Settings) -> int:
    """Log partitions hold every level: one goes when its longest-kept level expires (0:
    some level is kept forever). Shorter-lived levels are deleted from live partitions by
    backend/observability/logs.py."""
    days = (
        settings.log_retention_days_debug,
        settings.log_retention_days_info,
        settings.log_retention_days_warning,
        settings.log_retention_days_error,
    )
    return 0 if min(days) <= 0 else max(days)


@dataclass(frozen=True, slots=True)
class PartitionedTable:
    name: str
    column: str
    unit: Unit
    ahead: int  # partitions kept ready after the current one
    retention_days: Callable[[Settings], int]  # 0 or less: never dropped


WEBHOOK = PartitionedTable(
    "integration_webhook", "received_at", "day", 7, lambda s: s.event_retention_days
)
LOG = PartitionedTable("integration_log", "created_at", "month", 2, _longest_log_retention)
METRIC = PartitionedTable(
    "integration_metric", "bucket_start", "day", 7, lambda s: s.metric_retention_days
)
TABLES = (WEBHOOK, LOG, METRIC)


def unit_start(at: dt.datetime, unit: Unit) -> dt.datetime:
    day = at.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day if unit == "day" else day.replace(day=1)


def next_start(start: dt.datetime, unit: Unit) -> dt.datetime:
    if unit == "day":
        return start + dt.timedelta(days=1)
    return (start + dt.timedelta(days=32)).replace(day=1)


def partition_name(table: PartitionedTable, start: dt.datetime) -> str:
    stamp = f"{start:%Y%m%d}" if table.unit == "day" else f"{start:%Y%m}"
    return f"{table.name}_p{stamp}"


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    lower: dt.datetime | None  # None: MINVALUE
    upper: dt.datetime | None  # None: MAXVALUE
    default: bool


# Bounds as PostgreSQL prints them, read back as timestamptz by PostgreSQL itself.
_PARTITIONS = r"""
SELECT c.relname AS name, b.bound = 'DEFAULT' AS is_default,
       (regexp_match(b.bound, 'FROM \(''([^'']+)''\)'))[1]::timestamptz AS lower,
       (regexp_match(b.bound, 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS bound) b
WHERE i.inhparent = $1::regclass
ORDER BY lower NULLS FIRST
"""


async def partitions(conn: Any, table: PartitionedTable) -> list[Partition]:
    rows = await conn.fetch(_PARTITIONS, table.name)
    return [Partition(r["name"], r["lower"], r["upper"], r["is_default"]) for r in rows]


def _overlaps(p: Partition, lower: dt.datetime, upper: dt.datetime) -> bool:
    return (
        not p.default
        and (p.lower is None or p.lower < upper)
        and (p.upper is None or lower < p.upper)
    )


async def _create(
    conn: Any, table: PartitionedTable, lower: dt.datetime, upper: dt.datetime
) -> None:
    """One partition; rows the DEFAULT partition took for its range move into it."""
    name = partition_name(table, lower)
    default = f"{table.name}_default"
    bounds = f"FROM ('{lower.isoformat()}') TO ('{upper.isoformat()}')"
    async with conn.transaction():
        await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        stranded = await conn.fetchval(
            f"SELECT EXISTS (SELECT 1 FROM {default} WHERE {table.column} >= $1"  # noqa: S608
            f" AND {table.column} < $2)",
            lower,
            upper,
        )
        if not stranded:
            await conn.execute(f"CREATE TABLE {name} PARTITION OF {table.name} FOR VALUES {bounds}")
            return
        # Moving rows is a delete and an insert: the events' dedupe keys stay as they are.
        await conn.execute("SET LOCAL switchboard.keep_keys = 'on'")
        await conn.execute(
            f"CREATE TABLE {name} (LIKE {table.name} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        moved = await conn.execute(
            f"WITH moved AS (DELETE FROM {default} WHERE {table.column} >= $1"  # noqa: S608
            f" AND {table.column} < $2 RETURNING *) INSERT INTO {name} SELECT * FROM moved",
            lower,
            upper,
        )
        await conn.execute(f"ALTER TABLE {table.name} ATTACH PARTITION {name} FOR VALUES {bounds}")
        log.warning("partition %s created late: moved %s rows out of %s", name, moved, default)


@contextlib.asynccontextmanager
async def _connection(conn: Any | None) -> AsyncIterator[Any]:
    """The caller's connection (a test's transaction), else one from the pool."""
    if conn is not None:
        yield conn
        return
    async with pool().acquire() as acquired:
        yield acquired


async def ensure_partitions(
    now: dt.datetime | None = None,
    tables: tuple[PartitionedTable, ...] = TABLES,
    conn: Any | None = None,
) -> list[str]:
    """Create the current and the next `ahead` partitions of each table that are missing;
    returns their names. Ranges an existing partition covers (the converted old table) are
    left alone."""
    now = now or dt.datetime.now(dt.UTC)
    created: list[str] = []
    async with _connection(conn) as conn:
        for table in tables:
            existing = await partitions(conn, table)
            lower = unit_start(now, table.unit)
            for _ in range(table.ahead + 1):
                upper = next_start(lower, table.unit)
                if not any(_overlaps(p, lower, upper) for p in existing):
                    try:
                        await _create(conn, table, lower, upper)
                    except asyncpg.LockNotAvailableError:
                        log.warning("%s is busy; its partitions come on a later run", table.name)
                        break
                    created.append(partition_name(table, lower))
                lower = upper
    if created:
        log.info("created partitions %s", ", ".join(created))
    return created


async def _forget_keys(conn: Any, before: dt.datetime) -> int:
    """Dedupe keys of events received before `before`, the end of the partitions being
    dropped: retention is the dedupe window."""
    forgotten = 0
    while True:
        status = await conn.execute(
            "DELETE FROM integration_webhook_key WHERE ctid = ANY (ARRAY("
            " SELECT ctid FROM integration_webhook_key WHERE received_at < $1 LIMIT $2))",
            before,
            KEY_BATCH,
        )
        count = int(status.rsplit(" ", 1)[-1])
        forgotten += count
        if count < KEY_BATCH:
            return forgotten


async def drop_expired_partitions(
    now: dt.datetime | None = None,
    tables: tuple[PartitionedTable, ...] = TABLES,
    settings: Settings | None = None,
    conn: Any | None = None,
) -> list[str]:
    """Drop each table's partitions that end at or before now minus its retention, and
    delete the DEFAULT partition's rows past it; returns the dropped names."""
    now = now or dt.datetime.now(dt.UTC)
    settings = settings or get_settings()
    dropped: list[str] = []
    async with _connection(conn) as conn:
        for table in tables:
            days = table.retention_days(settings)
            if days <= 0:
                continue
            cutoff = now - dt.timedelta(days=days)
            expired = [
                p
                for p in await partitions(conn, table)
                if not p.default and p.upper is not None and p.upper <= cutoff
            ]
            if table is WEBHOOK and expired:
                # The keys of what goes; the DEFAULT partition's rows below take theirs with
                # them (the delete trigger).
                await _forget_keys(conn, max(p.upper for p in expired if p.upper))
            for p in expired:
                try:
                    async with conn.transaction():
                        await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                        await conn.execute(f"DROP TABLE {p.name}")
                except asyncpg.LockNotAvailableError:
                    log.warning("partition %s is busy; dropped on a later run", p.name)
                    continue
                dropped.append(p.name)
            # The safety net holds rows only when partitions came late: deleted row by row.
            await conn.execute(
                f"DELETE FROM {table.name}_default WHERE {table.column} < $1",  # noqa: S608
                cutoff,
            )
    if dropped:
        log.info("dropped expired partitions %s", ", ".join(dropped))
    return dropped


async def maintain_partitions(ctx: dict[str, Any] | None = None) -> dict[str, list[str]]:
    """Worker cron (and at worker startup): partitions ahead, then retention."""
    del ctx
    created = await ensure_partitions()
    dropped = await drop_expired_partitions()
    return {"created": created, "dropped": dropped}
