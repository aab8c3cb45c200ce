"""Two stacks (queues) on one Redis each get their own wake-up for the same time slot: arq keeps
job ids under one key prefix for every queue, so a shared id would swallow one of them."""

from __future__ import annotations

import os
import secrets
import time

from arq.connections import RedisSettings, create_pool

from backend.lib.queue import FastEnqueuer
from backend.webhooks import jobs


async def test_the_same_slot_wakes_each_queue() -> None:
    redis = await create_pool(RedisSettings.from_dsn(os.environ["REDIS_URL"]))
    queues = [f"sbtest-wake-{secrets.token_hex(4)}" for _ in range(2)]
    now_ms = int(time.time() * 1000)
    try:
        for queue in queues:
            job_id, due_ms = jobs.wake_job_id(now_ms, queue)
            assert await FastEnqueuer(redis, queue).enqueue(
                jobs.WAKE_JOB, job_id=job_id, traceparent="", due_ms=due_ms
            )
        for queue in queues:
            assert await redis.zcard(queue) == 1
    finally:
        for queue in queues:
            for member in await redis.zrange(queue, 0, -1):
                await redis.delete(f"arq:job:{member.decode()}")
            await redis.delete(queue)
        await redis.aclose()
