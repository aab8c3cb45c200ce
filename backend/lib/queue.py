"""Enqueue arq jobs in one Redis round trip.

arq's `enqueue_job` costs three round trips (WATCH/EXISTS/MULTI); on the webhook path that
halves throughput (notes/webhook-path-costs.md). This Lua script does the same writes —
job payload with arq's serializer, then the queue entry — atomically and only if the job id
is new, so the worker sees an ordinary arq job.
"""

from __future__ import annotations

import time
from typing import Any

from arq.connections import ArqRedis
from arq.constants import default_queue_name, expires_extra_ms, job_key_prefix, result_key_prefix
from arq.jobs import serialize_job

_ENQUEUE = """
if redis.call('exists', KEYS[1]) == 1 or redis.call('exists', KEYS[2]) == 1 then
  return 0
end
redis.call('psetex', KEYS[1], ARGV[1], ARGV[2])
redis.call('zadd', KEYS[3], ARGV[3], ARGV[4])
return 1
"""


class FastEnqueuer:
    def __init__(self, redis: ArqRedis, queue_name: str = default_queue_name) -> None:
        self.redis = redis
        self.queue_name = queue_name
        self._script = redis.register_script(_ENQUEUE)

    async def enqueue(self, function: str, *args: Any, job_id: str) -> bool:
        """True when queued, False when a job with this id is queued or finished already."""
        now_ms = int(time.time() * 1000)
        payload = serialize_job(function, args, {}, None, now_ms)
        created = await self._script(
            keys=[job_key_prefix + job_id, result_key_prefix + job_id, self.queue_name],
            args=[expires_extra_ms, payload, now_ms, job_id],
        )
        return bool(created)

    async def enqueue_many(self, function: str, jobs: list[tuple[Any, str]]) -> None:
        """Enqueue (argument, job id) pairs in one pipelined round trip."""
        now_ms = int(time.time() * 1000)
        async with self.redis.pipeline(transaction=False) as pipe:
            for argument, job_id in jobs:
                payload = serialize_job(function, (argument,), {}, None, now_ms)
                await self._script(
                    keys=[job_key_prefix + job_id, result_key_prefix + job_id, self.queue_name],
                    args=[expires_extra_ms, payload, now_ms, job_id],
                    client=pipe,
                )
            await pipe.execute()
