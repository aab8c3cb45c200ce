"""The tenant overview: integrations by health (assessed from evidence, as the alert rules
see it), events and errors over the last 24 h, and the open alerts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import reflex as rx

from dashboard.client import (
    ApiError,
    Integration,
    IntegrationHealth,
    MetricCounters,
    MetricsSummary,
    SwitchboardClient,
)
from dashboard.state.alerts import AlertRow, alert_row
from dashboard.state.session import AuthState, ProblemMixin

HEALTH_STATES = ["healthy", "degraded", "failing", "needs_reauth"]
INTEGRATIONS_LIMIT = 200
# Evidence health is one call per integration; past this many the stored check is shown.
ASSESS_AT_MOST = 50
ALERTS_SHOWN = 5


@dataclass
class HealthGroup:
    state: str = ""
    count: int = 0


@dataclass
class OverviewRow:
    id: str = ""
    name: str = ""
    connector_id: str = ""
    state: str = ""
    reason: str = ""
    events: int = 0
    errors: int = 0


def events_of(counters: MetricCounters) -> int:
    """Events: deliveries the api accepted and stored."""
    return int(counters.get("webhooks_accepted", 0) or 0)


def errors_of(counters: MetricCounters) -> int:
    """Errors: events that failed to process plus provider calls that failed."""
    return int(counters.get("events_failed", 0) or 0) + int(counters.get("api_errors", 0) or 0)


def chart_points(summary: MetricsSummary) -> list[dict[str, Any]]:
    """One point per hour for the chart: its start (HH:MM, UTC), events, errors."""
    points = []
    for point in summary.get("series") or []:
        at = str(point.get("at") or "")
        points.append(
            {"at": at[11:16] or at, "events": events_of(point), "errors": errors_of(point)}
        )
    return points


def stored_state(integration: Integration) -> str:
    """A health state from the stored check alone (when the evidence is not asked for)."""
    status = integration.get("status")
    health = (integration.get("health") or {}).get("status") or "unknown"
    if status == "needs_reauth" or health == "auth_failed":
        return "needs_reauth"
    if health in ("healthy", "unknown"):
        return "healthy"
    if health in ("rate_limited", "bad_request"):
        return "degraded"
    return "failing"


def overview_rows(
    integrations: list[Integration],
    assessed: dict[str, IntegrationHealth],
    summary: MetricsSummary,
) -> list[OverviewRow]:
    """Worst first, then by name."""
    totals = {t["integration_id"]: t["totals"] for t in summary.get("integrations") or []}
    rows = []
    for integration in integrations:
        integration_id = str(integration.get("id", ""))
        health = assessed.get(integration_id)
        if health is not None:
            reasons = health.get("reasons") or []
            state = str(health.get("state") or "healthy")
            reason = str(reasons[0]["message"]) if reasons else ""
        else:
            state = stored_state(integration)
            reason = str((integration.get("health") or {}).get("reason") or "")
        counters = totals.get(integration_id, {})
        rows.append(
            OverviewRow(
                id=integration_id,
                name=str(integration.get("name") or ""),
                connector_id=str(integration.get("connector_id") or ""),
                state=state,
                reason=reason,
                events=events_of(counters),
                errors=errors_of(counters),
            )
        )
    order = {state: i for i, state in enumerate(reversed(HEALTH_STATES))}
    rows.sort(key=lambda r: (order.get(r.state, len(order)), r.name.lower()))
    return rows


def health_groups(rows: list[OverviewRow]) -> list[HealthGroup]:
    return [HealthGroup(state, sum(1 for r in rows if r.state == state)) for state in HEALTH_STATES]


async def assess_all(
    api: SwitchboardClient, integrations: list[Integration]
) -> dict[str, IntegrationHealth]:
    """Evidence health of the first ASSESS_AT_MOST integrations, asked concurrently."""
    ids = [str(i.get("id", "")) for i in integrations[:ASSESS_AT_MOST]]
    answers = await asyncio.gather(
        *(api.get_integration_health(i) for i in ids), return_exceptions=True
    )
    found: dict[str, IntegrationHealth] = {}
    for integration_id, answer in zip(ids, answers, strict=True):
        if isinstance(answer, ApiError) and answer.unauthorized:
            raise answer
        if isinstance(answer, dict):
            found[integration_id] = answer
    return found


class OverviewState(ProblemMixin, AuthState):
    rows: list[OverviewRow] = []
    groups: list[HealthGroup] = []
    chart: list[dict[str, Any]] = []
    events_24h: int = 0
    errors_24h: int = 0
    open_alerts: list[AlertRow] = []
    open_alert_count: str = "0"
    loading: bool = False
    loaded: bool = False

    @rx.event
    async def load(self):
        async def call(api: SwitchboardClient) -> None:
            page = await api.list_integrations(limit=INTEGRATIONS_LIMIT)
            integrations = [i for i in page["items"] if i.get("status") != "revoked"]
            assessed = await assess_all(api, integrations)
            summary = await api.get_metrics_summary(window="24h")
            alerts = await api.list_alerts(status="open", limit=ALERTS_SHOWN)
            names = {str(i.get("id")): str(i.get("name") or "") for i in page["items"]}
            self.rows = overview_rows(integrations, assessed, summary)
            self.groups = health_groups(self.rows)
            self.chart = chart_points(summary)
            self.events_24h = events_of(summary.get("totals") or {})
            self.errors_24h = errors_of(summary.get("totals") or {})
            self.open_alerts = [alert_row(a, names) for a in alerts["items"]]
            shown = len(self.open_alerts)
            self.open_alert_count = f"{shown}+" if alerts.get("next_cursor") else str(shown)
            self.loaded = True

        async for update in self._api_load(call):
            yield update
