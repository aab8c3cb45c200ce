"""A Redis lock held by one process at a time, released only by its holder.

`SET key token NX PX ttl` takes it; a Lua compare-and-delete releases it, so a holder whose
lock expired cannot delete the next holder's lock. Used to let exactly one process refresh
an integration's token: a rotating provider invalidates the old refresh token on first use,
so two concurrent refreshes would lose the grant.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from typing import Any

# Delete the key only when it still holds our token.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class LockTimeout(Exception):
    """The lock stayed taken longer than the caller was willing to wait."""


class RedisLock:
    """One named lock; `ttl` bounds how long a crashed holder can block everyone else."""

    def __init__(self, redis: Any, key: str, *, ttl: float = 60.0) -> None:
        self.redis = redis
        self.key = key
        self.ttl_ms = int(ttl * 1000)
        self.token = secrets.token_hex(16)
        self.held = False

    async def try_acquire(self) -> bool:
        self.held = bool(await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms))
        return self.held

    async def release(self) -> bool:
        """True when we still held it; False when it had expired (and maybe moved on)."""
        if not self.held:
            return False
        self.held = False
        return bool(await self.redis.eval(_RELEASE, 1, self.key, self.token))

    async def is_taken(self) -> bool:
        return bool(await self.redis.exists(self.key))

    async def wait_until_free(self, deadline: float, poll: float = 0.05) -> None:
        """Sleep until nobody holds the lock (monotonic `deadline`, else LockTimeout)."""
        while await self.is_taken():
            if time.monotonic() >= deadline:
                raise LockTimeout(self.key)
            # Jitter keeps a crowd of waiters from polling in lockstep.
            await asyncio.sleep(poll * (0.5 + random.random()))
