"""Per-minute counters for the REST API's budgets.

Counted in Redis so every api process shares one budget. When Redis cannot be reached they
are counted in this process instead (the same budget per process): an outage loosens a
limit by the number of processes, it never lifts it.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from redis.exceptions import RedisError

log = logging.getLogger("switchboard.auth")

WINDOW_SECONDS = 60
# After a failure Redis is left alone this long, so requests do not each wait on a connect.
_REDIS_RETRY_SECONDS = 5.0
_WARNING_INTERVAL_SECONDS = 60.0


def seconds_left_in_window() -> int:
    return WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS


class WindowCounters:
    """Fixed one-minute windows keyed by bucket name, in Redis or, while it is down, here."""

    def __init__(self) -> None:
        self._redis_down_until = 0.0
        self._warned_at = -math.inf
        self._local_window = -1
        self._local: dict[str, int] = {}

    async def add(self, redis: Any, bucket: str) -> int:
        """Count one event; returns the window's count including it."""
        window = int(time.time()) // WINDOW_SECONDS
        if self._redis_usable(redis):
            key = f"{bucket}:{window}"
            try:
                async with redis.pipeline(transaction=False) as pipe:
                    pipe.incr(key)
                    pipe.expire(key, 2 * WINDOW_SECONDS)
                    count, _ = await pipe.execute()
                return int(count)
            except (RedisError, OSError) as exc:
                self._redis_failed(exc)
        local = self._local_counts(window)
        local[bucket] = local.get(bucket, 0) + 1
        return local[bucket]

    async def count(self, redis: Any, bucket: str) -> int:
        """The window's count so far, without adding to it."""
        window = int(time.time()) // WINDOW_SECONDS
        if self._redis_usable(redis):
            try:
                return int(await redis.get(f"{bucket}:{window}") or 0)
            except (RedisError, OSError) as exc:
                self._redis_failed(exc)
        return self._local_counts(window).get(bucket, 0)

    def _redis_usable(self, redis: Any) -> bool:
        return redis is not None and time.monotonic() >= self._redis_down_until

    def _redis_failed(self, exc: Exception) -> None:
        now = time.monotonic()
        self._redis_down_until = now + _REDIS_RETRY_SECONDS
        if now - self._warned_at >= _WARNING_INTERVAL_SECONDS:
            self._warned_at = now
            log.warning(
                "Redis unreachable (%s); REST rate limits are counted in this process",
                type(exc).__name__,
            )

    def _local_counts(self, window: int) -> dict[str, int]:
        if window != self._local_window:
            self._local_window, self._local = window, {}
        return self._local
