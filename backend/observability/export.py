"""The process's counters as OpenTelemetry metrics, scraped as Prometheus text.

Counters are observable: the hot path only bumps a dict entry (`TOTALS`), and the SDK
reads the dict when a reader collects (a scrape of GET /metrics), so an unscraped process
pays nothing for the SDK. Latencies are SDK histograms. Labels are connector, outcome and
reason only: per-integration and per-tenant figures live in PostgreSQL (buckets.py), where
their cardinality costs nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, generate_latest

from backend.observability.buckets import LATENCY_BOUNDS_MS

# (family, connector, outcome, reason) -> count since the process started.
TOTALS: Counter[tuple[str, str, str, str]] = Counter()

# family -> (instrument name, description)
FAMILIES = {
    "webhooks": ("switchboard.webhooks", "Webhook deliveries by outcome and reason"),
    "events": ("switchboard.events", "Stored events normalized (processed) or failed"),
    "provider_calls": ("switchboard.provider.calls", "Provider API calls by status class"),
    "provider_errors": ("switchboard.provider.errors", "Failed provider API calls by kind"),
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
        bounds = [float(b) for b in LATENCY_BOUNDS_MS]
        self.ingest_latency = meter.create_histogram(
            "switchboard.ingest.duration",
            unit="ms",
            description="Webhook ingest time, verification to answer",
            explicit_bucket_boundaries_advisory=bounds,
        )
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
