"""Sync engine benchmark: records/s one worker process upserts, against a bare loop, same run.

`make bench` runs `.venv/bin/python -m benchmarks.sync` (never the test suite).

What it does, per size (default 10,000, 100,000 and 1,000,000 records; `--sizes`):
1. A fresh PostgreSQL database and empty Redis db (`bench_env()` of webhook_ingest.py),
   migrated, the catalog synced, a tenant and one connected Stripe integration per size.
2. A local provider process answering `GET /v1/customers` as Stripe does (newest first,
   `starting_after`/`has_more`, pages of 100 documented Customer objects, generated on
   the fly so a million records cost no memory).
3. The baseline: one process running a bare loop that fetches the same pages with httpx
   and upserts each page with one asyncpg `INSERT ... SELECT FROM unnest ... ON CONFLICT
   DO UPDATE` into `synced_record` (under an integration of its own: same table, indexes
   and foreign keys as the engine's).
4. The engine: a full sync job of the `customers` stream run by one real worker process
   (`python -m backend worker`): mapping, fenced page commits, position, counters,
   deletion marking, logs and metrics included. Its rate is records_upserted over the
   job's started_at..finished_at.
Prints a table (records/s, µs per record, engine/baseline ratio) and writes
benchmarks/results/sync-<date>.json. Goal (issue 12): >= 5,000 records/s per worker and a
cost per record flat from 10k to 1M.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks.webhook_ingest import (
    CLK_TCK,
    ROOT,
    Server,
    bench_env,
    create_database,
    drop_database,
    flush_redis,
    open_bench_tenant,
)

RESULTS_DIR = ROOT / "benchmarks" / "results"
GOAL_PER_S = 5000
PAGE = 100
KEY = "sk_test_51SyncBenchmark0000000000000"
BASE_CREATED = 1_600_000_000


# -- the provider ----------------------------------------------------------------------------


def customer(index: int) -> dict[str, Any]:
    """A Customer object (https://docs.stripe.com/api/customers/object)."""
    return {
        "id": f"cus_{index:014d}",
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": BASE_CREATED + index,
        "currency": "usd",
        "default_source": None,
        "delinquent": False,
        "description": None,
        "email": f"customer{index}@example.com",
        "invoice_prefix": f"INV{index:06d}",
        "livemode": False,
        "metadata": {"plan": "pro" if index % 3 else "free"},
        "name": f"Customer {index}",
        "phone": None,
        "preferred_locales": ["en"],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def serve_provider(port: int, records: int) -> None:
    """Stripe's list call over `records` customers, newest (highest index) first."""
    import msgspec
    from aiohttp import web

    encode = msgspec.json.encode

    async def customers(request: web.Request) -> web.Response:
        limit = int(request.query.get("limit", "10"))
        after = request.query.get("starting_after")
        top = int(after.removeprefix("cus_")) - 1 if after else records
        if "created[lte]" in request.query:
            top = min(top, int(request.query["created[lte]"]) - BASE_CREATED)
        floor = int(request.query.get("created[gte]", BASE_CREATED + 1)) - BASE_CREATED - 1
        bottom = max(0, floor, top - limit)
        body = {
            "object": "list",
            "url": "/v1/customers",
            "has_more": bottom > max(0, floor),
            "data": [customer(i) for i in range(top, bottom, -1)],
        }
        return web.Response(body=encode(body), content_type="application/json")

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/v1/customers", customers)
    app.router.add_get("/health", health)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- the baseline ----------------------------------------------------------------------------

_BASELINE_UPSERT = """
INSERT INTO synced_record AS r
  (id, tenant, integration, stream, external_id, data, first_seen_at, updated_at, synced_at)
SELECT gen_random_uuid(), $1, $2, 'customers', u.external_id, u.data::jsonb, $5, $5, $5
FROM unnest($3::text[], $4::text[]) AS u(external_id, data)
ON CONFLICT (integration, stream, external_id) DO UPDATE
SET data = EXCLUDED.data, synced_at = EXCLUDED.synced_at
"""


async def baseline(base_url: str, dsn: str, tenant: str, integration: str) -> dict[str, Any]:
    """Fetch every page with httpx and upsert it with one asyncpg statement."""
    import asyncpg
    import httpx
    import msgspec

    encode, decode = msgspec.json.encode, msgspec.json.decode
    tenant_id, integration_id = uuid.UUID(tenant), uuid.UUID(integration)
    conn = await asyncpg.connect(dsn)
    headers = {"Authorization": f"Bearer {KEY}"}
    stored = pages = 0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_start = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as http:
        params: dict[str, Any] = {"limit": PAGE}
        while True:
            answer = decode((await http.get("/v1/customers", params=params)).content)
            data = answer["data"]
            await conn.execute(
                _BASELINE_UPSERT,
                tenant_id,
                integration_id,
                [r["id"] for r in data],
                [encode(r).decode() for r in data],
                dt.datetime.now(dt.UTC),
            )
            stored += len(data)
            pages += 1
            if not answer["has_more"]:
                break
            params = {"limit": PAGE, "starting_after": data[-1]["id"]}
    elapsed = time.perf_counter() - started
    await conn.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_start
    return {"records": stored, "pages": pages, "seconds": elapsed, "cpu_seconds": cpu}


# -- setup and the engine run ------------------------------------------------------------------


async def prepare(sizes: list[int]) -> dict[str, Any]:
    """Migrate, sync the catalog, a tenant, Stripe integrations: per size one for the engine
    and one whose records the baseline upserts (same table, same constraints), one to warm up."""
    from backend.connectors.registry import get_provider
    from backend.integrations import secrets as sealed
    from backend.integrations.tables import Integration
    from backend.lib import db

    tenant_id = await open_bench_tenant()
    try:
        made: dict[str, Any] = {"tenant": tenant_id, "integrations": {}}
        spec = get_provider("stripe").spec
        for size in (*sizes, *(f"baseline-{n}" for n in sizes), "warmup"):
            integration_id = uuid.uuid4()
            now = dt.datetime.now(dt.UTC)
            await Integration.insert(
                Integration(
                    id=integration_id,
                    tenant=tenant_id,
                    connector="stripe",
                    name=f"stripe bench ({size})",
                    status="connected",
                    credentials=await sealed.seal_credentials(
                        tenant_id, integration_id, {"secret_key": KEY}
                    ),
                    config=await sealed.seal_config(tenant_id, integration_id, spec, {}),
                    created_at=now,
                    updated_at=now,
                )
            )
            made["integrations"][size] = integration_id
        return made
    finally:
        await db.close_pool()


async def queue_job(
    tenant: uuid.UUID, integration: uuid.UUID, mode: str = "full", window: int = 0
) -> uuid.UUID:
    """A queued sync job, inserted as the API inserts it, and its first slice enqueued;
    a backfill reads the `window` oldest records."""
    import asyncpg
    from arq.connections import create_pool

    from backend.syncs.jobs import enqueue_sync
    from backend.worker import WorkerSettings

    job_id = uuid.uuid4()
    conn = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        since = dt.datetime.fromtimestamp(BASE_CREATED + 1, dt.UTC) if window else None
        until = dt.datetime.fromtimestamp(BASE_CREATED + window, dt.UTC) if window else None
        await conn.execute(
            "INSERT INTO integration_sync_job (id, tenant, integration, stream, mode, trigger, "
            'status, since, "until", pages, records_upserted, records_deleted, attempts, error, '
            "trace_id, created_at) VALUES ($1, $2, $3, 'customers', $4, 'manual', 'queued', $5, "
            "$6, 0, 0, 0, 0, '', '', now())",
            job_id,
            tenant,
            integration,
            mode,
            since,
            until,
        )
    finally:
        await conn.close()
    redis = await create_pool(
        WorkerSettings.redis_settings, default_queue_name=WorkerSettings.queue_name
    )
    try:
        await enqueue_sync(redis, job_id)
    finally:
        await redis.aclose()
    return job_id


async def job_row(job_id: uuid.UUID) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        row = await conn.fetchrow("SELECT * FROM integration_sync_job WHERE id = $1", job_id)
    finally:
        await conn.close()
    assert row is not None
    return dict(row)


def run_engine(made: dict[str, Any], size: int, env: dict[str, str], work: Path) -> dict[str, Any]:
    """The job run by one worker process; its rate from the job's own timestamps. A small
    backfill on another integration warms the worker up first (its first job loads the
    connector registry)."""
    log = work / f"worker-{size}.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "backend", "worker"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        warmup = made["integrations"]["warmup"]
        warm = asyncio.run(queue_job(made["tenant"], warmup, "backfill", PAGE // 2))
        wait_finished(warm, worker, log)
        cpu_before = cpu_seconds(worker.pid)
        job = wait_finished(
            asyncio.run(queue_job(made["tenant"], made["integrations"][size])), worker, log
        )
        cpu = cpu_seconds(worker.pid) - cpu_before
    finally:
        worker.terminate()
        worker.wait(30)
    if job["status"] != "succeeded":
        raise SystemExit(f"the sync job {job['status']}: {job['error']} (see {log})")
    seconds = (job["finished_at"] - job["started_at"]).total_seconds()
    return {
        "records": job["records_upserted"],
        "pages": job["pages"],
        "seconds": seconds,
        "cpu_seconds": cpu,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (from /proc: the worker is not our child's
    rusage until it exits)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def wait_finished(job_id: uuid.UUID, worker: subprocess.Popen[bytes], log: Path) -> Any:
    while True:
        job = asyncio.run(job_row(job_id))
        if job["status"] not in ("queued", "running"):
            return job
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited: see {log}")
        time.sleep(0.2)


def run_baseline(made: dict[str, Any], size: int, provider_url: str, env: dict[str, str]) -> Any:
    ids = [str(made["tenant"]), str(made["integrations"][f"baseline-{size}"])]
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.sync", "--_baseline", provider_url, *ids],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def rate(run: dict[str, Any]) -> float:
    return run["records"] / run["seconds"] if run["seconds"] else 0.0


def cpu_us(run: dict[str, Any]) -> float:
    """The process's CPU per record: the cost that does not depend on how busy the box is."""
    return 1e6 * run["cpu_seconds"] / run["records"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="10000,100000,1000000", help="records per run, commas")
    p.add_argument("--_provider", nargs=2, help=argparse.SUPPRESS)
    p.add_argument("--_baseline", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args._provider:
        serve_provider(int(args._provider[0]), int(args._provider[1]))
        return
    if args._baseline:
        url, tenant, integration = args._baseline
        result = asyncio.run(baseline(url, os.environ["DATABASE_URL"], tenant, integration))
        print(json.dumps(result))
        return

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    db_name, env = bench_env("sbsync", dict(os.environ))
    env["SWITCHBOARD_ALLOWED_PRIVATE_HOSTS"] = "127.0.0.1"
    os.environ["SWITCHBOARD_ALLOWED_PRIVATE_HOSTS"] = "127.0.0.1"
    work = Path(tempfile.mkdtemp(prefix=f"{db_name}-"))
    print(f"database {db_name}, redis {env['REDIS_URL']}, work dir {work}")
    asyncio.run(create_database(db_name))
    results: dict[int, dict[str, Any]] = {}
    try:
        made = asyncio.run(prepare(sizes))
        for size in sizes:
            provider = Server(
                f"provider-{size}",
                [sys.executable, "-m", "benchmarks.sync", "--_provider", "{port}", str(size)],
                env,
                work,
            )
            provider.start()
            try:
                provider.wait_ready()
                url = f"http://127.0.0.1:{provider.port}"
                run_env = {**env, "SWITCHBOARD_STRIPE_API_BASE_URL": url}
                base = run_baseline(made, size, url, run_env)
                engine = run_engine(made, size, run_env, work)
            finally:
                provider.stop()
            assert base["records"] == engine["records"] == size, (base, engine)
            results[size] = {"baseline": base, "engine": engine}
            b, e = rate(base), rate(engine)
            print(
                f"{size:>9,} records  baseline {b:>7,.0f}/s ({1e6 / b:5.1f} µs, "
                f"CPU {cpu_us(base):5.1f} µs/record)  engine {e:>7,.0f}/s ({1e6 / e:5.1f} µs, "
                f"CPU {cpu_us(engine):5.1f} µs/record)  ratio {e / b:.2f}  "
                f"box load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    finally:
        asyncio.run(drop_database(db_name))
        asyncio.run(flush_redis(env["REDIS_URL"]))

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    out = RESULTS_DIR / f"sync-{now.date().isoformat()}.json"
    summary = {
        str(size): {
            "baseline_per_s": round(rate(r["baseline"])),
            "engine_per_s": round(rate(r["engine"])),
            "engine_us_per_record": round(1e6 / rate(r["engine"]), 1),
            "engine_cpu_us_per_record": round(cpu_us(r["engine"]), 1),
            "baseline_cpu_us_per_record": round(cpu_us(r["baseline"]), 1),
            "ratio_engine_to_baseline": round(rate(r["engine"]) / rate(r["baseline"]), 3),
            "engine_pages": r["engine"]["pages"],
            "engine_seconds": round(r["engine"]["seconds"], 2),
            "baseline_seconds": round(r["baseline"]["seconds"], 2),
        }
        for size, r in results.items()
    }
    out.write_text(
        json.dumps(
            {
                "date": now.isoformat(),
                "command": "python -m benchmarks.sync --sizes " + args.sizes,
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "goal_per_s": GOAL_PER_S,
                "page_size": PAGE,
                "results": summary,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
