"""The sweeper recovers deliveries nobody woke a worker for: Redis was down when they were
stored, or restarted empty (issue 10, item 12; issue 16).

The queue carries wake-ups, not events: however large the lost backlog, one sweep sends a
fixed handful of wake-ups, and the woken workers claim the rows from PostgreSQL in batches
until none is left. Rows younger than the sweep's delay are left alone (their wake-up may
still be on its way).
"""

from __future__ import annotations

import time

import pytest
from arq.constants import job_key_prefix

from backend.webhooks import jobs

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


@pytest.fixture
async def queue(app, hooks: Hooks):
    """The run's own queue, drained before the test; the lost rows and the jobs a test
    leaves are removed after it."""
    await hooks.run_worker()
    redis, name = app.state.redis, app.state.settings.queue_name
    yield redis, name
    await hooks.rows("DELETE FROM integration_webhook WHERE provider_event_id LIKE 'lost-%'")
    queued = [j.decode() for j in await redis.zrange(name, 0, -1)]
    if queued:
        await redis.zrem(name, *queued)
        await redis.delete(*(job_key_prefix + j for j in queued))


async def test_one_sweep_wakes_workers_that_drain_a_large_lost_backlog(
    hooks: Hooks, queue, tenant, make_integration
) -> None:
    redis, name = queue
    integration = await make_integration(tenant, "github", signing_secrets=("s",))
    lost = await lose(hooks, tenant, integration, 20_000)
    assert await jobs.sweep_unqueued({"redis": redis}) == jobs.SWEEP_WAKES
    queued = [j.decode() for j in await redis.zrange(name, 0, -1)]
    assert len(queued) == jobs.SWEEP_WAKES  # wake-ups, not 20,000 jobs
    assert all(j.startswith("normalize:wake:sweep:") for j in queued)
    started = time.perf_counter()
    await hooks.run_worker()
    elapsed = time.perf_counter() - started
    print(f"\nwoken workers drained {len(lost)} rows in {elapsed:.2f} s")
    rows = await hooks.rows(
        "SELECT status, attempts, count(*) AS n FROM integration_webhook"
        " WHERE integration = $1 GROUP BY status, attempts",
        integration.id,
    )
    assert rows == [{"status": "processed", "attempts": 1, "n": len(lost)}]
    # Nothing left unclaimed: the next sweep wakes nobody.
    assert await jobs.sweep_unqueued({"redis": redis}) == 0


async def test_the_sweeper_leaves_rows_whose_wake_up_may_be_on_its_way(
    hooks: Hooks, queue, tenant, make_integration
) -> None:
    redis, _ = queue
    integration = await make_integration(tenant, "github", signing_secrets=("s",))
    (fresh,) = await lose(hooks, tenant, integration, 1)
    await hooks.rows(
        "UPDATE integration_webhook SET received_at = now() WHERE id = $1::uuid", fresh
    )
    assert await jobs.sweep_unqueued({"redis": redis}) == 0
