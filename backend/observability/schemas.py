"""Wire types of the metrics API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

MetricWindow = Literal["1h", "24h", "7d"]


class MetricCounters(msgspec.Struct, kw_only=True):
    """What happened in a span of time. `webhooks_received` is accepted + rejected +
    duplicate; `rate_limited` counts provider answers that asked us to slow down."""

    webhooks_received: int = 0
    webhooks_accepted: int = 0
    webhooks_rejected: int = 0
    webhooks_duplicate: int = 0
    events_processed: int = 0
    events_failed: int = 0
    api_calls: int = 0
    api_errors: int = 0
    rate_limited: int = 0
    sync_jobs: int = 0
    records_synced: int = 0
    actions: int = 0


class MetricPoint(MetricCounters, kw_only=True):
    """The counters of one step of the window, starting `at`."""

    at: dt.datetime


class LatencyPercentiles(msgspec.Struct, kw_only=True):
    """Percentiles in milliseconds, to the upper bound of the histogram bucket they fall
    in; null without samples in the window."""

    ingest_p50: float | None = None
    ingest_p99: float | None = None
    provider_p50: float | None = None
    provider_p99: float | None = None


class IntegrationMetrics(msgspec.Struct, kw_only=True):
    """One integration's counters over a window: totals, latencies, one point per step
    (5 min for 1h, 1 h for 24h, 6 h for 7d), and the reasons behind the split counters
    (rejections by reason, calls by status class, errors by kind)."""

    window: MetricWindow
    totals: MetricCounters
    latency_ms: LatencyPercentiles
    series: list[MetricPoint]
    breakdown: dict[str, dict[str, int]]


class IntegrationTotals(msgspec.Struct, kw_only=True):
    integration_id: str
    totals: MetricCounters


class MetricsSummary(msgspec.Struct, kw_only=True):
    """The tenant's counters over a window, summed and per integration (those with any
    activity in the window)."""

    window: MetricWindow
    totals: MetricCounters
    latency_ms: LatencyPercentiles
    series: list[MetricPoint]
    breakdown: dict[str, dict[str, int]]
    integrations: list[IntegrationTotals]


HealthState = Literal["healthy", "degraded", "failing", "needs_reauth"]
AlertStatus = Literal["open", "resolved"]


class HealthReason(msgspec.Struct, kw_only=True):
    """One finding: `code` is stable (alert rules act on it), `message` is for people."""

    code: str
    message: str


class IntegrationHealth(msgspec.Struct, kw_only=True):
    """Health from evidence: the worst finding's state, and every finding behind it."""

    state: HealthState
    reasons: list[HealthReason]
    assessed_at: dt.datetime


class AlertEntry(msgspec.Struct, kw_only=True):
    id: str
    integration_id: str
    kind: str
    severity: str
    status: AlertStatus
    message: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None
    acknowledged_at: dt.datetime | None


class AlertPage(msgspec.Struct, kw_only=True):
    items: list[AlertEntry]
    next_cursor: str | None
