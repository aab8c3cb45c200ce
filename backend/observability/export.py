"""The process's counters as OpenTelemetry metrics, scraped as Prometheus text.

Counters are observable: the hot path only bumps a dict entry (`TOTALS`), and the SDK
reads the dict when a reader collects (a scrape of GET /metrics), so an unscraped process
pays nothing for the SDK. Provider-call latency is an SDK histogram. Ingest latency is
not: the SDK's `Histogram.record` measured 14 µs a call on the 2-core box (about 4% of a
delivery's app CPU), so ingest keeps its own bucket counts (under 1 µs) and a collector
renders them as a Prometheus histogram beside the SDK's. Labels are connector, outcome and
reason only: per-integration and per-tenant figures live in PostgreSQL (buckets.py), where
their cardinality costs nothing.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Iterator

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector

from backend.lib.db import pool
from backend.observability.buckets import LATENCY_BOUNDS_MS

# (family, connector, outcome, reason) -> count since the process started.
TOTALS: Counter[tuple[str, str, str, str]] = Counter()
# (connector, "expired" | "within_24h") -> integrations, read from PostgreSQL per scrape.
TOKEN_EXPIRY: dict[tuple[str, str], int] = {}
_TOKEN_EXPIRY_SQL = """
SELECT connector,
       count(*) FILTER (WHERE token_expires_at <= now()) AS expired,
       count(*) FILTER (WHERE token_expires_at > now()
                        AND token_expires_at <= now() + interval '24 hours') AS within_24h
FROM integration
WHERE revoked_at IS NULL AND token_expires_at IS NOT NULL
GROUP BY connector
"""

# family -> (instrument name, description)
FAMILIES = {
    "webhooks": ("switchboard.webhooks", "Webhook deliveries by outcome and reason"),
    "events": ("switchboard.events", "Stored events normalized (processed) or failed"),
    "provider_calls": ("switchboard.provider.calls", "Provider API calls by status class"),
    "provider_errors": ("switchboard.provider.errors", "Failed provider API calls by kind"),
    "actions": ("switchboard.actions", "Action runs finished"),
}


def _observer(family: str) -> object:
    def observe(options: CallbackOptions) -> Iterable[Observation]:
        del options
        return [
            Observation(count, {"connector": connector, "outcome": outcome, "reason": reason})
            for (name, connector, outcome, reason), count in list(TOTALS.items())
            if name == family
        ]

    return observe


def _observe_token_expiry(options: CallbackOptions) -> Iterable[Observation]:
    del options
    return [
        Observation(count, {"connector": connector, "state": state})
        for (connector, state), count in list(TOKEN_EXPIRY.items())
    ]


async def refresh_token_expiry() -> None:
    """Count integrations whose access token expired or expires within 24 h, per
    connector (all tenants: an operator's figure), for the next collection."""
    rows = await pool().fetch(_TOKEN_EXPIRY_SQL)
    TOKEN_EXPIRY.clear()
    for row in rows:
        TOKEN_EXPIRY[row["connector"], "expired"] = row["expired"]
        TOKEN_EXPIRY[row["connector"], "within_24h"] = row["within_24h"]


class IngestLatency(Collector):
    """Ingest time per connector in the buckets of LATENCY_BOUNDS_MS, counted in place."""

    def __init__(self) -> None:
        self._counts: dict[str, list[int]] = {}
        self._sums: dict[str, float] = {}

    def observe(self, connector: str, ms: float) -> None:
        counts = self._counts.get(connector)
        if counts is None:
            counts = self._counts[connector] = [0] * (len(LATENCY_BOUNDS_MS) + 1)
            self._sums[connector] = 0.0
        counts[bisect.bisect_left(LATENCY_BOUNDS_MS, ms)] += 1
        self._sums[connector] += ms

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(
            "switchboard_ingest_duration_milliseconds",
            "Webhook ingest time, verification to answer",
            labels=["connector"],
            unit="milliseconds",
        )
        for connector, counts in list(self._counts.items()):
            cumulative, buckets = 0, []
            for bound, count in zip((*LATENCY_BOUNDS_MS, "+Inf"), counts, strict=True):
                cumulative += count
                buckets.append((str(bound), float(cumulative)))
            family.add_metric([connector], buckets, sum_value=self._sums[connector])
        yield family


class PrometheusExport:
    """A meter provider whose reader registers into its own registry (so a second app in
    one process, as in tests, does not collide with the first)."""

    def __init__(self, service_name: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reader = PrometheusMetricReader(registry=self.registry)
        self.provider = MeterProvider(
            metric_readers=[reader], resource=Resource.create({"service.name": service_name})
        )
        meter = self.provider.get_meter("switchboard")
        for family, (name, description) in FAMILIES.items():
            meter.create_observable_counter(
                name,
                callbacks=[_observer(family)],  # type: ignore[list-item]
                unit="1",
                description=description,
            )
        meter.create_observable_gauge(
            "switchboard.tokens.expiring",
            callbacks=[_observe_token_expiry],
            unit="1",
            description="Integrations whose access token expired or expires within 24 h",
        )
        bounds = [float(b) for b in LATENCY_BOUNDS_MS]
        self.ingest_latency = IngestLatency()
        self.registry.register(self.ingest_latency)
        self.provider_latency = meter.create_histogram(
            "switchboard.provider.duration",
            unit="ms",
            description="Provider API call time",
            explicit_bucket_boundaries_advisory=bounds,
        )

    def render(self) -> bytes:
        """The Prometheus text exposition of every instrument."""
        return generate_latest(self.registry)


_export: PrometheusExport | None = None


def export(service_name: str = "switchboard") -> PrometheusExport:
    """The process's export (created once)."""
    global _export
    if _export is None:
        _export = PrometheusExport(service_name)
    return _export
