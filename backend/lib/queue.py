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


# The batch variant names job keys from ARGV (fine on a single Redis; a Redis Cluster would
# need every key declared, i.e. the single-job script per job).
_ENQUEUE_MANY = """
local created = 0
for i = 5, #ARGV, 2 do
  local id = ARGV[i]
  local job_key = ARGV[3] .. id
  if redis.call('exists', job_key) == 0 and redis.call('exists', ARGV[4] .. id) == 0 then
    redis.call('psetex', job_key, ARGV[1], ARGV[i + 1])
    redis.call('zadd', KEYS[1], ARGV[2], id)
    created = created + 1
  end
end
return created
"""


class FastEnqueuer:
    def __init__(self, redis: ArqRedis, queue_name: str = default_queue_name) -> None:
        self.redis = redis
        self.queue_name = queue_name
        self._script = redis.register_script(_ENQUEUE)
        self._batch = redis.register_script(_ENQUEUE_MANY)

    async def enqueue(self, function: str, *args: Any, job_id: str) -> bool:
        """True when queued, False when a job with this id is queued or finished already."""
        now_ms = int(time.time() * 1000)
        payload = serialize_job(function, args, {}, None, now_ms)
        created = await self._script(
            keys=[job_key_prefix + job_id, result_key_prefix + job_id, self.queue_name],
            args=[expires_extra_ms, payload, now_ms, job_id],
        )
        return bool(created)

    async def enqueue_many(self, function: str, jobs: list[tuple[Any, str]]) -> int:
        """Enqueue (argument, job id) pairs with one script call: one round trip and one
        command for the whole batch. Returns how many were new."""
        if not jobs:
            return 0
        now_ms = int(time.time() * 1000)
        args: list[Any] = [expires_extra_ms, now_ms, job_key_prefix, result_key_prefix]
        for argument, job_id in jobs:
            args += [job_id, serialize_job(function, (argument,), {}, None, now_ms)]
        return int(await self._batch(keys=[self.queue_name], args=args))
