"""Reading metric buckets back: totals, a series and percentiles over a window.

Always scoped to a tenant (and an integration when asked); the buckets are summed in
PostgreSQL per step, so a 7-day window reads at most a few hundred grouped rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from backend.lib.db import pool
from backend.observability.buckets import bound_of
from backend.observability.schemas import (
    IntegrationMetrics,
    IntegrationTotals,
    LatencyPercentiles,
    MetricCounters,
    MetricPoint,
    MetricsSummary,
    MetricWindow,
)

# window -> (step, number of steps)
WINDOWS: dict[str, tuple[dt.timedelta, int]] = {
    "1h": (dt.timedelta(minutes=5), 12),
    "24h": (dt.timedelta(hours=1), 24),
    "7d": (dt.timedelta(hours=6), 28),
}
_COUNTERS = tuple(MetricCounters.__struct_fields__)
_RECEIVED_FROM = ("webhooks_accepted", "webhooks_rejected", "webhooks_duplicate")
_LATENCIES = {"ingest_ms": "ingest", "provider_ms": "provider"}

_GROUPED = """
SELECT date_bin($3::interval, bucket_start, $4::timestamptz) AS at, integration, name, reason,
       sum(value)::bigint AS count
FROM integration_metric
WHERE tenant = $1 AND bucket_start >= $4 AND ($2::uuid IS NULL OR integration = $2)
GROUP BY 1, 2, 3, 4
"""


def window_start(window: str, now: dt.datetime) -> dt.datetime:
    """The first step's start: the current step is the last one, partial."""
    step, steps = WINDOWS[window]
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    current = epoch + ((now - epoch) // step) * step
    return current - step * (steps - 1)


def _add(counters: dict[str, int], name: str, count: int) -> None:
    if name in counters:
        counters[name] += count
        if name in _RECEIVED_FROM:
            counters["webhooks_received"] += count


def _percentile(histogram: dict[str, int], share: float) -> float | None:
    total = sum(histogram.values())
    if not total:
        return None
    seen = 0
    for reason, count in sorted(histogram.items(), key=lambda item: bound_of(item[0])):
        seen += count
        if seen >= share * total:
            bound = bound_of(reason)
            return bound if bound != float("inf") else None
    return None


class _Tally:
    """Grouped rows folded into totals, per-step points, per-integration totals."""

    def __init__(self, start: dt.datetime, step: dt.timedelta, steps: int) -> None:
        self.totals = dict.fromkeys(_COUNTERS, 0)
        self.points = {start + step * i: dict.fromkeys(_COUNTERS, 0) for i in range(steps)}
        self.per_integration: dict[uuid.UUID, dict[str, int]] = {}
        self.breakdown: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.histograms: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def fold(self, row: Any) -> None:
        name, reason, count = row["name"], row["reason"], row["count"]
        if name in _LATENCIES:
            self.histograms[name][reason] += count
            return
        _add(self.totals, name, count)
        point = self.points.get(row["at"])
        if point is not None:
            _add(point, name, count)
        integration = self.per_integration.setdefault(
            row["integration"], dict.fromkeys(_COUNTERS, 0)
        )
        _add(integration, name, count)
        if reason:
            self.breakdown[name][reason] += count

    def latency(self) -> LatencyPercentiles:
        ingest, provider = self.histograms["ingest_ms"], self.histograms["provider_ms"]
        return LatencyPercentiles(
            ingest_p50=_percentile(ingest, 0.5),
            ingest_p99=_percentile(ingest, 0.99),
            provider_p50=_percentile(provider, 0.5),
            provider_p99=_percentile(provider, 0.99),
        )

    def series(self) -> list[MetricPoint]:
        return [MetricPoint(at=at, **counters) for at, counters in sorted(self.points.items())]

    def reasons(self) -> dict[str, dict[str, int]]:
        return {name: dict(reasons) for name, reasons in self.breakdown.items()}


async def _tally(
    tenant_id: uuid.UUID, integration_id: uuid.UUID | None, window: str, now: dt.datetime
) -> _Tally:
    step, steps = WINDOWS[window]
    start = window_start(window, now)
    tally = _Tally(start, step, steps)
    for row in await pool().fetch(_GROUPED, tenant_id, integration_id, step, start):
        tally.fold(row)
    return tally


async def integration_metrics(
    tenant_id: uuid.UUID, integration_id: uuid.UUID, window: MetricWindow, now: dt.datetime
) -> IntegrationMetrics:
    tally = await _tally(tenant_id, integration_id, window, now)
    return IntegrationMetrics(
        window=window,
        totals=MetricCounters(**tally.totals),
        latency_ms=tally.latency(),
        series=tally.series(),
        breakdown=tally.reasons(),
    )


async def tenant_summary(
    tenant_id: uuid.UUID, window: MetricWindow, now: dt.datetime
) -> MetricsSummary:
    tally = await _tally(tenant_id, None, window, now)
    return MetricsSummary(
        window=window,
        totals=MetricCounters(**tally.totals),
        latency_ms=tally.latency(),
        series=tally.series(),
        breakdown=tally.reasons(),
        integrations=[
            IntegrationTotals(integration_id=str(key), totals=MetricCounters(**counters))
            for key, counters in sorted(tally.per_integration.items(), key=lambda kv: str(kv[0]))
        ],
    )
