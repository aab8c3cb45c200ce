"""Enqueue arq jobs in one Redis round trip.

arq's `enqueue_job` costs three round trips (WATCH/EXISTS/MULTI); on the webhook path that
halves throughput (notes/webhook-path-costs.md). This Lua script does the same writes —
job payload with arq's serializer, then the queue entry — atomically and only if the job id
is new, so the worker sees an ordinary arq job.

Each job carries the W3C traceparent of a producer span ("enqueue <job>", child of the span
that asked for it) in its `traceparent` keyword; the worker's `traced_job` continues the
trace from there (backend/lib/telemetry.py).
"""

from __future__ import annotations

import time
from typing import Any

from arq.connections import ArqRedis
from arq.constants import default_queue_name, expires_extra_ms, job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from opentelemetry.trace import SpanKind, get_current_span

from backend.lib.telemetry import TRACEPARENT, context_from, current_traceparent, tracer

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


def _traced_jobs(function: str, queue: str, traceparents: list[str]) -> tuple[list[str], list[Any]]:
    """For each sampled traceparent, a started producer span under it; returns the
    traceparents the jobs carry (the producer span's, else the caller's) and the spans."""
    carried: list[str] = []
    spans: list[Any] = []
    for traceparent in traceparents:
        parent = context_from(traceparent)
        if parent is None or not get_current_span(parent).get_span_context().trace_flags.sampled:
            carried.append(traceparent)
            continue
        span = tracer("switchboard.queue").start_span(
            f"enqueue {function}",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "arq",
                "messaging.operation.type": "send",
                "messaging.destination.name": queue,
                "db.system.name": "redis",
            },
        )
        ctx = span.get_span_context()
        carried.append(f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}")
        spans.append(span)
    return carried, spans


def _end(spans: list[Any], error: BaseException | None = None) -> None:
    for span in spans:
        if error is not None:
            span.record_exception(error)
        span.end()


class FastEnqueuer:
    def __init__(self, redis: ArqRedis, queue_name: str = default_queue_name) -> None:
        self.redis = redis
        self.queue_name = queue_name
        self._script = redis.register_script(_ENQUEUE)
        self._batch = redis.register_script(_ENQUEUE_MANY)

    async def enqueue(
        self,
        function: str,
        *args: Any,
        job_id: str,
        traceparent: str | None = None,
        due_ms: int | None = None,
    ) -> bool:
        """True when queued, False when a job with this id is queued or finished already.
        The job continues `traceparent`, by default the current span's trace ("": none);
        it runs from `due_ms` (epoch milliseconds), by default now."""
        now_ms = int(time.time() * 1000)
        carried, spans = _traced_jobs(
            function,
            self.queue_name,
            [current_traceparent() if traceparent is None else traceparent],
        )
        kwargs = {TRACEPARENT: carried[0]} if carried[0] else {}
        payload = serialize_job(function, args, kwargs, None, now_ms)
        try:
            created = await self._script(
                keys=[job_key_prefix + job_id, result_key_prefix + job_id, self.queue_name],
                args=[expires_extra_ms, payload, max(now_ms, due_ms or 0), job_id],
            )
        except BaseException as exc:
            _end(spans, exc)
            raise
        _end(spans)
        return bool(created)

    async def enqueue_many(
        self, function: str, jobs: list[tuple[Any, str]] | list[tuple[Any, str, str]]
    ) -> int:
        """Enqueue (argument, job id[, traceparent]) tuples with one script call: one round
        trip and one command for the whole batch. A job without its own traceparent continues
        the current span's trace. Returns how many were new."""
        if not jobs:
            return 0
        now_ms = int(time.time() * 1000)
        current = current_traceparent()
        carried, spans = _traced_jobs(
            function, self.queue_name, [job[2] if len(job) > 2 else current for job in jobs]
        )
        args: list[Any] = [expires_extra_ms, now_ms, job_key_prefix, result_key_prefix]
        for job, traceparent in zip(jobs, carried, strict=True):
            kwargs = {TRACEPARENT: traceparent} if traceparent else {}
            args += [job[1], serialize_job(function, (job[0],), kwargs, None, now_ms)]
        try:
            created = int(await self._batch(keys=[self.queue_name], args=args))
        except BaseException as exc:
            _end(spans, exc)
            raise
        _end(spans)
        return created
