"""The metrics panel: an integration's counters over 1 h / 24 h / 7 d (`GET …/metrics`) as
chart rows, its totals and its latency percentiles, refreshed while the panel is on screen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from dashboard.client import IntegrationMetrics
from dashboard.state.integration_panel import PanelState, short_time
from dashboard.state.session import AuthState, ProblemMixin

LIVE_NAME = "integration-metrics"
INTERVAL_SECONDS = 3.0
WINDOWS = ["1h", "24h", "7d"]
# What the charts plot, per point of the series (the api's counter names).
SERIES_KEYS = [
    "webhooks_received",
    "webhooks_rejected",
    "events_processed",
    "events_failed",
    "api_calls",
    "api_errors",
    "rate_limited",
    "records_synced",
]
TOTAL_KEYS = [
    ("events_processed", "Events processed"),
    ("events_failed", "Events failed"),
    ("webhooks_rejected", "Webhooks rejected"),
    ("api_errors", "Provider errors"),
    ("records_synced", "Records synced"),
    ("actions", "Actions"),
]
LATENCY_KEYS = [
    ("ingest_p50", "ingest p50"),
    ("ingest_p99", "ingest p99"),
    ("provider_p50", "provider p50"),
    ("provider_p99", "provider p99"),
]


@dataclass
class TotalTile:
    key: str
    label: str
    value: int


def chart_rows(metrics: IntegrationMetrics) -> list[dict[str, Any]]:
    """One row per step of the window: its label and the plotted counters (zeros kept)."""
    rows: list[dict[str, Any]] = []
    for point in metrics.get("series") or []:
        row: dict[str, Any] = {"at": short_time(str(point.get("at") or ""))}
        for key in SERIES_KEYS:
            row[key] = int(point.get(key) or 0)  # type: ignore[call-overload]
        rows.append(row)
    return rows


def latency_rows(metrics: IntegrationMetrics) -> list[dict[str, Any]]:
    """Percentiles as bars; a percentile without samples is left out rather than drawn as 0."""
    latency: dict[str, Any] = dict(metrics.get("latency_ms") or {})
    return [
        {"name": label, "ms": float(latency[key])}
        for key, label in LATENCY_KEYS
        if latency.get(key) is not None
    ]


def total_tiles(metrics: IntegrationMetrics) -> list[TotalTile]:
    totals: dict[str, Any] = dict(metrics.get("totals") or {})
    return [TotalTile(key, label, int(totals.get(key) or 0)) for key, label in TOTAL_KEYS]


class MetricsPanelState(PanelState, ProblemMixin, AuthState):
    window: str = "1h"
    series: list[dict[str, Any]] = []
    latency: list[dict[str, Any]] = []
    totals: list[TotalTile] = []

    @rx.var
    def has_latency(self) -> bool:
        return len(self.latency) > 0

    async def _refresh(self) -> bool:
        async with self:
            window = self.window

        async def call(api, integration_id):  # type: ignore[no-untyped-def]
            return await api.get_integration_metrics(integration_id, window=window)

        ok, metrics = await self._call_live(call)
        if ok:
            async with self:
                if self.window == window:  # a window chosen meanwhile: its own answer wins
                    self.series = chart_rows(metrics)
                    self.latency = latency_rows(metrics)
                    self.totals = total_tiles(metrics)
                self.panel_loading = False
        return True

    @rx.event(background=True)
    async def start(self):
        def forget() -> None:
            self.series, self.latency, self.totals = [], [], []

        return await self._start_panel(LIVE_NAME, self._refresh, INTERVAL_SECONDS, forget)

    @rx.event(background=True)
    async def stop(self):
        self._stop_panel_loop(LIVE_NAME)

    @rx.event(background=True)
    async def choose_window(self, window: str):
        if window not in WINDOWS:
            return
        async with self:
            self.window = window
            self.panel_loading = True
        await self._refresh()
