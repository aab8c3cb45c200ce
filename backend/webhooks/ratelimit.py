"""Per-integration token buckets: shared in Redis by every api process, or in process.

`SharedBuckets` holds each integration's bucket in Redis, so the limit is the setting
whatever the number of api processes (issue 16). Takes asked for during one event-loop pass
go to Redis as one script call: one round trip for all the deliveries in flight, not one
each. When Redis fails, each process falls back to its own bucket for a few seconds and
logs it: the limit then holds per process (as before), and no delivery is refused because
Redis is down.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

log = logging.getLogger("switchboard.webhooks")


class TokenBuckets:
    """In process: no network round trip (the fallback, and limits that need not be shared)."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(max(1, per_minute // 6))  # a 10-second burst
        self._state: dict[uuid.UUID, tuple[float, float]] = {}

    def take(self, key: uuid.UUID) -> float:
        """0 when allowed; otherwise seconds until a token is available."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        tokens, last = self._state.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._state[key] = (tokens - 1.0, now)
            return 0.0
        self._state[key] = (tokens, now)
        return (1.0 - tokens) / self.rate


# Up to ARGV[2 + i] tokens from each bucket KEYS[i], in Redis time (every api process agrees
# on it): as many whole tokens as the bucket holds, or, when it holds none, the wait for one.
# A bucket is a hash {tokens, at}; it expires once it would be full again. Answers come back
# as "granted wait" strings (Lua numbers would be truncated to integers).
_TAKE = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local ttl = math.ceil(capacity / rate * 1000) + 1000
local answers = {}
for i, key in ipairs(KEYS) do
  local want = tonumber(ARGV[2 + i])
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1]) or capacity
  local at = tonumber(state[2]) or now
  tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
  local granted = math.min(want, math.floor(tokens))
  local wait = 0
  if granted >= 1 then
    tokens = tokens - granted
  else
    granted = 0
    wait = (1 - tokens) / rate
  end
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', key, ttl)
  answers[i] = granted .. ' ' .. tostring(wait)
end
return answers
"""

_KEY_PREFIX = "switchboard:webhook-rate:"
_FALLBACK_SECONDS = 5.0
# A process takes tokens from Redis a lease at a time, a 1/20 of the burst (1 for small
# limits), and spends them within LEASE_SECONDS or loses them: at most one Redis round trip
# per lease, and the limit is never exceeded (only tokens taken from Redis are spent); near
# the limit, tokens leased and lost may admit a little less than it.
_LEASE_SHARE = 20
LEASE_SECONDS = 1.0


class SharedBuckets:
    """The per-integration webhook limit, in Redis (`redis` None: in process only)."""

    def __init__(self, redis: Any | None, per_minute: int) -> None:
        self.local = TokenBuckets(per_minute)
        self.rate = self.local.rate
        self.capacity = self.local.capacity
        self.lease = max(1, int(self.capacity) // _LEASE_SHARE)
        self._script = redis.register_script(_TAKE) if redis is not None else None
        self._leases: dict[uuid.UUID, tuple[int, float]] = {}  # tokens left, until
        self._pending: dict[uuid.UUID, list[asyncio.Future[float]]] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._local_until = 0.0

    async def take(self, key: uuid.UUID) -> float:
        """0 when allowed; otherwise seconds until a token is available."""
        if self.rate <= 0:
            return 0.0
        if self._script is None or time.monotonic() < self._local_until:
            return self.local.take(key)
        if self._spend_leased(key):
            return 0.0
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(key, []).append(future)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush())
        return await future

    def _spend_leased(self, key: uuid.UUID) -> bool:
        left, until = self._leases.get(key, (0, 0.0))
        if left <= 0 or time.monotonic() >= until:
            return False
        self._leases[key] = (left - 1, until)
        return True

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # gather the takes of this event-loop pass
        while self._pending:
            pending, self._pending = self._pending, {}
            keys = list(pending)
            wants = [max(self.lease, len(pending[k])) for k in keys]
            try:
                assert self._script is not None
                answers = await self._script(
                    keys=[f"{_KEY_PREFIX}{key}" for key in keys],
                    args=[repr(self.rate), repr(self.capacity), *wants],
                )
            except Exception as exc:
                self._local_until = time.monotonic() + _FALLBACK_SECONDS
                log.warning(
                    "webhook rate limit: Redis unavailable (%s); each api process limits on "
                    "its own for %.0f s",
                    type(exc).__name__,
                    _FALLBACK_SECONDS,
                )
                for key, futures in pending.items():
                    for future in futures:
                        if not future.done():
                            future.set_result(self.local.take(key))
                continue
            until = time.monotonic() + LEASE_SECONDS
            for key, answer in zip(keys, answers, strict=True):
                granted_text, wait_text = answer.split()
                granted, wait = int(granted_text), float(wait_text)
                for future in pending[key]:
                    if future.done():
                        continue
                    if granted > 0:
                        granted -= 1
                        future.set_result(0.0)
                    else:
                        future.set_result(max(wait, 1.0 / self.rate))
                self._leases[key] = (granted, until)
