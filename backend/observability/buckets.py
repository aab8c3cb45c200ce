"""Per-integration counters kept as per-minute buckets in PostgreSQL.

Increments land in a per-process dict (no I/O on the hot path) and a flusher writes the
whole dict once a second with one upsert, so a thousand deliveries a second cost a few
rows a minute. Counting is exact: the event loop is single-threaded, a flush swaps the
dict before writing, and a failed write puts its counts back for the next flush.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import logging
import time
import uuid

from backend.lib.db import pool

log = logging.getLogger("switchboard.metrics")

FLUSH_SECONDS = 1.0
# Latency histograms are counters whose reason is the bucket's upper bound: percentiles
# are read back to the nearest bound, which is what a dashboard needs.
LATENCY_BOUNDS_MS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)
_LATENCY_REASONS = (*(f"le_{b}" for b in LATENCY_BOUNDS_MS), "le_inf")
# Counts a flush could not write are kept for the next one, up to this many keys.
_MAX_PENDING_KEYS = 100_000

# tenant, integration, minute (unix seconds // 60), name, reason
Key = tuple[uuid.UUID, uuid.UUID, int, str, str]

_UPSERT = """
INSERT INTO integration_metric (tenant, integration, bucket_start, name, reason, value)
SELECT u.tenant, u.integration, u.bucket_start, u.name, u.reason, u.value
FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::bigint[])
     AS u(tenant, integration, bucket_start, name, reason, value)
WHERE EXISTS (SELECT 1 FROM integration i WHERE i.id = u.integration AND i.tenant = u.tenant)
ON CONFLICT (integration, bucket_start, name, reason)
DO UPDATE SET value = integration_metric.value + EXCLUDED.value
"""


def latency_reason(ms: float) -> str:
    """The histogram bucket (as a reason) a latency falls in."""
    index = bisect.bisect_left(LATENCY_BOUNDS_MS, ms)
    return _LATENCY_REASONS[index]


def bound_of(reason: str) -> float:
    """The upper bound a latency reason stands for (inf for the overflow bucket)."""
    tail = reason.removeprefix("le_")
    return float("inf") if tail == "inf" else float(tail)


class MetricBuffer:
    """Counts waiting to be written; one per process (`BUFFER`)."""

    def __init__(self) -> None:
        self._counts: dict[Key, int] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def add(
        self,
        tenant_id: uuid.UUID,
        integration_id: uuid.UUID,
        name: str,
        reason: str = "",
        by: int = 1,
    ) -> None:
        key = (tenant_id, integration_id, int(time.time()) // 60, name, reason)
        self._counts[key] = self._counts.get(key, 0) + by
        self._schedule()

    def observe_ms(
        self, tenant_id: uuid.UUID, integration_id: uuid.UUID, name: str, ms: float
    ) -> None:
        self.add(tenant_id, integration_id, name, latency_reason(ms))

    def add_timed(
        self,
        tenant_id: uuid.UUID,
        integration_id: uuid.UUID,
        name: str,
        reason: str,
        latency_name: str,
        ms: float,
    ) -> None:
        """`add` and `observe_ms` at once, for the webhook hot path (one clock read)."""
        minute = int(time.time()) // 60
        counts = self._counts
        key = (tenant_id, integration_id, minute, name, reason)
        counts[key] = counts.get(key, 0) + 1
        key = (tenant_id, integration_id, minute, latency_name, latency_reason(ms))
        counts[key] = counts.get(key, 0) + 1
        self._schedule()

    def pending(self) -> int:
        return sum(self._counts.values())

    def _schedule(self) -> None:
        """Start the once-a-second flusher in the running loop (a new loop, e.g. the next
        test's, gets its own)."""
        if self._flusher is not None and not self._flusher.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a script): the caller flushes
        self._loop = loop
        self._flusher = loop.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(FLUSH_SECONDS)
        await self.flush()

    async def flush(self) -> int:
        """Write every pending count with one statement; returns how many keys it wrote."""
        if not self._counts:
            return 0
        counts, self._counts = self._counts, {}
        columns: tuple[list[object], ...] = ([], [], [], [], [], [])
        for (tenant, integration, minute, name, reason), count in counts.items():
            for column, value in zip(
                columns,
                (
                    tenant,
                    integration,
                    dt.datetime.fromtimestamp(minute * 60, dt.UTC),
                    name,
                    reason,
                    count,
                ),
                strict=True,
            ):
                column.append(value)
        try:
            await pool().execute(_UPSERT, *columns)
        except BaseException as exc:
            # Cancelled (shutdown) or failed: the counts stay for the next flush.
            self._restore(counts)
            if not isinstance(exc, Exception):
                raise
            log.warning("could not write %d metric buckets; kept for the next flush", len(counts))
            return 0
        return len(counts)

    def _restore(self, counts: dict[Key, int]) -> None:
        for key, count in counts.items():
            if len(self._counts) >= _MAX_PENDING_KEYS and key not in self._counts:
                break
            self._counts[key] = self._counts.get(key, 0) + count

    async def close(self) -> None:
        """Stop the flusher and write what is left (shutdown)."""
        flusher = self._flusher
        if flusher is not None and not flusher.done() and self._loop is asyncio.get_running_loop():
            flusher.cancel()
        self._flusher = None
        await self.flush()


BUFFER = MetricBuffer()
