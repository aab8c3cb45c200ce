"""Two stacks (queues) on one Redis each run their own crons: arq keys a cron run by name and
time under a prefix every queue shares, so the queue must be part of the name."""

from __future__ import annotations

import asyncio
import os
import secrets
from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker

from backend.worker import traced_cron

# queue -> the scheduled times (ms, from the cron run's job id) that ran in that queue.
RUNS: dict[str, set[str]] = {}


async def tick(ctx: dict[str, Any]) -> None:
    RUNS.setdefault(ctx["queue"], set()).add(ctx["job_id"].rsplit(":", 1)[1])


def _worker(queue: str) -> Worker:
    async def startup(ctx: dict[str, Any]) -> None:
        ctx["queue"] = queue

    return Worker(
        functions=[],
        cron_jobs=[traced_cron(cron(tick, second=set(range(60))), queue)],
        redis_settings=RedisSettings.from_dsn(os.environ["REDIS_URL"]),
        queue_name=queue,
        on_startup=startup,
        handle_signals=False,
        poll_delay=0.05,
    )


async def test_two_queues_on_one_redis_both_run_the_same_cron_second() -> None:
    queues = [f"sbtest-cron-{secrets.token_hex(4)}" for _ in range(2)]
    workers = [_worker(q) for q in queues]
    tasks = [asyncio.ensure_future(w.main()) for w in workers]
    try:
        await asyncio.sleep(3.5)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for w in workers:
            await w.close()
    first, second = (RUNS.get(q, set()) for q in queues)
    # Both stacks ran the same scheduled seconds; before the queue was in the name, each
    # second's run went to whichever worker enqueued it first and the other skipped it.
    assert len(first & second) >= 2, (first, second)
