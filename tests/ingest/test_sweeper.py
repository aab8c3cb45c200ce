"""The sweeper recovers jobs lost with a Redis that restarted empty (issue 10, item 12).

Stored deliveries that never reached the queue are found again from PostgreSQL and queued
in batches, as fast as the workers take them: one sweep queues a large lost backlog (the
old sweeper queued at most 500 rows per 15 s run, about 33 events/s), and never fills
the queue beyond its high-water mark.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from arq.constants import job_key_prefix
from arq.worker import Worker

from backend.webhooks import jobs
from backend.worker import WorkerSettings

from .support import Hooks, fixture

_LOST = """
INSERT INTO integration_webhook
  (id, tenant, integration, provider_event_id, event_type, raw_body, headers, verified,
   status, attempts, duplicates, error, trace_id, received_at)
SELECT gen_random_uuid(), $1, $2, 'lost-' || n, 'issues.opened', $3,
       '{"x-github-event": "issues", "content-type": "application/json"}'::jsonb,
       true, 'received', 0, 0, '', '', now() - interval '1 minute' + n * interval '1 microsecond'
FROM generate_series(1, $4) AS n
RETURNING id
"""


async def lose(hooks: Hooks, tenant, integration, count: int) -> list[str]:
    """`count` rows stored a minute ago whose jobs Redis no longer has."""
    rows = await hooks.rows(
        _LOST, tenant.id, integration.id, fixture("github", "issues__opened.json"), count
    )
    return [str(r["id"]) for r in rows]


def job_id(event_id: str) -> str:
    return f"normalize:{event_id}:0"


async def ready_jobs(redis, queue: str) -> int:
    return int(await redis.zcount(queue, "-inf", int(time.time() * 1000)))


@pytest.fixture
async def queue(app, hooks: Hooks):
    """The run's own queue, drained before the test; the lost rows and the jobs a test
    leaves are removed after it."""
    await hooks.run_worker()
    redis, name = app.state.redis, app.state.settings.queue_name
    yield redis, name
    await hooks.rows("DELETE FROM integration_webhook WHERE provider_event_id LIKE 'lost-%'")
    queued = [j.decode() for j in await redis.zrange(name, 0, -1)]
    for start in range(0, len(queued), 1000):
        chunk = queued[start : start + 1000]
        await redis.zrem(name, *chunk)
        await redis.delete(*(job_key_prefix + j for j in chunk))


async def test_one_sweep_requeues_a_large_lost_backlog(
    hooks: Hooks, queue, tenant, make_integration
) -> None:
    redis, name = queue
    integration = await make_integration(tenant, "github", signing_secrets=("s",))
    lost = await lose(hooks, tenant, integration, 20_000)
    started = time.perf_counter()
    swept = await jobs.sweep_unqueued({"redis": redis})
    elapsed = time.perf_counter() - started
    print(f"\nsweeper re-enqueued {swept} rows in {elapsed:.2f} s: {swept / elapsed:,.0f} rows/s")
    assert swept >= len(lost)
    queued = {j.decode() for j in await redis.zrange(name, 0, -1)}
    assert {job_id(e) for e in lost} <= queued
    # With room to spare, a second sweep finds them all queued already: nothing twice.
    assert await jobs.sweep_unqueued({"redis": redis}, high_water=2 * len(lost)) == 0


async def test_the_sweeper_fills_the_queue_to_its_high_water_mark_as_workers_drain(
    hooks: Hooks, queue, tenant, make_integration, wait_for
) -> None:
    redis, name = queue
    integration = await make_integration(tenant, "github", signing_secrets=("s",))
    lost = await lose(hooks, tenant, integration, 600)
    limits: dict[str, Any] = {"high_water": 200, "batch": 50}

    # Nobody drains: the sweep stops at the mark instead of parking everything in Redis.
    assert await jobs.sweep_unqueued({"redis": redis}, **limits, budget_seconds=0.3) == 200
    assert await ready_jobs(redis, name) == 200

    # A worker drains; the sweep keeps feeding it until no lost row is left.
    worker = Worker(
        functions=WorkerSettings.functions,
        redis_settings=WorkerSettings.redis_settings,
        on_startup=WorkerSettings.on_startup,
        on_shutdown=WorkerSettings.on_shutdown,
        queue_name=name,
        poll_delay=0.05,
        handle_signals=False,
        max_jobs=10,
    )
    running = asyncio.ensure_future(worker.main())
    try:
        swept = await jobs.sweep_unqueued({"redis": redis}, **limits, budget_seconds=60)
        assert swept >= len(lost) - 200  # (and any row an earlier test left unqueued)

        async def all_processed() -> bool:
            rows = await hooks.rows(
                "SELECT count(*) AS n FROM integration_webhook"
                " WHERE integration = $1 AND status = 'processed'",
                integration.id,
            )
            return rows[0]["n"] == len(lost)

        await wait_for(all_processed, timeout=60)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await worker.close()
    assert {uuid.UUID(e) for e in lost} == {
        r["id"] for r in await hooks.events(integration) if r["status"] == "processed"
    }
