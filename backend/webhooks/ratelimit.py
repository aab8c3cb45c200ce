"""Per-integration token bucket, in process: no network round trip on the hot path.

Each api process enforces the limit on its own share of traffic; with N processes the
effective ceiling is up to N times the setting (documented in the README).
"""

from __future__ import annotations

import time
import uuid


class TokenBuckets:
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
