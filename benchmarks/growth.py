"""Growth benchmark: ingest rate and query latency as one tenant's stored events grow.

`make bench` runs `.venv/bin/python -m benchmarks.growth` (levels 0, 1M and 10M stored
events: the 10M load takes several minutes). `--levels 0,1000000` for a shorter run.

What it does:
1. Creates a fresh database (benchmarks/webhook_ingest.py's `bench_env`/`prepare`: all
   migrations, a tenant and one connected GitHub integration), then replaces the converted
   old table's partition (empty here) with one partition per day for the last `--days`
   days, as a deployment looks once retention has run: the steady state being measured.
2. For each level, bulk-loads events up to it with `INSERT … SELECT generate_series` (with
   their dedupe keys), spread evenly over those days, `processed` like old events are, then
   VACUUM ANALYZE. The same rows go into `bench_legacy_webhook`, the unpartitioned layout
   from before partitioning (its unique dedupe indexes on the event table), up to
   `--legacy-max` rows: the cost of the dedupe key table is read against it.
3. Measures, at each level:
   - ingest: `store_event` (the api's insert statement, through the asyncpg pool) from
     `--connections` concurrent tasks for `--duration` s per round, rounds alternating
     with the old statement on the legacy table: events/s and p50/p99 of each, and the ratio;
   - query latency (p50/p99 over `--samples` runs, random positions): the events API's list
     query (first page and a page deep in history through its cursor), the event detail
     lookup by id, the worker's batch claim (backend/webhooks/batch.py's CLAIM, rolled
     back) and a duplicate delivery of an event stored at a random point of the history.
4. Prints a table, writes benchmarks/results/growth-<date>.json (with `--explain`, the
   `EXPLAIN (ANALYZE, BUFFERS)` plans of the list and claim queries at each level), drops
   the database.

Figures are of PostgreSQL work as the data grows, measured in one process and minute; the
HTTP front door's own cost does not depend on stored rows (benchmarks/webhook_ingest.py).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import statistics
import time
import uuid
from typing import Any

from benchmarks.webhook_ingest import RESULTS_DIR, bench_env, create_database, drop_database

# The insert before partitioning (git 2026-11-27, backend/webhooks/store.py), on a copy of
# the old layout: the baseline of the dedupe key table's cost.
LEGACY_INSERT = """
WITH owner AS (
  SELECT id, tenant FROM integration
  WHERE id = $1 AND webhook_token_hash = $2 AND revoked_at IS NULL
), ins AS (
  INSERT INTO bench_legacy_webhook
    (id, tenant, integration, provider_event_id, event_type, raw_body, headers, verified,
     status, attempts, duplicates, error, trace_id, received_at, signed_digest)
  SELECT $3, owner.tenant, owner.id, $4, $5, $6, $7::jsonb, true, 'received', 0, 0, '', $8, $9,
         $10::bytea
  FROM owner
  ON CONFLICT DO NOTHING
  RETURNING id
), dup AS (
  UPDATE bench_legacy_webhook w SET duplicates = w.duplicates + 1
  WHERE w.id = (
    SELECT d.id FROM bench_legacy_webhook d
    WHERE NOT EXISTS (SELECT 1 FROM ins)
      AND d.integration = (SELECT id FROM owner)
      AND (d.provider_event_id = $4 OR d.signed_digest = $10::bytea)
    ORDER BY d.received_at LIMIT 1
  )
  RETURNING w.id
)
SELECT EXISTS (SELECT 1 FROM owner) AS owned,
       coalesce((SELECT id FROM ins), (SELECT id FROM dup)) AS id,
       EXISTS (SELECT 1 FROM ins) AS inserted
"""
LEGACY_INDEXES = [
    "ALTER TABLE bench_legacy_webhook ADD PRIMARY KEY (id)",
    "CREATE UNIQUE INDEX ON bench_legacy_webhook (integration, provider_event_id)",
    "CREATE UNIQUE INDEX ON bench_legacy_webhook (integration, signed_digest)"
    " WHERE signed_digest IS NOT NULL",
    "CREATE INDEX ON bench_legacy_webhook (integration, received_at DESC, id DESC)",
    "CREATE INDEX ON bench_legacy_webhook (received_at, id) WHERE status = 'received'",
    "CREATE INDEX ON bench_legacy_webhook (integration) WHERE status IN ('failed', 'dead')",
    "CREATE INDEX ON bench_legacy_webhook (integration) WHERE simulated",
]

# The events API's list query as Piccolo sends it for GET /api/integrations/{id}/events
# (tenant scope, integration, keyset cursor, newest first, limit + 1).
LIST_FIRST = """
SELECT id, provider_event_id, event_type, status, received_at, processed_at, attempts,
       duplicates, error, simulated, normalized -> 'mapped' AS mapped
FROM integration_webhook
WHERE tenant = $1 AND integration = $2
ORDER BY received_at DESC, id DESC LIMIT 51
"""
LIST_AFTER = """
SELECT id, provider_event_id, event_type, status, received_at, processed_at, attempts,
       duplicates, error, simulated, normalized -> 'mapped' AS mapped
FROM integration_webhook
WHERE tenant = $1 AND integration = $2 AND (received_at, id) < ($3, $4)
ORDER BY received_at DESC, id DESC LIMIT 51
"""
DETAIL = "SELECT * FROM integration_webhook WHERE tenant = $1 AND integration = $2 AND id = $3"

# ~1 KB stored per bulk event: a body under the TOAST threshold and a small envelope, so
# 10M rows fit a dev box (~15 GB with indexes) and every row is read from the heap page.
BULK_BODY = (b'{"action":"opened","issue":{"body":"' + b"x" * 700 + b'"}}').hex()
BULK_NORMALIZED = '{"type": "issue.opened", "mapped": null}'
BULK_CHUNK = 500_000
_BULK = """
WITH rows AS (
  INSERT INTO integration_webhook
    (id, tenant, integration, provider_event_id, event_type, raw_body, headers, verified,
     status, normalized, attempts, duplicates, error, trace_id, received_at, processed_at,
     simulated)
  SELECT gen_random_uuid(), $1, $2, 'bulk-' || g, 'issues', decode($3, 'hex'), '{}', true,
         'processed', $4::jsonb, 1, 0, '', '',
         $5::timestamptz + (g - 1) * $6::interval,
         $5::timestamptz + (g - 1) * $6::interval + interval '40 ms', false
  FROM generate_series($7::bigint, $8::bigint) g
  RETURNING integration, provider_event_id, id, received_at
)
INSERT INTO integration_webhook_key (integration, provider_event_id, event_id, received_at)
SELECT integration, provider_event_id, id, received_at FROM rows
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--levels", default="0,1000000,10000000", help="stored events, ascending")
    p.add_argument("--days", type=int, default=25, help="days the stored events span")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--duration", type=float, default=8.0, help="seconds per ingest round")
    p.add_argument("--rounds", type=int, default=2, help="ingest rounds per layout and level")
    p.add_argument("--samples", type=int, default=200, help="runs per query and level")
    p.add_argument(
        "--legacy-max",
        type=int,
        default=1_000_000,
        help="compare with the unpartitioned layout up to this many rows (0: never)",
    )
    p.add_argument("--explain", action="store_true", help="record EXPLAIN (ANALYZE, BUFFERS)")
    p.add_argument("--keep", action="store_true", help="keep the database (name printed)")
    return p.parse_args(argv)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class Growth:
    def __init__(self, args: argparse.Namespace, made: dict[str, Any], token_hash: str) -> None:
        self.args = args
        self.tenant = made["tenant"]
        self.integration = made["integrations"]["growth"]["id"]
        self.token_hash = token_hash
        self.now = dt.datetime.now(dt.UTC)
        self.start = (self.now - dt.timedelta(days=args.days)).replace(microsecond=0)
        self.loaded = 0
        self.legacy_loaded = 0
        self.serial = 0

    # -- layout and bulk load ------------------------------------------------------------

    async def layout(self) -> None:
        """Daily partitions for the whole span, in place of the converted old table."""
        from backend.lib import partitions
        from backend.lib.db import pool

        db = pool()
        for name in await db.fetch(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'integration_webhook'::regclass"
            " AND c.relname LIKE 'integration_webhook_until_%'"
        ):
            await db.execute(f'DROP TABLE "{name["relname"]}"')
        for day in range(self.args.days + 1):
            await partitions.ensure_partitions(
                self.now - dt.timedelta(days=day), (partitions.WEBHOOK,)
            )
        await db.execute(
            "CREATE TABLE bench_legacy_webhook (LIKE integration_webhook INCLUDING DEFAULTS)"
        )
        for statement in LEGACY_INDEXES:
            await db.execute(statement)

    async def load(self, level: int) -> float:
        """Bulk-load events up to `level` (and the legacy copy up to --legacy-max)."""
        from backend.lib.db import pool

        started = time.perf_counter()
        step = dt.timedelta(days=self.args.days) / max(1, level)
        db = pool()
        while self.loaded < level:
            first, last = self.loaded + 1, min(level, self.loaded + BULK_CHUNK)
            await db.execute(
                _BULK,
                self.tenant,
                self.integration,
                BULK_BODY,
                BULK_NORMALIZED,
                self.start,
                step,
                first,
                last,
                timeout=None,
            )
            self.loaded = last
            print(f"  loaded {last:,} events ({time.perf_counter() - started:.0f} s)", flush=True)
        legacy_target = min(level, self.args.legacy_max)
        if self.legacy_loaded < legacy_target:
            await db.execute(
                "INSERT INTO bench_legacy_webhook SELECT * FROM integration_webhook"
                " WHERE provider_event_id LIKE 'bulk-%' AND received_at >= $1"
                " AND substr(provider_event_id, 6)::bigint > $2"
                " AND substr(provider_event_id, 6)::bigint <= $3",
                self.start,
                self.legacy_loaded,
                legacy_target,
                timeout=None,
            )
            self.legacy_loaded = legacy_target
        for table in ("integration_webhook", "integration_webhook_key", "bench_legacy_webhook"):
            await db.execute(f"VACUUM ANALYZE {table}", timeout=None)
        return time.perf_counter() - started

    # -- ingest ----------------------------------------------------------------------------

    def _args(self, event_id: str, received_at: dt.datetime) -> tuple[Any, ...]:
        return (
            self.integration,
            self.token_hash,
            uuid.uuid4(),
            event_id,
            "issues",
            bytes.fromhex(BULK_BODY),
            '{"X-GitHub-Event": "issues"}',
            "",
            received_at,
            None,
        )

    async def _ingest_round(self, legacy: bool) -> dict[str, float]:
        from backend.lib.db import pool
        from backend.webhooks.store import store_event

        deadline = time.perf_counter() + self.args.duration
        latencies: list[float] = []
        db = pool()

        async def client() -> None:
            while time.perf_counter() < deadline:
                self.serial += 1
                event_id = f"live-{self.serial}"
                t0 = time.perf_counter()
                if legacy:
                    await db.fetchrow(LEGACY_INSERT, *self._args(event_id, dt.datetime.now(dt.UTC)))
                else:
                    await store_event(
                        self.integration,
                        self.token_hash,
                        event_id,
                        "issues",
                        bytes.fromhex(BULK_BODY),
                        {"X-GitHub-Event": "issues"},
                        "",
                    )
                latencies.append((time.perf_counter() - t0) * 1000)

        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(self.args.connections)))
        seconds = time.perf_counter() - t0
        return {
            "events_per_s": len(latencies) / seconds,
            "p50_ms": pct(latencies, 50),
            "p99_ms": pct(latencies, 99),
        }

    async def ingest(self, with_legacy: bool) -> dict[str, Any]:
        rounds: dict[str, list[dict[str, float]]] = {"partitioned": [], "legacy": []}
        for _ in range(self.args.rounds):
            rounds["partitioned"].append(await self._ingest_round(legacy=False))
            if with_legacy:
                rounds["legacy"].append(await self._ingest_round(legacy=True))
        result: dict[str, Any] = {}
        for layout, runs in rounds.items():
            if runs:
                result[layout] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        if with_legacy:
            result["ratio_to_legacy"] = (
                result["partitioned"]["events_per_s"] / result["legacy"]["events_per_s"]
            )
        return result

    # -- queries ---------------------------------------------------------------------------

    async def _position(self, conn: Any) -> tuple[dt.datetime, uuid.UUID, str]:
        """A stored event at a random point of the history (its time, id, provider id)."""
        n = random.randint(1, max(1, self.loaded))
        row = await conn.fetchrow(
            "SELECT received_at, id, provider_event_id FROM integration_webhook"
            " WHERE integration = $1 AND received_at >= $2 ORDER BY received_at LIMIT 1",
            self.integration,
            self.start + (dt.timedelta(days=self.args.days) * n / max(1, self.loaded)),
        )
        if row is None:  # nothing stored yet but what ingest wrote
            row = await conn.fetchrow(
                "SELECT received_at, id, provider_event_id FROM integration_webhook"
                " WHERE integration = $1 ORDER BY received_at DESC LIMIT 1",
                self.integration,
            )
        return row["received_at"], row["id"], row["provider_event_id"]

    async def queries(self) -> dict[str, dict[str, float]]:
        from backend.lib.db import pool
        from backend.webhooks import batch
        from backend.webhooks.store import store_event

        timings: dict[str, list[float]] = {
            "list_first_page": [],
            "list_deep_page": [],
            "detail_by_id": [],
            "claim_batch": [],
            "duplicate_insert": [],
        }
        async with pool().acquire() as conn:
            positions = [await self._position(conn) for _ in range(self.args.samples)]

            async def timed(name: str, sql: str, *params: Any) -> None:
                t0 = time.perf_counter()
                await conn.fetch(sql, *params)
                timings[name].append((time.perf_counter() - t0) * 1000)

            for at, event_id, provider_id in positions:
                await timed("list_first_page", LIST_FIRST, self.tenant, self.integration)
                await timed(
                    "list_deep_page", LIST_AFTER, self.tenant, self.integration, at, event_id
                )
                await timed("detail_by_id", DETAIL, self.tenant, self.integration, event_id)
                claim = conn.transaction()
                await claim.start()
                try:  # rolled back: the backlog stays as it is for the next sample
                    await timed("claim_batch", batch.CLAIM, batch.BATCH_SIZE, batch._LOCK_SPACE)
                finally:
                    await claim.rollback()
                t0 = time.perf_counter()
                stored = await store_event(
                    self.integration,
                    self.token_hash,
                    provider_id,
                    "issues",
                    bytes.fromhex(BULK_BODY),
                    {},
                    "",
                )
                timings["duplicate_insert"].append((time.perf_counter() - t0) * 1000)
                assert not stored.inserted and stored.event_id == event_id, "dedupe failed"
        return {
            name: {"p50_ms": pct(values, 50), "p99_ms": pct(values, 99)}
            for name, values in timings.items()
        }

    async def explain(self) -> dict[str, str]:
        from backend.lib.db import pool
        from backend.webhooks import batch

        plans: dict[str, str] = {}
        async with pool().acquire() as conn:
            at, event_id, _ = await self._position(conn)
            for name, sql, params in (
                ("list_first_page", LIST_FIRST, (self.tenant, self.integration)),
                ("list_deep_page", LIST_AFTER, (self.tenant, self.integration, at, event_id)),
                ("claim_batch", batch.CLAIM, (batch.BATCH_SIZE, batch._LOCK_SPACE)),
            ):
                tx = conn.transaction()
                await tx.start()
                try:
                    rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *params)
                finally:
                    await tx.rollback()
                plans[name] = "\n".join(r[0] for r in rows)
        return plans


# -- run -----------------------------------------------------------------------------------


async def run(args: argparse.Namespace, db_name: str) -> dict[str, Any]:
    from backend.lib import db, tokens
    from benchmarks.webhook_ingest import prepare

    made = await prepare(["growth"], "growth-secret")
    token = made["integrations"]["growth"]["path"].rsplit("/", 1)[-1]
    await db.open_pool(args.connections + 2)
    try:
        growth = Growth(args, made, tokens.hash_token(token))
        await growth.layout()
        levels: list[dict[str, Any]] = []
        for level in [int(x) for x in args.levels.split(",")]:
            print(f"level {level:,}: loading", flush=True)
            load_s = await growth.load(level)
            with_legacy = level <= args.legacy_max
            print(f"level {level:,}: ingest", flush=True)
            ingest = await growth.ingest(with_legacy)
            # What autovacuum does within a minute of those inserts: without it, today's
            # partition is planned from stale statistics (a sort of all its rows instead
            # of a merge of index scans).
            await db.pool().execute("ANALYZE integration_webhook", timeout=None)
            print(f"level {level:,}: queries", flush=True)
            entry: dict[str, Any] = {
                "stored_events": level,
                "load_s": load_s,
                "ingest": ingest,
                "queries": await growth.queries(),
                "partitions": await db.pool().fetchval(
                    "SELECT count(*) FROM pg_inherits"
                    " WHERE inhparent = 'integration_webhook'::regclass"
                ),
                "events_mb": await db.pool().fetchval(
                    "SELECT sum(pg_total_relation_size(inhrelid)) / 1048576 FROM pg_inherits"
                    " WHERE inhparent = 'integration_webhook'::regclass"
                ),
                "dedupe_keys_mb": await db.pool().fetchval(
                    "SELECT pg_total_relation_size('integration_webhook_key') / 1048576"
                ),
            }
            if args.explain:
                entry["plans"] = await growth.explain()
            levels.append(entry)
            print_level(entry)
        return {"levels": levels}
    finally:
        await db.close_pool()


def print_level(entry: dict[str, Any]) -> None:
    ingest, queries = entry["ingest"], entry["queries"]
    part = ingest["partitioned"]
    line = (
        f"  {entry['stored_events']:>11,} stored | ingest {part['events_per_s']:7.0f}/s"
        f" p50 {part['p50_ms']:5.1f} p99 {part['p99_ms']:6.1f} ms"
    )
    if "legacy" in ingest:
        legacy = ingest["legacy"]
        line += (
            f" | unpartitioned {legacy['events_per_s']:7.0f}/s p99 {legacy['p99_ms']:6.1f} ms"
            f" | ratio {ingest['ratio_to_legacy']:.2f}"
        )
    print(line)
    print(
        "  "
        + " | ".join(
            f"{name} p50 {q['p50_ms']:.2f} p99 {q['p99_ms']:.2f} ms" for name, q in queries.items()
        )
    )


def print_table(result: dict[str, Any]) -> None:
    names = list(result["levels"][0]["queries"])
    header = ["stored", "ingest/s", "p99 ms", "vs unpart."] + [f"{n} p50/p99" for n in names]
    print("\n" + " | ".join(header))
    for entry in result["levels"]:
        ingest = entry["ingest"]
        cells = [
            f"{entry['stored_events']:,}",
            f"{ingest['partitioned']['events_per_s']:.0f}",
            f"{ingest['partitioned']['p99_ms']:.1f}",
            f"{ingest['ratio_to_legacy']:.2f}" if "ratio_to_legacy" in ingest else "-",
        ] + [
            f"{entry['queries'][n]['p50_ms']:.2f}/{entry['queries'][n]['p99_ms']:.2f}"
            for n in names
        ]
        print(" | ".join(cells))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    db_name, _env = bench_env("bench_growth", dict(os.environ))
    asyncio.run(create_database(db_name))
    try:
        result = asyncio.run(run(args, db_name))
    finally:
        if args.keep:
            print(f"database kept: {db_name}")
        else:
            asyncio.run(drop_database(db_name))
    result["args"] = vars(args)
    result["date"] = dt.datetime.now(dt.UTC).isoformat()
    print_table(result)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"growth-{dt.date.today().isoformat()}.json"
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
